"""amounts in 64-bit integers

Amounts are in Stripe's API units (e.g. IDR with two decimals), so a wedding priced in rupiah
passes the 32-bit INTEGER limit (2,147,483,647 = IDR 21,474,836.47). PostgreSQL's columns
become BIGINT; SQLite's INTEGER already stores 64-bit values, so nothing changes there (a batch
rebuild of these tables would only risk their CHECK constraints).

Revision ID: 0014_money_bigint
Revises: 0006_invoices
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_money_bigint"
down_revision = "0012_sessions_and_verification"
branch_labels = None
depends_on = None

COLUMNS = {
    "bookings": ("package_price_minor", "total_minor"),
    "booking_add_ons": ("price_minor",),
    "packages": ("price_minor",),
    "add_ons": ("price_minor",),
    "documents": ("total_minor", "tax_minor"),
    "payment_settings": ("deposit_fixed_minor",),
    "payment_stages": ("amount_minor",),
    "checkout_intents": ("amount_minor",),
    "payments": ("amount_minor", "refunded_minor", "refund_pending_minor"),
    "refund_requests": ("amount_minor",),
    "refund_parts": ("amount_minor",),
}
NULLABLE = {("payment_settings", "deposit_fixed_minor")}


def _alter(to_type, from_type) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, columns in COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=to_type, existing_type=from_type,
                            existing_nullable=(table, column) in NULLABLE)


def upgrade():
    _alter(sa.BigInteger(), sa.Integer())


def downgrade():
    _alter(sa.Integer(), sa.BigInteger())
