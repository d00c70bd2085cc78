"""gateway tables

Revision ID: 0001
Revises:
Create Date: 2026-11-29 13:30:44.179486
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
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "client_connections",
        sa.Column("client", sa.String(length=1100), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=True),
        sa.Column("certificate_pem", sa.Text(), nullable=True),
        sa.Column("log_bodies", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("client", name=op.f("pk_client_connections")),
    )
    op.create_table(
        "local_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=1100), nullable=False),
        sa.Column("code", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_groups")),
        sa.UniqueConstraint("owner", "code", name=op.f("uq_local_groups_owner_code")),
    )
    op.create_table(
        "local_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=1100), nullable=False),
        sa.Column("code", sa.String(length=255), nullable=False),
        sa.Column("backend_url", sa.Text(), nullable=False),
        sa.Column("timeout", sa.Float(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("openapi_url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_services")),
        sa.UniqueConstraint("provider", "code", name=op.f("uq_local_services_provider_code")),
    )
    op.create_table(
        "access_rights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=1100), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["local_services.id"],
            name=op.f("fk_access_rights_service_id_local_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_rights")),
        sa.UniqueConstraint(
            "service_id",
            "subject_kind",
            "subject",
            "method",
            "path",
            name=op.f("uq_access_rights_service_id_subject_kind_subject_method_path"),
        ),
    )
    with op.batch_alter_table("access_rights", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_rights_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "local_group_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=1100), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["local_groups.id"],
            name=op.f("fk_local_group_members_group_id_local_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_group_members")),
        sa.UniqueConstraint(
            "group_id", "client", name=op.f("uq_local_group_members_group_id_client")
        ),
    )
    with op.batch_alter_table("local_group_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_local_group_members_group_id"), ["group_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("local_group_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_local_group_members_group_id"))

    op.drop_table("local_group_members")
    with op.batch_alter_table("access_rights", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_rights_service_id"))

    op.drop_table("access_rights")
    op.drop_table("local_services")
    op.drop_table("local_groups")
    op.drop_table("client_connections")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    op.drop_table("api_tokens")
