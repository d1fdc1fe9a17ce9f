"""refund reason booking_canceled: a payment that reached Stripe after its booking was canceled

Revision ID: 0011_refund_reason_canceled
Revises: 0006_invoices
"""
import sqlalchemy as sa
from alembic import op

OLD_REASONS = "reason IN ('requested_by_customer', 'duplicate', 'fraudulent', 'cancellation')"
NEW_REASONS = ("reason IN ('requested_by_customer', 'duplicate', 'fraudulent', 'cancellation', "
               "'booking_canceled')")

revision = '0011_refund_reason_canceled'
down_revision = '0006_invoices'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('refund_requests', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_refund_requests_reason'), type_='check')
        batch_op.create_check_constraint(op.f('ck_refund_requests_reason'), sa.text(NEW_REASONS))


def downgrade():
    # Stripe-facing, they were the couple's request all the same.
    op.execute("UPDATE refund_requests SET reason = 'cancellation' WHERE reason = 'booking_canceled'")
    with op.batch_alter_table('refund_requests', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_refund_requests_reason'), type_='check')
        batch_op.create_check_constraint(op.f('ck_refund_requests_reason'), sa.text(OLD_REASONS))
