import time

from sqlalchemy import select

from app.models import OutboundEmail
from app.queue import huey
from app.services.email import outbox as email
from app.tasks.email import sweep_outbox


def queue_one(app, tenant_id, to="couple@example.com", dedupe_key=None):
    from app.extensions import db

    with app.app_context():
        row = email.queue_email(db.session, tenant_id, to=to, kind="password_changed",
                                subject="Hello there", dedupe_key=dedupe_key,
                                context={"user": {"name": "C", "email": to},
                                         "login_url": "http://x/login", "forgot_url": "http://x/f"})
        db.session.commit()
        return row.id


def status_of(db_session, email_id):
    db_session.expire_all()
    return db_session.get(OutboundEmail, email_id)


def wait_status(db_session, email_id, status, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = status_of(db_session, email_id)
        if row.status == status:
            return row
        time.sleep(0.05)
    raise AssertionError(f"email {email_id} is {row.status}, not {status}")


def test_email_is_sent_over_smtp_with_text_and_html(app, db_session, tenant_a, consumer, inbox):
    email_id = queue_one(app, tenant_a.tenant_id)
    msg = inbox.wait_for("couple@example.com")[0]
    assert msg.get_body(("plain",)).get_content().startswith("Hello C")
    assert "<p>" in msg.get_body(("html",)).get_content()
    assert msg["Message-ID"].startswith(f"<outbox-{email_id}.")
    row = wait_status(db_session, email_id, "sent")
    assert row.attempts == 1 and row.transport == "smtp"


def test_smtp_down_then_back_delivers_once(app, db_session, tenant_a, smtp_server, consumer, inbox):
    smtp_server.stop()
    email_id = queue_one(app, tenant_a.tenant_id)
    deadline = time.monotonic() + 10
    while status_of(db_session, email_id).attempts < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    row = status_of(db_session, email_id)
    assert row.attempts >= 2 and row.status in ("pending", "sending") and "Connection" in row.last_error
    smtp_server.start()
    inbox.wait_for("couple@example.com")
    wait_status(db_session, email_id, "sent")
    time.sleep(1.0)  # any stray retry would land now
    assert len(inbox.to("couple@example.com")) == 1


def lose_the_queue():
    """Redis FLUSHDB on the PostgreSQL + Redis run; the SQLite queue's rows emptied otherwise."""
    from tests.fixtures.environment import ENV

    if ENV.redis_url:
        ENV.flush_redis()
    else:
        huey.flush()


def test_lost_queue_is_recovered_by_the_sweeper(app, db_session, tenant_a, inbox):
    from datetime import timedelta

    from app.services.shared import clock

    email_id = queue_one(app, tenant_a.tenant_id)  # enqueued, but no consumer is running
    lose_the_queue()
    assert huey.pending_count() == 0
    assert sweep_outbox.call_local() == 0  # within the grace period its task may be on the way
    clock.advance(timedelta(seconds=app.config["EMAIL_SWEEP_GRACE_SECONDS"] + 1))
    sweep_outbox()  # what the periodic task does each minute
    sweep_outbox()  # two sweeps racing: the row is claimed once
    assert huey.pending_count() == 2

    from tests.fixtures.portal import RunningConsumer

    running = RunningConsumer(huey)
    running.start()
    try:
        inbox.wait_for("couple@example.com")
        wait_status(db_session, email_id, "sent")
        time.sleep(0.5)
    finally:
        running.stop()
    assert len(inbox.to("couple@example.com")) == 1


def test_two_deliveries_of_one_row_send_it_once(app, db_session, tenant_a, inbox):
    from app.adapters.smtp import SmtpTransport
    from app.extensions import db
    from app.tasks.email import delivery_policy

    email_id = queue_one(app, tenant_a.tenant_id)
    huey.flush()
    with app.app_context():
        transport = SmtpTransport(app.config["SMTP_URL"])
        outcomes = [email.deliver(db.session, email_id, transport, delivery_policy(app)) for _ in range(2)]
    assert outcomes == ["sent", "skipped"]
    assert len(inbox.wait_for("couple@example.com")) == 1


def test_a_row_stuck_in_sending_is_retried_after_the_stuck_window(app, db_session, tenant_a, inbox):
    from datetime import timedelta

    from app.extensions import db
    from app.services.shared import clock

    email_id = queue_one(app, tenant_a.tenant_id)
    huey.flush()
    row = db_session.get(OutboundEmail, email_id)
    row.status, row.claimed_at = "sending", clock.now()  # a worker died mid-send
    db_session.commit()
    with app.app_context():
        assert email.sweep(db.session) == []
        clock.advance(email.STUCK_AFTER + timedelta(seconds=1))
        assert email.sweep(db.session) == [email_id]


def test_dedupe_key_allows_one_row_only(app, db_session, tenant_a):
    first = queue_one(app, tenant_a.tenant_id, dedupe_key="reminder:1")
    # Queued again (a sweeper's repair, a retried task): the earlier row, nothing new.
    assert queue_one(app, tenant_a.tenant_id, dedupe_key="reminder:1") == first
    assert len(db_session.scalars(select(OutboundEmail)).all()) == 1


def test_after_the_last_attempt_the_email_is_failed(app, db_session, tenant_a, smtp_server, consumer):
    smtp_server.stop()
    app.config["EMAIL_MAX_ATTEMPTS"] = 2
    try:
        email_id = queue_one(app, tenant_a.tenant_id)
        row = wait_status(db_session, email_id, "failed")
        assert row.attempts == 2 and row.last_error
    finally:
        app.config["EMAIL_MAX_ATTEMPTS"] = 8
        smtp_server.start()


def test_a_released_savepoint_does_not_enqueue_before_the_commit(app, db_session, tenant_a):
    """Jobs wait for the outermost COMMIT: a worker must never look for a row not yet committed."""
    from app.extensions import db

    with app.app_context():
        with db.session.begin_nested():
            email.queue_email(db.session, tenant_a.tenant_id, to="x@example.com", kind="password_changed",
                              subject="s", context={"user": {"name": "", "email": "x"},
                                                    "login_url": "u", "forgot_url": "f"})
        assert huey.pending_count() == 0  # the savepoint is released, the transaction is still open
        db.session.commit()
        assert huey.pending_count() == 1
