"""autopay: mandates (consent + saved card), planned charges per stage, settings, customers

Revision ID: 0021_autopay
Revises: 0020_past_due_reminders
"""
import sqlalchemy as sa
from alembic import op

revision = "0021_autopay"
down_revision = "0020_past_due_reminders"
branch_labels = None
depends_on = None


def _fk(table, column, target):
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade():
    op.create_table(
        "autopay_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("offered", sa.Boolean(), nullable=False),
        sa.Column("retry_days", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _fk("autopay_settings", "tenant_id", "tenants"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopay_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_autopay_settings_tenant_id")),
    )
    op.create_table(
        "stripe_customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("stripe_account", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("stripe_customers", "tenant_id", "tenants"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_customers")),
        sa.UniqueConstraint("tenant_id", "stripe_account", "email",
                            name=op.f("uq_stripe_customers_key")),
    )
    op.create_index(op.f("ix_stripe_customers_tenant_id"), "stripe_customers", ["tenant_id"])
    op.create_table(
        "autopay_mandates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("stripe_account", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("intent_id", sa.String(length=255), nullable=False),
        sa.Column("payment_method_id", sa.String(length=255), nullable=False),
        sa.Column("card_brand", sa.String(length=20), nullable=False),
        sa.Column("card_last4", sa.String(length=4), nullable=False),
        sa.Column("card_exp_month", sa.Integer(), nullable=False),
        sa.Column("card_exp_year", sa.Integer(), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("consented_at", sa.DateTime(), nullable=False),
        sa.Column("switched_off_at", sa.DateTime(), nullable=True),
        sa.Column("switched_off_by", sa.String(length=10), nullable=False),
        sa.Column("expiry_notice_for", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'active', 'off')",
                           name=op.f("ck_autopay_mandates_status")),
        _fk("autopay_mandates", "tenant_id", "tenants"),
        _fk("autopay_mandates", "booking_id", "bookings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopay_mandates")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_autopay_mandates_booking_id")),
    )
    op.create_index(op.f("ix_autopay_mandates_tenant_id"), "autopay_mandates", ["tenant_id"])
    op.create_table(
        "autopay_charges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("intent_id", sa.String(length=255), nullable=False),
        sa.Column("failure_code", sa.String(length=60), nullable=False),
        sa.Column("failure_message", sa.Text(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('scheduled', 'charging', 'retrying', 'needs_action', 'failed', "
            "'processing', 'paid', 'off')", name=op.f("ck_autopay_charges_status")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_autopay_charges_attempts_nonnegative")),
        _fk("autopay_charges", "tenant_id", "tenants"),
        _fk("autopay_charges", "booking_id", "bookings"),
        _fk("autopay_charges", "stage_id", "payment_stages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopay_charges")),
        sa.UniqueConstraint("stage_id", name=op.f("uq_autopay_charges_stage_id")),
    )
    op.create_index(op.f("ix_autopay_charges_tenant_id"), "autopay_charges", ["tenant_id"])
    op.create_index(op.f("ix_autopay_charges_booking_id"), "autopay_charges", ["booking_id"])
    op.create_index("ix_autopay_charges_status_next", "autopay_charges",
                    ["status", "next_attempt_at"])


def downgrade():
    op.drop_index("ix_autopay_charges_status_next", table_name="autopay_charges")
    op.drop_index(op.f("ix_autopay_charges_booking_id"), table_name="autopay_charges")
    op.drop_index(op.f("ix_autopay_charges_tenant_id"), table_name="autopay_charges")
    op.drop_table("autopay_charges")
    op.drop_index(op.f("ix_autopay_mandates_tenant_id"), table_name="autopay_mandates")
    op.drop_table("autopay_mandates")
    op.drop_index(op.f("ix_stripe_customers_tenant_id"), table_name="stripe_customers")
    op.drop_table("stripe_customers")
    op.drop_table("autopay_settings")
