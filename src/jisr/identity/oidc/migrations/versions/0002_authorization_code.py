"""authorization code flow: grants, consents, pending requests, client metadata

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("oidc_clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("userinfo_signed_response_alg", sa.String(length=8), nullable=True)
        )
        batch_op.add_column(sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=True))

    op.create_table(
        "oidc_grants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        sa.Column("code_challenge_method", sa.String(length=8), nullable=True),
        sa.Column("nonce", sa.Text(), nullable=True),
        sa.Column("nin", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("acr", sa.String(length=16), nullable=False),
        sa.Column("amr", sa.JSON(), nullable=False),
        sa.Column("auth_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_clients.client_id"],
            name=op.f("fk_oidc_grants_client_id_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_grants")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_oidc_grants_code_hash")),
    )
    with op.batch_alter_table("oidc_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_grants_client_id"), ["client_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_oidc_grants_code_expires_at"), ["code_expires_at"], unique=False
        )

    with op.batch_alter_table("oidc_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grant_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_oidc_tokens_grant_id_oidc_grants"),
            "oidc_grants",
            ["grant_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_oidc_tokens_grant_id"), ["grant_id"], unique=False)

    op.create_table(
        "oidc_authorization_requests",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("fresh_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_clients.client_id"],
            name=op.f("fk_oidc_authorization_requests_client_id_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_oidc_authorization_requests")),
    )
    with op.batch_alter_table("oidc_authorization_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oidc_authorization_requests_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "oidc_consents",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("nin", sa.String(length=32), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_clients.client_id"],
            name=op.f("fk_oidc_consents_client_id_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", "nin", name=op.f("pk_oidc_consents")),
    )


def downgrade() -> None:
    op.drop_table("oidc_consents")
    with op.batch_alter_table("oidc_authorization_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_authorization_requests_expires_at"))
    op.drop_table("oidc_authorization_requests")
    with op.batch_alter_table("oidc_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_tokens_grant_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_oidc_tokens_grant_id_oidc_grants"), type_="foreignkey"
        )
        batch_op.drop_column("grant_id")
    with op.batch_alter_table("oidc_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_grants_code_expires_at"))
        batch_op.drop_index(batch_op.f("ix_oidc_grants_client_id"))
    op.drop_table("oidc_grants")
    with op.batch_alter_table("oidc_clients", schema=None) as batch_op:
        batch_op.drop_column("post_logout_redirect_uris")
        batch_op.drop_column("userinfo_signed_response_alg")
