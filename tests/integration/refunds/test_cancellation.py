"""Cancellation policies: tiers and a non-refundable deposit, the policy frozen on the booking,
the couple's cancel page and POST, and a tenant's cancel with an overridden refund."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.fixtures.portal import csrf_from, post_form
from tests.integration.bookings.helpers import outbox_links
from tests.integration.payments.helpers import booking_status, stages
from tests.integration.refunds.helpers import audit_actions, paid_booking, parts, requests


def _quote(app, tenant_id: int, booking_id: int, days_before: int):
    from app.extensions import db
    from app.models import Booking
    from app.services.refunds import requests as refunds

    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        quote = refunds.cancellation_quote(db.session, booking,
                                           today=booking.event_date - timedelta(days=days_before))
        db.session.remove()
    return quote.amount_minor, quote.percent_bp


def _set_policy(app, account, deposit_refundable: bool, tiers):
    from app.extensions import db
    from app.services.refunds import policy as cancellation_policy

    with app.app_context():
        cancellation_policy.save(db.session, account.tenant_id, account.user_id,
                                 deposit_refundable=deposit_refundable, tiers=tiers)
        db.session.remove()


def test_default_policy_tiers_keep_the_deposit(app, client, shop, tenant_a, payments_sim):
    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id, balance=True)
    # Paid $2,500.00; the $750.00 deposit is not refundable: 100 % / 50 % / 0 % of $1,750.00.
    assert _quote(app, tenant_a.tenant_id, booking_id, 90) == (175000, 10000)
    assert _quote(app, tenant_a.tenant_id, booking_id, 89) == (87500, 5000)
    assert _quote(app, tenant_a.tenant_id, booking_id, 30) == (87500, 5000)
    assert _quote(app, tenant_a.tenant_id, booking_id, 29) == (0, 0)


def test_the_policy_in_force_when_booking_is_kept_after_the_tenant_changes_it(
        app, client, shop, tenant_a, payments_sim):
    _set_policy(app, tenant_a, True, [("60", "80"), ("", "")])
    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)  # $750 deposit
    _set_policy(app, tenant_a, False, [("10", "10")])
    assert _quote(app, tenant_a.tenant_id, booking_id, 60) == (60000, 8000)  # 80 % of $750, deposit too


def test_couple_cancels_from_the_portal_and_gets_the_policy_refund(
        app, client, shop, tenant_a, payments_sim):
    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id, days=120)
    _set_policy(app, tenant_a, True, [("90", "100")])  # new bookings only: this one keeps the default
    cancel_url = outbox_links(app)[-1]["cancel"]
    page = client.get(cancel_url).get_data(as_text=True)
    assert "Cancel now: refund of <strong>$0.00</strong> under this policy." in page  # deposit only
    booking_id_2 = paid_booking(app, client, payments_sim, tenant_a, shop.package_id, days=121,
                                email="second@example.com")  # policy: deposit refundable, 90+ 100 %
    cancel_url = [links for links in outbox_links(app) if links.get("cancel")][-1]["cancel"]
    page = client.get(cancel_url).get_data(as_text=True)
    assert "Cancel now: refund of <strong>$750.00</strong> under this policy." in page
    assert "The deposit is refundable." in page
    assert requests(app, booking_id_2) == []  # looking never acts

    done = client.post(cancel_url,
                       data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert done.status_code == 200
    assert "A refund of <strong>$750.00</strong> is on its way" in done.get_data(as_text=True)
    assert booking_status(app, booking_id_2) == "canceled"
    [request] = requests(app, booking_id_2)
    assert (request["amount"], request["reason"], request["requested_by"]) == (75000, "cancellation", "couple")
    assert [s["status"] for s in stages(app, booking_id_2)] == ["paid", "void"]
    assert [p["amount"] for p in parts(app, booking_id_2)] == [75000]
    from app.extensions import db
    from app.models import DateSlot, Reminder

    with app.app_context():
        assert db.session.scalar(select(DateSlot).where(DateSlot.booking_id == booking_id_2)) is None
        assert {r.status for r in db.session.scalars(select(Reminder).where(
            Reminder.booking_id == booking_id_2))} <= {"canceled"}
        db.session.remove()
    assert booking_status(app, booking_id) == "confirmed"


def test_tenant_cancels_with_another_amount_and_the_override_is_audited(
        app, client, owner_client, shop, tenant_a, payments_sim):
    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id, days=120)
    url = f"/dashboard/bookings/{booking_id}/cancel-with-refund"
    panel = owner_client.get(f"/dashboard/bookings/{booking_id}/refunds").get_data(as_text=True)
    assert 'data-testid="policy-refund">$0.00' in panel
    too_much = owner_client.post(url, data={"refund_amount": "750.01", "csrf_token": csrf_from(panel)})
    assert too_much.status_code == 400 and booking_status(app, booking_id) == "confirmed"
    response = post_form(owner_client, url, {"refund_amount": "500.00", "note": "goodwill"},
                         get_url=f"/dashboard/bookings/{booking_id}/refunds")
    assert response.status_code == 302
    assert booking_status(app, booking_id) == "canceled"
    assert requests(app, booking_id)[0]["amount"] == 50000
    actions = audit_actions(app, booking_id)
    assert "refund.policy_overridden" in actions and "booking.canceled" in actions


def test_a_booking_without_payments_cancels_without_a_refund(app, client, shop, tenant_a):
    from tests.integration.refunds.helpers import new_booking_links

    booking_id, cancel_url = new_booking_links(app, tenant_a, shop.package_id)
    page = client.get(cancel_url).get_data(as_text=True)
    assert "refund of <strong>$0.00</strong>" in page
    assert client.post(cancel_url, data={"csrf_token": csrf_from(page)},
                       follow_redirects=True).status_code == 200
    assert booking_status(app, booking_id) == "canceled" and requests(app, booking_id) == []
