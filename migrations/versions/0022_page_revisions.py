"""page revisions: a counter per tenant that moves with every change to its rows (page cache)

Revision ID: 0022_page_revisions
Revises: 0021_autopay
"""
import sqlalchemy as sa
from alembic import op

revision = "0022_page_revisions"
down_revision = "0021_autopay"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "page_revisions",
        sa.Column("scope_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope_id", name=op.f("pk_page_revisions")),
    )


def downgrade():
    op.drop_table("page_revisions")
