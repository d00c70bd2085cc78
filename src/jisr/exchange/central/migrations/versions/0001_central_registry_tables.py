"""central registry tables

Revision ID: 0001
Revises:
Create Date: 2026-11-29 13:09:01.165858
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
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "federation_partners",
        sa.Column("instance", sa.String(length=255), nullable=False),
        sa.Column("anchor_json", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("instance", name=op.f("pk_federation_partners")),
    )
    op.create_table(
        "global_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_global_groups")),
        sa.UniqueConstraint("code", name=op.f("uq_global_groups_code")),
    )
    op.create_table(
        "globalconf_documents",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_globalconf_documents")),
    )
    op.create_table(
        "member_classes",
        sa.Column("code", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_member_classes")),
    )
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_keys")),
    )
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_class", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=255), nullable=False),
        sa.Column("name_ar", sa.Text(), nullable=False),
        sa.Column("name_fr", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_class"],
            ["member_classes.code"],
            name=op.f("fk_members_member_class_member_classes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("member_class", "code", name=op.f("uq_members_member_class_code")),
    )
    op.create_table(
        "gateways",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=255), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_gateways_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateways")),
        sa.UniqueConstraint("member_id", "code", name=op.f("uq_gateways_member_id_code")),
    )
    with op.batch_alter_table("gateways", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gateways_member_id"), ["member_id"], unique=False)

    op.create_table(
        "subsystems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_subsystems_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsystems")),
        sa.UniqueConstraint("member_id", "code", name=op.f("uq_subsystems_member_id_code")),
    )
    with op.batch_alter_table("subsystems", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subsystems_member_id"), ["member_id"], unique=False)

    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("gateway_id", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["gateway_id"],
            ["gateways.id"],
            name=op.f("fk_certificates_gateway_id_gateways"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_certificates_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_certificates_fingerprint")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificates_gateway_id"), ["gateway_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_certificates_member_id"), ["member_id"], unique=False)

    op.create_table(
        "gateway_clients",
        sa.Column("gateway_id", sa.Integer(), nullable=False),
        sa.Column("subsystem_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["gateway_id"],
            ["gateways.id"],
            name=op.f("fk_gateway_clients_gateway_id_gateways"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subsystem_id"],
            ["subsystems.id"],
            name=op.f("fk_gateway_clients_subsystem_id_subsystems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("gateway_id", "subsystem_id", name=op.f("pk_gateway_clients")),
    )
    with op.batch_alter_table("gateway_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gateway_clients_subsystem_id"), ["subsystem_id"], unique=False
        )

    op.create_table(
        "global_group_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("subsystem_id", sa.Integer(), nullable=True),
        sa.Column("client_key", sa.String(length=1100), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["global_groups.id"],
            name=op.f("fk_global_group_members_group_id_global_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_global_group_members_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subsystem_id"],
            ["subsystems.id"],
            name=op.f("fk_global_group_members_subsystem_id_subsystems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_global_group_members")),
        sa.UniqueConstraint(
            "group_id", "client_key", name=op.f("uq_global_group_members_group_id_client_key")
        ),
    )
    with op.batch_alter_table("global_group_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_global_group_members_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_global_group_members_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_global_group_members_subsystem_id"), ["subsystem_id"], unique=False
        )

    op.create_table(
        "services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subsystem_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=255), nullable=False),
        sa.Column("openapi_url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subsystem_id"],
            ["subsystems.id"],
            name=op.f("fk_services_subsystem_id_subsystems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("subsystem_id", "code", name=op.f("uq_services_subsystem_id_code")),
    )
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_services_subsystem_id"), ["subsystem_id"], unique=False
        )

    op.create_table(
        "csrs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("gateway_id", sa.Integer(), nullable=True),
        sa.Column("csr_pem", sa.Text(), nullable=False),
        sa.Column("public_key_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("certificate_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_csrs_certificate_id_certificates"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["gateway_id"],
            ["gateways.id"],
            name=op.f("fk_csrs_gateway_id_gateways"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_csrs_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csrs")),
    )
    with op.batch_alter_table("csrs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_csrs_gateway_id"), ["gateway_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_csrs_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("csrs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_csrs_member_id"))
        batch_op.drop_index(batch_op.f("ix_csrs_gateway_id"))

    op.drop_table("csrs")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_services_subsystem_id"))

    op.drop_table("services")
    with op.batch_alter_table("global_group_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_global_group_members_subsystem_id"))
        batch_op.drop_index(batch_op.f("ix_global_group_members_member_id"))
        batch_op.drop_index(batch_op.f("ix_global_group_members_group_id"))

    op.drop_table("global_group_members")
    with op.batch_alter_table("gateway_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_clients_subsystem_id"))

    op.drop_table("gateway_clients")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_member_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_gateway_id"))

    op.drop_table("certificates")
    with op.batch_alter_table("subsystems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subsystems_member_id"))

    op.drop_table("subsystems")
    with op.batch_alter_table("gateways", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateways_member_id"))

    op.drop_table("gateways")
    op.drop_table("members")
    op.drop_table("signing_keys")
    op.drop_table("member_classes")
    op.drop_table("globalconf_documents")
    op.drop_table("global_groups")
    op.drop_table("federation_partners")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    op.drop_table("api_tokens")
