"""The vendor's team hears about each booking event once, by email or in a daily digest, and
a couple's replies reach the vendor."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.integration.bookings.helpers import book, future, make_catalog

COUPLE = "couple@example.com"


@pytest.fixture()
def shop(app, tenant_a):
    return make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)


def _set_notify(app, user_id: int, choice: str) -> None:
    from app.extensions import db
    from app.models import User
    from app.services.notifications import vendor

    with app.app_context():
        tenant_id = db.session.get(User, user_id).tenant_id
        vendor.set_preference(db.session, tenant_id, user_id, choice)
        db.session.remove()


def _add_staff(app, tenant_id: int, email: str, notify: str) -> int:
    from app.extensions import db
    from app.models import User
    from app.services.shared import clock

    with app.app_context():
        user = User(tenant_id=tenant_id, email=email, name="Staff", password_hash="x", role="staff",
                    created_at=clock.now())
        db.session.add(user)
        db.session.commit()
        assert user.notify == "off"  # staff opt in
        user.notify = notify
        db.session.commit()
        user_id = user.id
        db.session.remove()
    return user_id


def _live_events(app, tenant_a, shop) -> int:
    """A new booking, a payment, a reschedule, a cancellation and a failed reminder."""
    from app.extensions import db
    from app.models import Booking, PaymentStage, Reminder
    from app.services.bookings import cancellation, lifecycle
    from app.services.payments import recording as payments
    from app.services.reminders import dispatch
    from app.web.links import WebLinks

    booking_id = book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id, 60),
                      email=COUPLE, actor="user", actor_user_id=tenant_a.user_id,
                      initial_status="confirmed")
    links = WebLinks(app)
    new_date = future(app, tenant_a.tenant_id, 70)
    with app.app_context():
        s = db.session
        stage = s.scalars(select(PaymentStage).where(PaymentStage.booking_id == booking_id)
                          .order_by(PaymentStage.id)).first()
        payments.record_offline_payment(
            s, tenant_a.tenant_id, booking_id,
            payments.OfflinePayment(stage_ids=[stage.id], method="cash"), links,
            actor_user_id=tenant_a.user_id)
        booking = s.get(Booking, booking_id)
        lifecycle.reschedule(s, booking, new_date, links, actor="user",
                             actor_user_id=tenant_a.user_id)
        reminder = s.scalars(select(Reminder).where(Reminder.booking_id == booking_id)).first()
        s.execute(update(Reminder).where(Reminder.id == reminder.id)
                  .values(status="sending", attempts=dispatch.MAX_ATTEMPTS))
        s.commit()
        dispatch.record_failure(s, reminder.id, "SMTPRecipientsRefused: mailbox full")
        cancellation.cancel_booking(s, tenant_a.tenant_id, booking_id, links, actor="user",
                                    actor_user_id=tenant_a.user_id, refund="none")
        db.session.remove()
    return booking_id


SUBJECTS = ("New booking", "received (Cash)", "moved from", "could not be sent", "was canceled")


def test_each_event_reaches_the_owner_and_opted_in_staff_once(
        app, db_session, tenant_a, shop, consumer, inbox):
    from app.models import OutboundEmail
    from app.tasks.email import sweep_outbox

    _add_staff(app, tenant_a.tenant_id, "quiet@alpha.example", "off")
    _add_staff(app, tenant_a.tenant_id, "keen@alpha.example", "each")
    _live_events(app, tenant_a, shop)
    for address in (tenant_a.email, "keen@alpha.example"):
        for subject in SUBJECTS:
            mail = inbox.wait_for(address, subject=subject)[0]
            assert mail["Reply-To"] == COUPLE  # a reply goes to the couple
    sweep_outbox.call_local()
    for address in (tenant_a.email, "keen@alpha.example"):
        got = [m["Subject"] for m in inbox.to(address)]
        assert all(sum(s in subject for subject in got) == 1 for s in SUBJECTS), got
    assert inbox.to("quiet@alpha.example") == []
    db_session.expire_all()
    assert not db_session.scalars(select(OutboundEmail).where(
        OutboundEmail.to_addr == "quiet@alpha.example")).all()


def test_couple_emails_reply_to_the_vendor(app, db_session, tenant_a, shop, consumer, inbox):
    book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id, 60),
         email=COUPLE, actor="user", actor_user_id=tenant_a.user_id, initial_status="confirmed")
    assert inbox.wait_for(COUPLE, subject="Booking confirmed")[0]["Reply-To"] == tenant_a.email


def test_a_digest_reader_gets_one_email_a_day_with_every_event(
        app, db_session, tenant_a, shop, consumer, inbox):
    from app.models import OutboundEmail, VendorNotice
    from app.services.shared import clock
    from app.tasks.notifications import send_digests

    _set_notify(app, tenant_a.user_id, "digest")
    _live_events(app, tenant_a, shop)
    db_session.expire_all()
    assert not db_session.scalars(select(OutboundEmail).where(
        OutboundEmail.to_addr == tenant_a.email, OutboundEmail.kind == "vendor_notice")).all()
    assert len(db_session.scalars(select(VendorNotice)).all()) == len(SUBJECTS)
    # The next morning in New York, the periodic task runs on two consumers, twice.
    clock.travel(clock.now().replace(hour=13, minute=5) + timedelta(days=1))  # 08:05 in New York
    assert send_digests.call_local() == 1
    assert send_digests.call_local() == 0
    mail = inbox.wait_for(tenant_a.email, subject="updates since your last digest")[0]
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert all(s in body for s in SUBJECTS), body
    db_session.expire_all()
    assert all(n.digest_key for n in db_session.scalars(select(VendorNotice)))


def test_a_user_chooses_a_digest_on_their_account_page(app, db_session, tenant_a, owner_client):
    from app.models import User
    from tests.fixtures.portal import post_form

    page = owner_client.get("/auth/account").get_data(as_text=True)
    assert 'data-testid="notify-form"' in page and 'selected value="each"' in page
    response = post_form(owner_client, "/auth/account/notifications", {"notify": "digest"},
                         get_url="/auth/account")
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(User, tenant_a.user_id).notify == "digest"
    post_form(owner_client, "/auth/account/notifications", {"notify": "loud"},
              get_url="/auth/account")
    db_session.expire_all()
    assert db_session.get(User, tenant_a.user_id).notify == "digest"
