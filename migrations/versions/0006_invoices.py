"""invoices, receipts and credit notes

Revision ID: 0006_invoices
Revises: 0005_refunds
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_invoices'
down_revision = '0005_refunds'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'invoice_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('invoice_prefix', sa.String(length=20), nullable=False),
        sa.Column('receipt_prefix', sa.String(length=20), nullable=False),
        sa.Column('credit_note_prefix', sa.String(length=20), nullable=False),
        sa.Column('include_year', sa.Boolean(), nullable=False),
        sa.Column('yearly_reset', sa.Boolean(), nullable=False),
        sa.Column('padding', sa.Integer(), nullable=False),
        sa.Column('tax_rate_bp', sa.Integer(), nullable=False),
        sa.Column('tax_inclusive', sa.Boolean(), nullable=False),
        sa.Column('tax_label', sa.String(length=30), nullable=False),
        sa.Column('terms', sa.Text(), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('padding >= 1 AND padding <= 10', name=op.f('ck_invoice_settings_padding_range')),
        sa.CheckConstraint('tax_rate_bp >= 0 AND tax_rate_bp <= 10000', name=op.f('ck_invoice_settings_tax_rate_range')),
        sa.CheckConstraint('NOT yearly_reset OR include_year', name=op.f('ck_invoice_settings_reset_needs_year')),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_invoice_settings_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_settings')),
        sa.UniqueConstraint('tenant_id', name=op.f('uq_invoice_settings_tenant_id')),
    )
    op.create_table(
        'document_counters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('series', sa.String(length=40), nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.CheckConstraint('last_number >= 1', name=op.f('ck_document_counters_last_number_positive')),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_document_counters_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_counters')),
        sa.UniqueConstraint('tenant_id', 'kind', 'series', name='uq_document_counters_series'),
    )
    with op.batch_alter_table('document_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_counters_tenant_id'), ['tenant_id'], unique=False)

    op.create_table(
        'documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('number', sa.String(length=60), nullable=False),
        sa.Column('series', sa.String(length=40), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('source_key', sa.String(length=80), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=True),
        sa.Column('invoice_id', sa.Integer(), nullable=True),
        sa.Column('customer_name', sa.String(length=200), nullable=False),
        sa.Column('customer_email', sa.String(length=254), nullable=False),
        sa.Column('total_minor', sa.Integer(), nullable=False),
        sa.Column('tax_minor', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('snapshot', sa.JSON(), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=True),
        sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
        sa.Column('delivery_status', sa.String(length=10), nullable=False),
        sa.Column('issued_at', sa.DateTime(), nullable=False),
        sa.Column('rendered_at', sa.DateTime(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('viewed_at', sa.DateTime(), nullable=True),
        sa.Column('issued_by_user_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('invoice', 'receipt', 'credit_note')", name=op.f('ck_documents_kind')),
        sa.CheckConstraint("delivery_status IN ('issued', 'sent', 'viewed')", name=op.f('ck_documents_delivery_status')),
        sa.CheckConstraint("(kind = 'credit_note') = (total_minor < 0) OR total_minor = 0", name=op.f('ck_documents_credit_note_negative')),
        sa.CheckConstraint('pdf_sha256 IS NULL OR length(pdf_sha256) = 64', name=op.f('ck_documents_sha256_hex')),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_documents_tenant_id_tenants')),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_documents_booking_id_bookings')),
        sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_documents_payment_id_payments')),
        sa.ForeignKeyConstraint(['invoice_id'], ['documents.id'], name=op.f('fk_documents_invoice_id_documents')),
        sa.ForeignKeyConstraint(['issued_by_user_id'], ['users.id'], name=op.f('fk_documents_issued_by_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
        sa.UniqueConstraint('tenant_id', 'kind', 'number', name='uq_documents_tenant_kind_number'),
        sa.UniqueConstraint('tenant_id', 'source_key', name='uq_documents_tenant_source'),
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index('ix_documents_tenant_issued', ['tenant_id', 'issued_at'], unique=False)
        batch_op.create_index('ix_documents_tenant_booking', ['tenant_id', 'booking_id'], unique=False)
        batch_op.create_index('ix_documents_pending_pdf', ['pdf_sha256', 'issued_at'], unique=False)


def downgrade():
    op.drop_table('documents')
    op.drop_table('document_counters')
    op.drop_table('invoice_settings')
