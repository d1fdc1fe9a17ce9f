"""Dispatch with a real consumer, a real SMTP server and a controlled clock."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.queue import huey
from app.tasks.reminders import dispatch_reminders, recover_failed_reminders
from tests.fixtures.environment import ENV
from tests.fixtures.portal import RunningConsumer
from tests.fixtures.smtp import text_of
from tests.integration.reminders.conftest import at, reminders_of, wait_until

SUBJECT = "is coming up"


def first_reminder(db_session, booking_id):
    """The "3 days before, 10:00 local" reminder."""
    return next(r for r in reminders_of(db_session, booking_id) if r.kind == "before_event")


def before_event(db_session, booking_id):
    return [r for r in reminders_of(db_session, booking_id) if r.kind == "before_event"]


def settled(db_session, reminder_id, statuses=("sent", "skipped", "canceled", "failed")):
    from app.models import Reminder

    def check():
        db_session.expire_all()
        return db_session.get(Reminder, reminder_id).status in statuses

    return check


def test_nothing_is_sent_before_the_due_time(app, db_session, confirmed, consumer, inbox):
    booking_id = confirmed()
    r = first_reminder(db_session, booking_id)
    at(r.due_at, -timedelta(minutes=1))
    assert dispatch_reminders.call_local() == 0  # periodic tasks keep no result: run it here
    assert first_reminder(db_session, booking_id).status == "scheduled"
    assert inbox.to("couple@example.com") == [] or all(SUBJECT not in m["Subject"] for m in inbox.messages)


def test_at_the_due_time_the_email_arrives_once(app, db_session, confirmed, consumer, inbox):
    booking_id = confirmed()
    r = first_reminder(db_session, booking_id)
    at(r.due_at, timedelta(seconds=30))
    for _ in range(3):  # the periodic task runs every minute, and on every consumer
        dispatch_reminders()
    wait_until(settled(db_session, r.id), message="reminder sent")
    mail = inbox.wait_for("couple@example.com", subject=SUBJECT)[0]
    assert "3 days away" in text_of(mail) and "/b/" in text_of(mail)  # with the manage link
    dispatch_reminders.call_local()
    assert len([m for m in inbox.to("couple@example.com") if SUBJECT in m["Subject"]]) == 1
    row = first_reminder(db_session, booking_id)
    assert row.status == "sent" and row.email_id is not None and row.attempts == 1


def test_a_canceled_booking_sends_nothing(app, db_session, tenant_a, confirmed, consumer, inbox):
    from app.extensions import db
    from app.services.bookings import status as status_buttons
    from app.web.links import WebLinks

    booking_id = confirmed()
    r = first_reminder(db_session, booking_id)
    with app.app_context():
        status_buttons.change_status(db.session, tenant_a.tenant_id, booking_id, "canceled", WebLinks(app),
                               actor_user_id=tenant_a.user_id)
    at(r.due_at, timedelta(minutes=1))
    dispatch_reminders.call_local()
    assert all(x.status == "canceled" for x in reminders_of(db_session, booking_id))
    inbox.wait_for("couple@example.com", subject="canceled")
    assert not [m for m in inbox.to("couple@example.com") if SUBJECT in m["Subject"]]


def test_smtp_down_at_the_due_time_is_retried_and_arrives(app, db_session, confirmed, smtp_server,
                                                          consumer, inbox):
    booking_id = confirmed()
    r = first_reminder(db_session, booking_id)
    smtp_server.stop()
    at(r.due_at, timedelta(seconds=5))
    dispatch_reminders()
    wait_until(settled(db_session, r.id), message="reminder handed to the outbox")
    from app.models import OutboundEmail

    email_id = first_reminder(db_session, booking_id).email_id
    wait_until(lambda: (db_session.expire_all() or db_session.get(OutboundEmail, email_id).attempts >= 2),
               message="two failed SMTP attempts")
    smtp_server.start()
    inbox.wait_for("couple@example.com", subject=SUBJECT)


def test_queue_flushed_before_the_due_time_still_sends(app, db_session, confirmed, inbox):
    booking_id = confirmed()
    r = first_reminder(db_session, booking_id)
    dispatch_reminders()  # a dispatch sits in the queue...
    if ENV.redis_url:
        ENV.flush_redis()  # ...and Redis loses everything (FLUSHALL of our db)
    else:
        huey.flush()
    assert huey.pending_count() == 0
    at(r.due_at, timedelta(seconds=20))
    running = RunningConsumer(huey)
    running.start()
    try:
        dispatch_reminders()  # the next minute's periodic run, on a fresh queue
        wait_until(settled(db_session, r.id), message="reminder sent after the flush")
        inbox.wait_for("couple@example.com", subject=SUBJECT)
    finally:
        running.stop()


def test_consumer_down_through_the_due_time_sends_within_window_and_skips_outside(
        app, db_session, confirmed, inbox):
    late_ok = confirmed(days=31, email="late-ok@example.com")
    too_late = confirmed(days=30, email="too-late@example.com")
    ok_row = first_reminder(db_session, late_ok)      # 3 days before: window open until its event
    gone_row = before_event(db_session, too_late)[1]  # 1 day before at 14:00
    from app.models import Booking
    from app.services.reminders.times import event_start

    # No consumer ran for days; it comes back an hour into the day of the earlier event: that
    # event's reminders are past their window, the later event's 3-day reminder is late but valid.
    back = event_start(db_session.get(Booking, too_late).event_date, None, "America/New_York")
    assert ok_row.due_at < back
    at(back, timedelta(hours=1))
    running = RunningConsumer(huey)
    running.start()
    try:
        dispatch_reminders()
        wait_until(settled(db_session, ok_row.id), message="late reminder handled")
        wait_until(settled(db_session, gone_row.id), message="stale reminder handled")
        # "sent" means the email row is queued and its send task enqueued after that commit;
        # the task runs on this consumer, so wait for the mail before stopping it (a stopped
        # consumer leaves queued tasks in the queue, and the next test flushes it).
        inbox.wait_for("late-ok@example.com", subject=SUBJECT)
    finally:
        running.stop()
    db_session.expire_all()
    assert first_reminder(db_session, late_ok).status == "sent"
    stale = before_event(db_session, too_late)[1]
    assert stale.status == "skipped" and "after its window closed" in stale.skip_reason


def test_two_consumers_running_dispatch_send_each_reminder_once(app, db_session, confirmed, inbox):
    from app.models import Booking, OutboundEmail, Reminder
    from app.services.reminders.times import event_start

    ids = [confirmed(days=30 + i, email=f"c{i}@example.com") for i in range(6)]
    last_event = db_session.get(Booking, ids[-1]).event_date
    # Just before the last event starts: many reminders are due at once, some past their window.
    at(event_start(last_event, None, "America/New_York"), -timedelta(minutes=1))
    a, b = RunningConsumer(huey), RunningConsumer(huey)
    a.start()
    b.start()
    try:
        for _ in range(8):
            dispatch_reminders()  # each consumer's scheduler would enqueue it every minute
        due = db_session.scalars(select(Reminder.id).where(Reminder.due_at <= at_now())).all()
        for reminder_id in due:
            wait_until(settled(db_session, reminder_id), message=f"reminder {reminder_id}")
        db_session.expire_all()
        sent = db_session.scalars(select(Reminder).where(Reminder.status == "sent")).all()

        def delivered():
            db_session.expire_all()
            return all(db_session.get(OutboundEmail, r.email_id).status == "sent" for r in sent)

        wait_until(delivered, message="emails delivered")
        import time

        time.sleep(1.0)  # a duplicate, if any, would arrive now
    finally:
        a.stop()
        b.stop()
    assert len(sent) >= 4
    received = [m["Message-ID"] for m in inbox.messages if "reminder" not in m["Subject"].lower()]
    assert len(received) == len(set(received)), "an email arrived twice"
    for r in sent:
        prefix = f"<outbox-{r.email_id}."
        assert sum(1 for mid in received if mid.startswith(prefix)) == 1


def at_now():
    from app.services.shared import clock

    return clock.now()


def test_failing_sends_back_off_then_fail_and_nightly_recovery_requeues(app, db_session, confirmed,
                                                                       monkeypatch, inbox):
    from app.models import Reminder
    from app.services.reminders import dispatch as reminders

    booking_id = confirmed()
    r = first_reminder(db_session, booking_id)
    calls = {"n": 0}
    real = reminders._reminder_email

    def broken(*args, **kwargs):
        calls["n"] += 1
        raise RuntimeError("template store unavailable")

    monkeypatch.setattr(reminders, "_reminder_email", broken)
    moment = r.due_at + timedelta(seconds=1)
    running = RunningConsumer(huey)
    running.start()
    try:
        for attempt in range(1, reminders.MAX_ATTEMPTS + 1):
            at(moment)
            dispatch_reminders.call_local()
            wait_until(settled(db_session, r.id, ("scheduled", "failed")), message="attempt recorded")
            db_session.expire_all()
            row = db_session.get(Reminder, r.id)
            assert row.attempts == attempt and "template store unavailable" in row.last_error
            if attempt < reminders.MAX_ATTEMPTS:
                assert row.status == "scheduled"
                assert row.next_attempt_at - moment >= reminders.RETRY_BASE * 2 ** (attempt - 1) - timedelta(seconds=2)
                moment = row.next_attempt_at + timedelta(seconds=1)
        assert row.status == "failed" and calls["n"] == reminders.MAX_ATTEMPTS

        monkeypatch.setattr(reminders, "_reminder_email", real)
        assert recover_failed_reminders.call_local() == 1
        db_session.expire_all()
        assert db_session.get(Reminder, r.id).status == "scheduled"
        dispatch_reminders()
        wait_until(settled(db_session, r.id, ("sent",)), message="recovered reminder sent")
        inbox.wait_for("couple@example.com", subject=SUBJECT)
    finally:
        running.stop()


@pytest.mark.postgres
def test_claims_skip_rows_locked_by_another_dispatcher(app, db_session, confirmed):
    """Two dispatchers at once on PostgreSQL: SKIP LOCKED hands each reminder to exactly one."""
    import threading

    from app.extensions import db
    from app.services.reminders import dispatch as reminders

    ids = [confirmed(days=30 + i, email=f"p{i}@example.com") for i in range(5)]
    at(max(first_reminder(db_session, b).due_at for b in ids), timedelta(minutes=1))
    results, barrier = [], threading.Barrier(2)

    def claim():
        with app.app_context():
            barrier.wait()
            results.append(reminders.claim_due(db.session))

    threads = [threading.Thread(target=claim) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    claimed = results[0] + results[1]
    assert len(claimed) == len(set(claimed)) >= 5


def test_nightly_recovery_is_capped_and_only_looks_back_seven_days(app, db_session, confirmed):
    from app.extensions import db
    from app.models import Reminder
    from app.services.reminders import dispatch as reminders
    from app.services.shared import clock

    ids = [confirmed(days=30 + i, email=f"r{i}@example.com") for i in range(4)]
    rows = [first_reminder(db_session, b) for b in ids]
    now = clock.now()
    ages = [timedelta(days=1), timedelta(days=2), timedelta(days=3), timedelta(days=8)]
    for row, age in zip(rows, ages, strict=True):
        row.status, row.due_at, row.attempts = "failed", now - age, reminders.MAX_ATTEMPTS
    db_session.commit()
    with app.app_context():
        assert reminders.recover_failed(db.session, cap=2) == 2
        db.session.remove()
    db_session.expire_all()
    statuses = [db_session.get(Reminder, r.id).status for r in rows]
    # The two most recent come back; the third waits for the next night; 8 days old stays failed.
    assert statuses == ["scheduled", "scheduled", "failed", "failed"]
    with app.app_context():
        assert reminders.recover_failed(db.session, cap=2) == 1
        db.session.remove()
    db_session.expire_all()
    assert [db_session.get(Reminder, r.id).status for r in rows][2:] == ["scheduled", "failed"]
