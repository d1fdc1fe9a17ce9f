"""Past-due reminders: 3 and 10 days after a stage's due date, while the stage is still unpaid."""
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from tests.fixtures.smtp import text_of
from tests.integration.bookings.helpers import LINK, book, path_of
from tests.integration.reminders.conftest import at, reminders_of, wait_until
from tests.integration.reminders.test_balance_reminders import stages_of

SUBJECT = "Payment overdue"
# The US moves to summer time on 2027-03-14: the balance below falls due on 2027-03-08, so its
# 3-day reminder goes out in EST (UTC-5) and its 10-day one in EDT (UTC-4), both at 10:00.
BOOKED_AT = datetime(2027, 1, 11, 15, 0, tzinfo=UTC)
EVENT = date(2027, 4, 7)  # the balance is due 30 days before it: 2027-03-08


def past_due(db_session, booking_id, stage_id=None):
    return [r for r in reminders_of(db_session, booking_id)
            if r.kind == "past_due" and (stage_id is None or r.stage_id == stage_id)]


def pay(app, tenant, booking_id, stage_ids):
    from app.extensions import db
    from app.services.payments import recording as payments
    from app.web.links import WebLinks

    with app.app_context():
        payments.record_offline_payment(
            db.session, tenant.tenant_id, booking_id,
            payments.OfflinePayment(stage_ids=list(stage_ids), method="bank_transfer", note="wire"),
            WebLinks(app), actor_user_id=tenant.user_id)
        db.session.remove()


@pytest.fixture()
def deposit_paid(app, db_session, tenant_a, shop):
    """A confirmed booking (event 2027-04-07) whose deposit is paid and balance still open."""
    at(BOOKED_AT)
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, EVENT, actor="user",
                      actor_user_id=tenant_a.user_id, initial_status="confirmed")
    deposit, balance = stages_of(db_session, booking_id)
    pay(app, tenant_a, booking_id, [deposit.id])
    assert balance.status == "due" and balance.due_date == date(2027, 3, 8)
    return booking_id


def overdue_mails(inbox):
    return [m for m in inbox.to("couple@example.com") if SUBJECT in m["Subject"]]


def test_an_unpaid_stage_is_reminded_3_and_10_days_late_at_10_local_each_once(
        app, db_session, tenant_a, deposit_paid, consumer, inbox):
    from app.models import Reminder
    from app.tasks.reminders import dispatch_reminders

    booking_id = deposit_paid
    balance = stages_of(db_session, booking_id)[-1]
    rows = past_due(db_session, booking_id, balance.id)
    assert [(r.stage_id, r.local_date, r.local_time, r.status) for r in rows] == [
        (balance.id, date(2027, 3, 11), time(10), "scheduled"),
        (balance.id, date(2027, 3, 18), time(10), "scheduled")]
    assert [r.due_at for r in rows] == [datetime(2027, 3, 11, 15, 0, tzinfo=UTC),   # EST
                                        datetime(2027, 3, 18, 14, 0, tzinfo=UTC)]  # EDT
    # The deposit was paid: its past-due reminders are canceled, not sent.
    assert all(r.stage_id == balance.id for r in past_due(db_session, booking_id)
               if r.status == "scheduled")

    def sent(reminder_id):
        def check():
            db_session.expire_all()
            return db_session.get(Reminder, reminder_id).status == "sent"
        return check

    at(rows[0].due_at, -timedelta(minutes=1))
    dispatch_reminders.call_local()
    assert past_due(db_session, booking_id, balance.id)[0].status == "scheduled"

    for count, (row, days) in enumerate(zip(rows, (3, 10), strict=True), start=1):
        at(row.due_at, timedelta(seconds=5))
        for _ in range(3):  # every consumer runs the minute dispatcher
            dispatch_reminders()
        wait_until(sent(row.id), message=f"{days}-day past-due reminder sent")
        mail = inbox.wait_for("couple@example.com", count=count, subject=SUBJECT)[-1]
        assert mail["Subject"] == "Payment overdue for your booking with Alpha"
        body = text_of(mail)
        assert "Balance of $1,750.00" in body and "was due March 8, 2027" in body
        assert f"{days} days ago" in body
        html = mail.get_body(("html",)).get_content()
        assert "<strong>$1,750.00</strong>" in html
        dispatch_reminders.call_local()  # a later minute finds nothing more to send

    # The pay link is the balance reminder's: the couple's booking page, with "Pay balance".
    page = app.test_client().get(path_of(LINK.search(body).group(0)))
    assert page.status_code == 200 and "Pay balance" in page.get_data(as_text=True)
    assert len(overdue_mails(inbox)) == 2
    assert [(r.status, r.attempts) for r in past_due(db_session, booking_id, balance.id)] == [
        ("sent", 1), ("sent", 1)]


