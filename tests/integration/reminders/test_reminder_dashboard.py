"""The reminder log, a booking's reminders, send-now/retry and the rules page, per tenant."""
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from app.models import Reminder, ReminderRule
from tests.fixtures.portal import csrf_from, post_form
from tests.integration.bookings.helpers import book, future, make_catalog
from tests.integration.reminders.conftest import reminders_of, set_payment_rules, wait_until


@pytest.fixture()
def b_booking(app, tenant_b):
    """A confirmed booking of tenant B, with its reminders."""
    shop_b = make_catalog(app, tenant_b.tenant_id, tenant_b.user_id)
    set_payment_rules(app, tenant_b.tenant_id, tenant_b.user_id, False)
    return book(app, tenant_b.tenant_id, shop_b.package_id, future(app, tenant_b.tenant_id, 40),
                actor="user", actor_user_id=tenant_b.user_id, initial_status="confirmed")


def test_log_lists_and_filters_reminders(app, owner_client, db_session, confirmed):
    booking_id = confirmed()
    page = owner_client.get("/dashboard/reminders").get_data(as_text=True)
    assert "3 reminders" in page and "Alex &amp; Sam" in page
    only_after = owner_client.get("/dashboard/reminders?kind=after_event",
                                  headers={"HX-Request": "true", "HX-Target": "reminder-rows"})
    body = only_after.get_data(as_text=True)
    assert "1 reminder" in body and "<html" not in body and "after event" in body
    assert "0 reminders" in owner_client.get("/dashboard/reminders?status=sent").get_data(as_text=True)
    fragment = owner_client.get(f"/dashboard/bookings/{booking_id}/reminders").get_data(as_text=True)
    assert fragment.count('id="reminder-') == 3


