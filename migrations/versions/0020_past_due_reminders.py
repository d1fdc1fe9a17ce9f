"""past-due reminders: a reminder kind for payment stages still open after their due date

Revision ID: 0020_past_due_reminders
Revises: 0019_vendor_notifications
"""
from datetime import datetime, time, timezone

import sqlalchemy as sa
from alembic import op

revision = "0020_past_due_reminders"
down_revision = "0019_vendor_notifications"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('before_event', 'after_event', 'balance_due')"
NEW_KINDS = "kind IN ('before_event', 'after_event', 'balance_due', 'past_due')"
TABLES = ("reminder_rules", "reminders")
# The defaults new tenants get (app.services.reminders.dispatch.DEFAULT_RULES), written out here
# because a migration must not change when the application's defaults do.
PAST_DUE_RULES = ((3, time(10, 0)), (10, time(10, 0)))


def _kinds(check: str) -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_kind"), type_="check")
            batch_op.create_check_constraint(op.f(f"ck_{table}_kind"), sa.text(check))


def upgrade():
    _kinds(NEW_KINDS)
    # Tenants that already have rules get the two past-due ones (a tenant without rules gets
    # every default, these included, the first time its reminders are planned). Idempotent:
    # a rule the tenant already has is left alone, so a re-run adds nothing.
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    insert = sa.text(
        "INSERT INTO reminder_rules (tenant_id, kind, offset_days, send_time, active, created_at) "
        "SELECT DISTINCT r.tenant_id, 'past_due', :offset, :at, :active, :now FROM reminder_rules r "
        "WHERE NOT EXISTS (SELECT 1 FROM reminder_rules x WHERE x.tenant_id = r.tenant_id "
        "AND x.kind = 'past_due' AND x.offset_days = :offset AND x.send_time = :at)"
    ).bindparams(sa.bindparam("at", type_=sa.Time()), sa.bindparam("now", type_=sa.DateTime()))
    for offset, at in PAST_DUE_RULES:
        op.get_bind().execute(insert, {"offset": offset, "at": at, "active": True, "now": now})


def downgrade():
    # The old constraint cannot hold past-due rows: their reminders (sent ones included) and
    # rules go; the emails they wrote stay in the outbox.
    op.execute("DELETE FROM reminders WHERE kind = 'past_due'")
    op.execute("DELETE FROM reminder_rules WHERE kind = 'past_due'")
    _kinds(OLD_KINDS)
