"""Stripe Connect: each tenant's connected account, the account of every intent and payment,
the platform fee per payment, the account of each Connect event, and disputes

Revision ID: 0015_stripe_connect
Revises: 0006_invoices

Existing tenants start unconnected (their public page takes bookings without a deposit only,
and the dashboard asks the owner to connect); existing intents and payments keep account ""
(the platform account they were made on), so their refunds still go there. `make run`'s
`seed-demo` connects the demo tenants to the simulator.
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_stripe_connect'
down_revision = "0014_money_bigint"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stripe_account_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('stripe_charges_enabled', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('stripe_payouts_enabled', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('stripe_details_submitted', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('stripe_requirements', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('stripe_disabled_reason', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('stripe_status_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('stripe_disconnected_at', sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_tenants_stripe_account_id'), ['stripe_account_id'])
    with op.batch_alter_table('checkout_intents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stripe_account', sa.String(length=255), server_default='', nullable=False))
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stripe_account', sa.String(length=255), server_default='', nullable=False))
        batch_op.add_column(sa.Column('application_fee_minor', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.create_check_constraint(
            'application_fee_within_amount',
            'application_fee_minor >= 0 AND application_fee_minor <= amount_minor')
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account', sa.String(length=255), server_default='', nullable=False))
    op.create_table(
        'disputes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=False),
        sa.Column('stripe_dispute_id', sa.String(length=255), nullable=False),
        sa.Column('stripe_account', sa.String(length=255), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=30), nullable=False),
        sa.Column('evidence_due_by', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint('amount_minor > 0', name=op.f('ck_disputes_amount_positive')),
        sa.CheckConstraint(
            "status IN ('warning_needs_response', 'warning_under_review', 'warning_closed', "
            "'needs_response', 'under_review', 'won', 'lost')", name=op.f('ck_disputes_status')),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_disputes_tenant_id_tenants')),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_disputes_booking_id_bookings')),
        sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_disputes_payment_id_payments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes')),
        sa.UniqueConstraint('stripe_dispute_id', name=op.f('uq_disputes_stripe_dispute_id')),
    )
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disputes_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disputes_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disputes_payment_id'), ['payment_id'], unique=False)


def downgrade():
    op.drop_table('disputes')
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.drop_column('account')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint('application_fee_within_amount', type_='check')
        batch_op.drop_column('application_fee_minor')
        batch_op.drop_column('stripe_account')
    with op.batch_alter_table('checkout_intents', schema=None) as batch_op:
        batch_op.drop_column('stripe_account')
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_tenants_stripe_account_id'), type_='unique')
        for column in ('stripe_disconnected_at', 'stripe_status_at', 'stripe_disabled_reason',
                       'stripe_requirements', 'stripe_details_submitted',
                       'stripe_payouts_enabled', 'stripe_charges_enabled', 'stripe_account_id'):
            batch_op.drop_column(column)
