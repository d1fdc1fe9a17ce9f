"""documents of kind 'terms': the booking terms a couple accepted, frozen and numbered

Revision ID: 0018_terms_documents
Revises: 0006_invoices
"""
import sqlalchemy as sa
from alembic import op

OLD_KINDS = "kind IN ('invoice', 'receipt', 'credit_note')"
NEW_KINDS = "kind IN ('invoice', 'receipt', 'credit_note', 'terms')"

revision = '0018_terms_documents'
down_revision = "0017_dashboard_design"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_documents_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_documents_kind'), sa.text(NEW_KINDS))


def downgrade():
    # Terms documents have no place in the older schema; their bookings keep their invoices.
    op.execute("DELETE FROM document_counters WHERE kind = 'terms'")
    op.execute("DELETE FROM documents WHERE kind = 'terms'")
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_documents_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_documents_kind'), sa.text(OLD_KINDS))
