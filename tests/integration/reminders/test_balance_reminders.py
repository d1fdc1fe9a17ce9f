"""Balance reminders: 7 days before a stage's due date and on it, while the stage is unpaid."""
from datetime import time, timedelta

from app.services.reminders.times import resolve_local
from tests.integration.reminders.conftest import reminders_of


def stages_of(db_session, booking_id):
    from sqlalchemy import select

    from app.models import PaymentStage

    db_session.expire_all()
    return db_session.scalars(select(PaymentStage).where(PaymentStage.booking_id == booking_id)
                              .order_by(PaymentStage.seq)).all()


def test_open_stages_get_reminders_and_paying_cancels_them(app, db_session, tenant_a, confirmed):
    from app.extensions import db
    from app.services.payments import recording as payments
    from app.web.links import WebLinks

    booking_id = confirmed(days=90, balance=True)
    stages = stages_of(db_session, booking_id)
    balance = stages[-1]
    assert balance.status == "due" and balance.due_date > balance.created_at.date() + timedelta(days=7)
    mine = {r.key: r for r in reminders_of(db_session, booking_id)
            if r.stage_id == balance.id and r.kind == "balance_due"}
    assert sorted((r.local_date, r.local_time) for r in mine.values()) == [
        (balance.due_date - timedelta(days=7), time(10)), (balance.due_date, time(10))]
    assert all(r.due_at == resolve_local(r.local_date, time(10), "America/New_York") for r in mine.values())

    with app.app_context():
        payments.record_offline_payment(
            db.session, tenant_a.tenant_id, booking_id,
            payments.OfflinePayment(stage_ids=[s.id for s in stages], method="bank_transfer", note="wire"),
            WebLinks(app), actor_user_id=tenant_a.user_id)
    rows = [r for r in reminders_of(db_session, booking_id) if r.stage_id is not None]
    assert {r.kind for r in rows} == {"balance_due", "past_due"}
    assert all(r.status == "canceled" for r in rows)
    # The event reminders stay: the couple still has an event to come.
    assert {r.status for r in reminders_of(db_session, booking_id) if r.stage_id is None} == {"scheduled"}


def test_a_balance_reminder_is_written_with_the_amount_and_due_date(app, db_session, confirmed, consumer, inbox):
    from app.tasks.reminders import dispatch_reminders
    from tests.integration.reminders.conftest import at, wait_until

    booking_id = confirmed(days=90, balance=True)
    balance = stages_of(db_session, booking_id)[-1]
    week_before = next(r for r in reminders_of(db_session, booking_id)
                       if r.stage_id == balance.id and r.local_date < balance.due_date)
    at(week_before.due_at, timedelta(seconds=5))
    dispatch_reminders()

    def sent():
        return any(r.id == week_before.id and r.status == "sent" for r in reminders_of(db_session, booking_id))

    wait_until(sent, message="balance reminder sent")
    mail = inbox.wait_for("couple@example.com", subject="Payment due")[0]
    body = mail.get_body(("plain",)).get_content()
    assert "$1,750.00" in body and balance.label in body
