"""vendor notifications: per-user notify choice, reply-to on emails, digest notices

Revision ID: 0019_vendor_notifications
Revises: 0018_terms_documents
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_vendor_notifications"
down_revision = "0018_terms_documents"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notify", sa.String(length=10), nullable=False,
                                      server_default="off"))
    # Owners heard about refund failures and disputes before: they keep hearing, now of more.
    op.execute("UPDATE users SET notify = 'each' WHERE role = 'owner'")
    with op.batch_alter_table("outbound_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_to", sa.String(length=254), nullable=False,
                                      server_default=""))
    op.create_table(
        "vendor_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("sentence", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("digest_key", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"],
                                name=op.f("fk_vendor_notices_booking_id_bookings")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_vendor_notices_tenant_id_tenants")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_vendor_notices_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_notices")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_vendor_notices_dedupe_key")),
    )
    op.create_index(op.f("ix_vendor_notices_tenant_id"), "vendor_notices", ["tenant_id"])
    op.create_index("ix_vendor_notices_user_pending", "vendor_notices", ["user_id", "digest_key"])


def downgrade():
    op.drop_index("ix_vendor_notices_user_pending", table_name="vendor_notices")
    op.drop_index(op.f("ix_vendor_notices_tenant_id"), table_name="vendor_notices")
    op.drop_table("vendor_notices")
    with op.batch_alter_table("outbound_emails", schema=None) as batch_op:
        batch_op.drop_column("reply_to")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("notify")