def test_send_now_sends_a_scheduled_reminder_at_once(app, owner_client, db_session, confirmed,
                                                     consumer, inbox):
    booking_id = confirmed()
    r = reminders_of(db_session, booking_id)[0]
    page = owner_client.get("/dashboard/reminders").get_data(as_text=True)
    # Send now asks first, naming the recipient and when it was due.
    assert (f'hx-confirm="Send the {r.kind.replace("_", " ")} reminder to couple@example.com now? '
            f'It is scheduled for {r.local_date.isoformat()}') in page
    response = owner_client.post(f"/dashboard/reminders/{r.id}/send-now",
                                 data={"csrf_token": csrf_from(page)}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and f'id="reminder-{r.id}"' in response.get_data(as_text=True)
    inbox.wait_for("couple@example.com", subject="coming up")

    def sent():
        db_session.expire_all()
        return db_session.get(Reminder, r.id).status == "sent"

    wait_until(sent, message="reminder sent")
    again = owner_client.post(f"/dashboard/reminders/{r.id}/send-now", data={"csrf_token": csrf_from(page)})
    assert again.status_code == 409  # already sent: not twice


def test_retry_puts_a_failed_reminder_back(app, owner_client, db_session, confirmed):
    booking_id = confirmed()
    r = reminders_of(db_session, booking_id)[0]
    r.status, r.last_error = "failed", "SMTP said no"
    db_session.commit()
    page = owner_client.get("/dashboard/reminders?status=failed").get_data(as_text=True)
    assert "SMTP said no" in page and "Retry" in page
    response = owner_client.post(f"/dashboard/reminders/{r.id}/retry", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Reminder, r.id).status == "scheduled"
    assert owner_client.post(f"/dashboard/reminders/{r.id}/retry",
                             data={"csrf_token": csrf_from(page)}).status_code == 409


def test_owner_adds_and_turns_off_rules(app, owner_client, db_session, tenant_a, confirmed):
    booking_id = confirmed()
    response = post_form(owner_client, "/dashboard/settings/reminders",
                         {"kind": "before_event", "offset_days": "10", "send_time": "09:30"})
    assert response.status_code == 302
    rule = db_session.scalars(select(ReminderRule).where(ReminderRule.kind == "before_event",
                                                         ReminderRule.offset_days == 10)).one()
    assert rule.tenant_id == tenant_a.tenant_id and rule.send_time == time(9, 30)
    assert any(x.key == f"{rule.id}:0" for x in reminders_of(db_session, booking_id))
    page = owner_client.get("/dashboard/settings/reminders").get_data(as_text=True)
    off = owner_client.post(f"/dashboard/settings/reminders/{rule.id}/disable", data={"csrf_token": csrf_from(page)})
    assert off.status_code == 302
    db_session.expire_all()
    assert db_session.get(ReminderRule, rule.id).active is False


@pytest.mark.parametrize("data,message", [
    ({"kind": "before_event", "offset_days": "-1", "send_time": "10:00"}, "between 0 and 365"),
    ({"kind": "before_event", "offset_days": "400", "send_time": "10:00"}, "between 0 and 365"),
    ({"kind": "past_due", "offset_days": "366", "send_time": "10:00"}, "between 0 and 365"),
    ({"kind": "past_due", "offset_days": "soon", "send_time": "10:00"}, "Not a valid integer"),
    ({"kind": "past_due", "offset_days": "10", "send_time": "10:00"}, "already exists"),
    ({"kind": "sometime", "offset_days": "1", "send_time": "10:00"}, "Not a valid choice"),
    ({"kind": "before_event", "offset_days": "1", "send_time": "25:00"}, "Not a valid time"),
    ({"kind": "before_event", "offset_days": "3", "send_time": "10:00"}, "already exists"),
])
def test_bad_rules_are_refused_and_nothing_changes(owner_client, db_session, tenant_a, confirmed, data,
                                                   message):
    booking_id = confirmed(balance=True)
    before = db_session.scalars(select(ReminderRule)).all()
    planned = len(reminders_of(db_session, booking_id))
    response = post_form(owner_client, "/dashboard/settings/reminders", data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    db_session.expire_all()
    assert len(db_session.scalars(select(ReminderRule)).all()) == len(before)
    assert len(reminders_of(db_session, booking_id)) == planned


def test_owner_adds_a_past_due_rule_and_upcoming_open_stages_get_it(owner_client, db_session,
                                                                     confirmed):
    from app.models import PaymentStage

    booking_id = confirmed(balance=True)
    page = owner_client.get("/dashboard/settings/reminders").get_data(as_text=True)
    assert '<option value="past_due">After a payment is due</option>' in page
    assert "3 days after a payment is due, while it is unpaid" in page  # the defaults, in words
    response = post_form(owner_client, "/dashboard/settings/reminders",
                         {"kind": "past_due", "offset_days": "1", "send_time": "18:15"})
    assert response.status_code == 302
    rule = db_session.scalars(select(ReminderRule).where(ReminderRule.kind == "past_due",
                                                         ReminderRule.offset_days == 1)).one()
    assert rule.send_time == time(18, 15) and rule.active
    open_stages = db_session.scalars(select(PaymentStage).where(PaymentStage.booking_id == booking_id)).all()
    mine = {r.stage_id: r for r in reminders_of(db_session, booking_id) if r.rule_id == rule.id}
    assert mine.keys() == {s.id for s in open_stages}
    for stage in open_stages:
        assert (mine[stage.id].local_date, mine[stage.id].local_time) == (
            stage.due_date + timedelta(days=1), time(18, 15))
    assert "1 day after a payment is due" in owner_client.get("/dashboard/settings/reminders").get_data(as_text=True)
    log = owner_client.get("/dashboard/reminders?kind=past_due").get_data(as_text=True)
    assert f"{len(open_stages) * 3} reminders" in log and "past due" in log


def test_tenant_a_never_sees_or_acts_on_tenant_b_reminders(app, owner_client, db_session, tenant_a,
                                                           b_booking):
    theirs = reminders_of(db_session, b_booking)
    assert theirs and all(r.tenant_id != tenant_a.tenant_id for r in theirs)
    page = owner_client.get("/dashboard/reminders").get_data(as_text=True)
    assert "0 reminders" in page
    token = csrf_from(page)
    rule_b = db_session.scalars(select(ReminderRule).where(ReminderRule.tenant_id != tenant_a.tenant_id)).first()
    past_due_b = db_session.scalars(select(ReminderRule).where(
        ReminderRule.tenant_id != tenant_a.tenant_id, ReminderRule.kind == "past_due")).first()
    for method, url in [
        ("get", f"/dashboard/bookings/{b_booking}/reminders"),
        ("post", f"/dashboard/reminders/{theirs[0].id}/send-now"),
        ("post", f"/dashboard/reminders/{theirs[0].id}/retry"),
        ("post", f"/dashboard/settings/reminders/{rule_b.id}/disable"),
        ("post", f"/dashboard/settings/reminders/{past_due_b.id}/enable"),
    ]:
        response = getattr(owner_client, method)(url, data={"csrf_token": token} if method == "post" else None)
        assert response.status_code == 404, url
    db_session.expire_all()
    assert [r.status for r in reminders_of(db_session, b_booking)] == [r.status for r in theirs]
    assert db_session.get(ReminderRule, rule_b.id).active is True
    assert db_session.get(ReminderRule, past_due_b.id).active is False  # turned off by b_booking


def test_staff_see_the_log_but_not_the_rules(app, db_session, tenant_a):
    from app.services.shared import tokens

    raw = tokens.issue(db_session, tenant_a.tenant_id, "staff_invite", None, {"email": "st@x.example", "role": "staff"})
    db_session.commit()
    c = app.test_client()
    post_form(c, f"/auth/invite/{raw}", {"name": "S", "password": "s-password-123"})
    assert c.get("/dashboard/reminders").status_code == 200
    assert c.get("/dashboard/settings/reminders").status_code == 403
