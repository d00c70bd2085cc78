"""passkeys (WebAuthn): user handles, credentials, pending challenges

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 16:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authn_passkey_users",
        sa.Column("nin", sa.String(length=32), nullable=False),
        sa.Column("user_handle", sa.LargeBinary(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["nin"],
            ["authn_accounts.nin"],
            name=op.f("fk_authn_passkey_users_nin_authn_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("nin", name=op.f("pk_authn_passkey_users")),
        sa.UniqueConstraint("user_handle", name=op.f("uq_authn_passkey_users_user_handle")),
    )
    op.create_table(
        "authn_passkeys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nin", sa.String(length=32), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("transports", sa.JSON(), nullable=False),
        sa.Column("aaguid", sa.String(length=36), nullable=False),
        sa.Column("backup_eligible", sa.Boolean(), nullable=False),
        sa.Column("backed_up", sa.Boolean(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["nin"],
            ["authn_accounts.nin"],
            name=op.f("fk_authn_passkeys_nin_authn_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authn_passkeys")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_authn_passkeys_credential_id")),
    )
    with op.batch_alter_table("authn_passkeys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_authn_passkeys_nin"), ["nin"], unique=False)

    op.create_table(
        "authn_passkey_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_hash", sa.String(length=64), nullable=False),
        sa.Column("ceremony", sa.String(length=16), nullable=False),
        sa.Column("nin", sa.String(length=32), nullable=True),
        sa.Column("binding_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authn_passkey_challenges")),
        sa.UniqueConstraint(
            "challenge_hash", name=op.f("uq_authn_passkey_challenges_challenge_hash")
        ),
    )
    with op.batch_alter_table("authn_passkey_challenges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_authn_passkey_challenges_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_authn_passkey_challenges_nin"), ["nin"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("authn_passkey_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authn_passkey_challenges_nin"))
        batch_op.drop_index(batch_op.f("ix_authn_passkey_challenges_expires_at"))

    op.drop_table("authn_passkey_challenges")
    with op.batch_alter_table("authn_passkeys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authn_passkeys_nin"))

    op.drop_table("authn_passkeys")
    op.drop_table("authn_passkey_users")
