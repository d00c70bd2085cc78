"""oidc tables

Revision ID: 0001
Revises:
Create Date: 2026-11-29 16:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oidc_clients",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("grant_types", sa.JSON(), nullable=False),
        sa.Column("response_types", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("token_endpoint_auth_method", sa.String(length=32), nullable=False),
        sa.Column("jwks", sa.JSON(), nullable=True),
        sa.Column("id_token_signed_response_alg", sa.String(length=8), nullable=False),
        sa.Column("subject_type", sa.String(length=8), nullable=False),
        sa.Column("sector_identifier_uri", sa.Text(), nullable=True),
        sa.Column("dpop_bound_access_tokens", sa.Boolean(), nullable=False),
        sa.Column("may_introspect", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_oidc_clients")),
    )
    op.create_table(
        "oidc_signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=8), nullable=False),
        sa.Column("pem", sa.LargeBinary(), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retire_after", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_oidc_signing_keys")),
    )
    with op.batch_alter_table("oidc_signing_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_signing_keys_state"), ["state"], unique=False)

    op.create_table(
        "oidc_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_clients.client_id"],
            name=op.f("fk_oidc_tokens_client_id_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oidc_tokens")),
    )
    with op.batch_alter_table("oidc_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_tokens_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oidc_tokens_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "oidc_used_assertions",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("jti", sa.String(length=256), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "jti", name=op.f("pk_oidc_used_assertions")),
    )
    with op.batch_alter_table("oidc_used_assertions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oidc_used_assertions_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "oidc_api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_oidc_api_tokens_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_oidc_api_tokens_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("oidc_api_tokens")
    with op.batch_alter_table("oidc_used_assertions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_used_assertions_expires_at"))
    op.drop_table("oidc_used_assertions")
    with op.batch_alter_table("oidc_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_tokens_expires_at"))
        batch_op.drop_index(batch_op.f("ix_oidc_tokens_client_id"))
    op.drop_table("oidc_tokens")
    with op.batch_alter_table("oidc_signing_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_signing_keys_state"))
    op.drop_table("oidc_signing_keys")
    op.drop_table("oidc_clients")
