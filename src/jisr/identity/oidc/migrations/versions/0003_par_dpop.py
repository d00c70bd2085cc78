"""pushed authorization requests (RFC 9126) and DPoP (RFC 9449)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("oidc_clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "require_pushed_authorization_requests",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
    with op.batch_alter_table("oidc_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cnf_jkt", sa.String(length=43), nullable=True))
    with op.batch_alter_table("oidc_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dpop_jkt", sa.String(length=43), nullable=True))

    op.create_table(
        "oidc_pushed_requests",
        sa.Column("uri_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_clients.client_id"],
            name=op.f("fk_oidc_pushed_requests_client_id_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uri_hash", name=op.f("pk_oidc_pushed_requests")),
    )
    with op.batch_alter_table("oidc_pushed_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oidc_pushed_requests_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "oidc_dpop_proofs",
        sa.Column("proof_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("proof_hash", name=op.f("pk_oidc_dpop_proofs")),
    )
    with op.batch_alter_table("oidc_dpop_proofs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oidc_dpop_proofs_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("oidc_dpop_proofs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_dpop_proofs_expires_at"))
    op.drop_table("oidc_dpop_proofs")
    with op.batch_alter_table("oidc_pushed_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_pushed_requests_expires_at"))
    op.drop_table("oidc_pushed_requests")
    with op.batch_alter_table("oidc_grants", schema=None) as batch_op:
        batch_op.drop_column("dpop_jkt")
    with op.batch_alter_table("oidc_tokens", schema=None) as batch_op:
        batch_op.drop_column("cnf_jkt")
    with op.batch_alter_table("oidc_clients", schema=None) as batch_op:
        batch_op.drop_column("require_pushed_authorization_requests")
