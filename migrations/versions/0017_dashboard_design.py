"""tenant branding, uploaded images and the private calendar feed

Revision ID: 0017_dashboard_design
Revises: 0006_invoices
"""
import sqlalchemy as sa
from alembic import op

revision = '0017_dashboard_design'
down_revision = "0015_stripe_connect"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'tenant_branding',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('accent_color', sa.String(length=7), nullable=False),
        sa.Column('public_description', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("accent_color = '' OR length(accent_color) = 7",
                           name=op.f('ck_tenant_branding_accent_color')),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_branding_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_branding')),
        sa.UniqueConstraint('tenant_id', name=op.f('uq_tenant_branding_tenant_id')),
    )
    op.create_table(
        'tenant_images',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('content_type', sa.String(length=20), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('logo', 'cover')", name=op.f('ck_tenant_images_kind')),
        sa.CheckConstraint("content_type IN ('image/png', 'image/jpeg', 'image/webp')",
                           name=op.f('ck_tenant_images_content_type')),
        sa.CheckConstraint('size > 0', name=op.f('ck_tenant_images_size_positive')),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_images_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_images')),
        sa.UniqueConstraint('tenant_id', 'kind', name='uq_tenant_images_tenant_kind'),
    )
    op.create_index(op.f('ix_tenant_images_tenant_id'), 'tenant_images', ['tenant_id'], unique=False)
    op.create_table(
        'calendar_feeds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by_user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_calendar_feeds_tenant_id_tenants')),
        sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'],
                                name=op.f('fk_calendar_feeds_created_by_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feeds')),
        sa.UniqueConstraint('tenant_id', name=op.f('uq_calendar_feeds_tenant_id')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feeds_token_hash')),
    )


def downgrade():
    op.drop_table('calendar_feeds')
    op.drop_index(op.f('ix_tenant_images_tenant_id'), table_name='tenant_images')
    op.drop_table('tenant_images')
    op.drop_table('tenant_branding')