def test_paying_the_stage_cancels_its_pending_past_due_reminders(app, db_session, tenant_a,
                                                                 deposit_paid):
    booking_id = deposit_paid
    balance = stages_of(db_session, booking_id)[-1]
    assert {r.status for r in past_due(db_session, booking_id, balance.id)} == {"scheduled"}
    at(datetime(2027, 3, 12, 15, 0, tzinfo=UTC))  # four days late: the first one went out
    first = past_due(db_session, booking_id, balance.id)[0]
    first.status = "sent"
    db_session.commit()

    pay(app, tenant_a, booking_id, [balance.id])
    rows = past_due(db_session, booking_id, balance.id)
    assert [r.status for r in rows] == ["sent", "canceled"]  # history stays as it was
    assert rows[1].skip_reason == "no longer needed (rule off or stage paid)"


def test_a_past_due_reminder_claimed_before_the_payment_is_not_sent(app, db_session, tenant_a,
                                                                    deposit_paid):
    from app.extensions import db
    from app.models import OutboundEmail, Reminder
    from app.services.reminders import dispatch as reminders
    from app.web.links import WebLinks

    booking_id = deposit_paid
    balance = stages_of(db_session, booking_id)[-1]
    row = past_due(db_session, booking_id, balance.id)[0]
    at(row.due_at, timedelta(seconds=5))
    with app.app_context():
        assert row.id in reminders.claim_due(db.session)
        db.session.remove()
    pay(app, tenant_a, booking_id, [balance.id])
    db_session.expire_all()
    assert db_session.get(Reminder, row.id).status == "canceled"
    # A sender that read the row before the payment committed still holds it as claimed: the
    # send re-reads the stage and cancels instead of writing the email.
    db_session.get(Reminder, row.id).status = "sending"
    db_session.commit()
    with app.app_context():
        outcome = reminders.send(db.session, row.id, WebLinks(app))
        db.session.remove()
    assert (outcome.status, outcome.reason) == ("canceled", "stage is paid")
    db_session.expire_all()
    assert db_session.get(Reminder, row.id).status == "canceled"
    assert db_session.scalar(select(OutboundEmail).where(
        OutboundEmail.dedupe_key == f"reminder:{row.id}")) is None


def test_canceling_the_booking_voids_the_stage_and_cancels_its_past_due_reminders(
        app, db_session, tenant_a, deposit_paid):
    from app.extensions import db
    from app.services.bookings import cancellation
    from app.web.links import WebLinks

    booking_id = deposit_paid
    with app.app_context():
        cancellation.cancel_booking(db.session, tenant_a.tenant_id, booking_id, WebLinks(app),
                                    actor="user", actor_user_id=tenant_a.user_id, refund="none")
        db.session.remove()
    deposit, balance = stages_of(db_session, booking_id)
    assert (deposit.status, balance.status) == ("paid", "void")
    rows = past_due(db_session, booking_id, balance.id)
    assert rows and {(r.status, r.skip_reason) for r in rows} == {("canceled", "booking canceled")}
