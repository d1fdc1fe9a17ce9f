"""Cancelling while the couple's checkout page is still open: every way of cancelling voids the
unpaid stages and cancels their PaymentIntent at Stripe, and money that reached Stripe first is
refunded in full, with the owner told."""
from __future__ import annotations

import pytest
import stripe
from sqlalchemy import select

from app.queue import huey
from tests.fixtures.portal import RunningConsumer, csrf_from, post_form
from tests.integration.bookings.helpers import outbox_links
from tests.integration.payments.helpers import (
    booking_status,
    checkout_path,
    client_secret,
    confirm,
    intent_id,
    new_booking,
    payments_of,
    stages,
    wait_until,
)
from tests.integration.refunds.helpers import audit_actions, money, parts, requests, settle_at_stripe


def _open_checkout(app, client, account, booking_id: int) -> str:
    """The couple opens the deposit checkout: the page holds the intent's client secret."""
    path = checkout_path(app, account.slug, account.tenant_id, stages(app, booking_id)[0]["id"])
    return intent_id(client_secret(client.get(path).get_data(as_text=True)))


def _cancel_from_status_button(owner_client, booking_id: int):
    return post_form(owner_client, f"/dashboard/bookings/{booking_id}/status", {"to": "canceled"},
                     get_url=f"/dashboard/bookings/{booking_id}")


def _emails(app, kind: str, to: str | None = None) -> list:
    from app.extensions import db
    from app.models import OutboundEmail

    with app.app_context():
        query = select(OutboundEmail).where(OutboundEmail.kind == kind)
        if to is not None:
            query = query.where(OutboundEmail.to_addr == to)
        rows = [(r.to_addr, r.subject) for r in db.session.scalars(query.order_by(OutboundEmail.id))]
        db.session.remove()
    return rows


def _intent_status(sim, pi: str) -> str:
    return sim.client_for("payment_intent", pi).v1.payment_intents.retrieve(pi).status


def test_status_button_cancel_voids_the_stages_and_the_open_checkout_cannot_pay(
        app, client, owner_client, shop, tenant_a, payments_sim, consumer):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    pi = _open_checkout(app, client, tenant_a, booking_id)

    assert _cancel_from_status_button(owner_client, booking_id).status_code == 302
    assert booking_status(app, booking_id) == "canceled"
    assert [s["status"] for s in stages(app, booking_id)] == ["void", "void"]
    wait_until(lambda: _intent_status(payments_sim, pi) == "canceled")

    with pytest.raises(stripe.InvalidRequestError, match="status of canceled"):
        # Stripe.js on the page the couple left open presses Pay.
        payments_sim.client_for("payment_intent", pi).v1.payment_intents.confirm(
            pi, params={"payment_method": "pm_card_visa"})
    assert _intent_status(payments_sim, pi) == "canceled" and payments_of(app, booking_id) == []
    assert len(_emails(app, "booking_canceled")) == 1
    assert requests(app, booking_id) == []  # the status button never refunds


def test_cancel_with_refund_form_also_cancels_the_open_checkout(
        app, client, owner_client, shop, tenant_a, payments_sim, consumer):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    pi = _open_checkout(app, client, tenant_a, booking_id)
    response = post_form(owner_client, f"/dashboard/bookings/{booking_id}/cancel-with-refund",
                         {"refund_amount": "0"}, get_url=f"/dashboard/bookings/{booking_id}/refunds")
    assert response.status_code == 302 and booking_status(app, booking_id) == "canceled"
    wait_until(lambda: _intent_status(payments_sim, pi) == "canceled")
    assert [s["status"] for s in stages(app, booking_id)] == ["void", "void"]
    assert len(_emails(app, "booking_canceled")) == 1


def test_a_payment_that_reaches_stripe_after_the_cancel_is_refunded_in_full_and_the_owner_told(
        app, client, owner_client, shop, tenant_a, payments_sim, inbox):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    pi = _open_checkout(app, client, tenant_a, booking_id)
    # No consumer yet: the vendor cancels, and the couple presses Pay before the task that
    # cancels the intent at Stripe has run.
    assert _cancel_from_status_button(owner_client, booking_id).status_code == 302
    assert not isinstance(confirm(payments_sim, pi), Exception)
    assert _intent_status(payments_sim, pi) == "succeeded"

    running = RunningConsumer(huey)
    running.start()
    try:
        # The cancel task finds the intent succeeded, records the payment, and files the refund.
        wait_until(lambda: requests(app, booking_id))
        [part] = wait_until(lambda: [p for p in parts(app, booking_id) if p["stripe_id"]])
        inbox.wait_for(tenant_a.email, subject="is being refunded")
        inbox.wait_for("couple@example.com", subject="Refund of $750.00 started")
    finally:
        running.stop()

    [payment] = payments_of(app, booking_id)
    assert (payment["amount"], payment["intent"]) == (75000, pi)
    [request] = requests(app, booking_id)
    assert (request["amount"], request["reason"], request["requested_by"]) == (
        75000, "booking_canceled", "system")
    assert part["payment_id"] == payment["id"] and part["amount"] == 75000
    assert [s["status"] for s in stages(app, booking_id)] == ["void", "void"]  # nothing settled
    assert booking_status(app, booking_id) == "canceled"
    assert {"payment.for_inactive_booking", "refund.requested"} <= set(audit_actions(app, booking_id))
    assert len(_emails(app, "payment_after_cancellation", tenant_a.email)) == 1

    assert settle_at_stripe(app, payments_sim, part["id"]) == "succeeded"
    assert money(app, booking_id)[0]["refunded"] == 75000
    assert booking_status(app, booking_id) == "refunded"


def test_the_couples_cancel_link_cancels_the_checkout_they_left_open(
        app, client, shop, tenant_a, payments_sim, consumer):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    pi = _open_checkout(app, client, tenant_a, booking_id)
    cancel_url = outbox_links(app)[-1]["cancel"]
    page = client.get(cancel_url).get_data(as_text=True)
    assert client.post(cancel_url, data={"csrf_token": csrf_from(page)}).status_code == 303
    wait_until(lambda: _intent_status(payments_sim, pi) == "canceled")
    assert booking_status(app, booking_id) == "canceled"
    assert len(_emails(app, "booking_canceled")) == 1


def test_a_refused_cancel_changes_nothing(app, client, owner_client, shop, tenant_a, payments_sim):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    _open_checkout(app, client, tenant_a, booking_id)
    assert _cancel_from_status_button(owner_client, booking_id).status_code == 302
    again = post_form(owner_client, f"/dashboard/bookings/{booking_id}/cancel-with-refund",
                      {"refund_amount": "0"}, get_url=f"/dashboard/bookings/{booking_id}/refunds")
    assert again.status_code == 400  # already canceled: refused, nothing written twice
    assert len(_emails(app, "booking_canceled")) == 1
    assert audit_actions(app, booking_id).count("booking.canceled") == 1
