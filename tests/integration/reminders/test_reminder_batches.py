"""Reminders sent in batches keep exactly-once: one email per reminder, each delivered once per
acceptance by the SMTP server, whatever fails part-way."""
from datetime import timedelta

from sqlalchemy import func, select

from app.tasks.reminders import send_reminders
from tests.integration.reminders.conftest import at, reminders_of

SUBJECT = "is coming up"


def due_batch(app, db_session, confirmed, addresses):
    """One due "3 days before" reminder per address, claimed by the dispatcher; their ids."""
    from app.extensions import db
    from app.services.reminders import dispatch

    rows = [next(r for r in reminders_of(db_session, confirmed(days=30 + i, email=a))
                 if r.kind == "before_event") for i, a in enumerate(addresses)]
    at(max(r.due_at for r in rows), timedelta(seconds=1))
    with app.app_context():
        claimed = dispatch.claim_due(db.session)
        db.session.remove()
    assert sorted(claimed) == sorted(r.id for r in rows)
    return [r.id for r in rows]


def emails_by_address(db_session):
    from app.models import OutboundEmail

    db_session.expire_all()
    return {e.to_addr: e for e in db_session.scalars(
        select(OutboundEmail).where(OutboundEmail.kind == "reminder_before_event"))}


def received(inbox, address):
    return [m for m in inbox.to(address) if SUBJECT in m["Subject"]]


def test_a_failed_send_in_a_batch_is_retried_alone_and_the_others_arrive_once(
        app, db_session, confirmed, inbox, monkeypatch):
    from app.tasks.email import send_email

    addresses = ["first@example.com", "flaky@example.com", "last@example.com"]
    ids = due_batch(app, db_session, confirmed, addresses)
    real, refused = inbox.handle_DATA, []

    async def refuse_flaky_once(server, session, envelope):
        if "flaky@example.com" in envelope.rcpt_tos and not refused:
            refused.append(True)
            return "451 Try again later"
        return await real(server, session, envelope)

    monkeypatch.setattr(inbox, "handle_DATA", refuse_flaky_once)
    assert send_reminders.call_local(ids) == {"sent": 3}  # all three written to the outbox
    emails = emails_by_address(db_session)
    assert {a: emails[a].status for a in addresses} == {
        "first@example.com": "sent", "flaky@example.com": "pending", "last@example.com": "sent"}
    flaky = emails["flaky@example.com"]
    assert flaky.attempts == 1 and "451" in flaky.last_error
    assert len(received(inbox, "first@example.com")) == len(received(inbox, "last@example.com")) == 1

    at(flaky.next_attempt_at, timedelta(seconds=1))
    assert send_email.call_local(flaky.id) == "sent"  # its retry, scheduled at the backoff
    assert send_email.call_local(flaky.id) == "skipped"  # a duplicate task sends nothing
    for address in addresses:
        assert len(received(inbox, address)) == 1
    assert emails_by_address(db_session)["flaky@example.com"].attempts == 2


def test_a_reminder_reclaimed_after_its_batch_crashed_writes_one_email(
        app, db_session, confirmed, inbox, monkeypatch):
    from app.extensions import db
    from app.models import OutboundEmail, Reminder
    from app.services.reminders import dispatch
    from app.tasks.reminders import dispatch_reminders
    from app.web.links import WebLinks

    ids = due_batch(app, db_session, confirmed, ["a@example.com", "b@example.com"])

    # The worker dies as the batch commits: nothing is written, both stay `sending`.
    def die(*args, **kwargs):
        raise SystemExit("worker killed")

    with app.app_context():
        monkeypatch.setattr(db.session, "commit", die)
        try:
            dispatch.send_batch(db.session, ids, WebLinks(app))
        except SystemExit:
            pass
        monkeypatch.undo()
        db.session.remove()
    db_session.expire_all()
    assert {db_session.get(Reminder, i).status for i in ids} == {"sending"}
    assert db_session.scalar(select(func.count(OutboundEmail.id))
                             .where(OutboundEmail.kind == "reminder_before_event")) == 0

    # Nobody touches them until the stuck window passes; then the dispatcher takes them again.
    assert dispatch_reminders.call_local() == 0
    at(db_session.get(Reminder, ids[0]).claimed_at,
       timedelta(seconds=app.config["REMINDER_STUCK_AFTER_SECONDS"] + 1))
    with app.app_context():
        assert sorted(dispatch.claim_due(db.session)) == sorted(ids)
        db.session.remove()
    assert send_reminders.call_local(ids) == {"sent": 2}

    # The same reminder claimed once more (its mark lost, say): it finds its email, writes none.
    with app.app_context():
        db.session.execute(Reminder.__table__.update().where(Reminder.id == ids[0])
                           .values(status="sending"))
        db.session.commit()
        db.session.remove()
    assert send_reminders.call_local([ids[0]]) == {"sent": 1}
    emails = emails_by_address(db_session)
    assert sorted(emails) == ["a@example.com", "b@example.com"]
    assert db_session.get(Reminder, ids[0]).email_id == emails["a@example.com"].id
    assert {e.status for e in emails.values()} == {"sent"}
    assert len(received(inbox, "a@example.com")) == len(received(inbox, "b@example.com")) == 1
    assert {db_session.get(Reminder, i).attempts for i in ids} == {2}


def test_a_batch_lost_after_its_commit_is_delivered_once_by_the_sweeper(
        app, db_session, confirmed, inbox, monkeypatch):
    from app.tasks import reminders as reminder_tasks
    from app.tasks.email import send_email

    ids = due_batch(app, db_session, confirmed, ["a@example.com", "b@example.com"])

    def killed(*args, **kwargs):
        raise SystemExit("worker killed before delivering")

    monkeypatch.setattr(reminder_tasks, "deliver_batch", killed)
    try:
        send_reminders.call_local(ids)
    except SystemExit:
        pass
    monkeypatch.undo()
    emails = emails_by_address(db_session)
    assert {e.status for e in emails.values()} == {"pending"}
    # Its emails have no task of their own: the sweeper waits out its grace, then queues them.
    ours = {e.id for e in emails.values()}

    def swept():
        from app.extensions import db
        from app.services.email import outbox

        with app.app_context():
            found = set(outbox.sweep(db.session, grace=timedelta(
                seconds=app.config["EMAIL_SWEEP_GRACE_SECONDS"]))) & ours
            db.session.remove()
        return found

    assert swept() == set()
    at(max(e.next_attempt_at for e in emails.values()),
       timedelta(seconds=app.config["EMAIL_SWEEP_GRACE_SECONDS"] + 1))
    assert swept() == ours
    for email in emails.values():
        send_email.call_local(email.id)
        send_email.call_local(email.id)  # the other consumer's sweeper queued it too
    assert {e.status for e in emails_by_address(db_session).values()} == {"sent"}
    assert len(received(inbox, "a@example.com")) == len(received(inbox, "b@example.com")) == 1
