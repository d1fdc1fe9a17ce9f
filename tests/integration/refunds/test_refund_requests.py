"""Refund requests from the dashboard: split across payments, several partials, limits, the
booking's refund states, emails, and tenant isolation."""
from __future__ import annotations

import pytest

from tests.fixtures.accounts import login
from tests.fixtures.portal import csrf_from
from tests.integration.payments.helpers import booking_status
from tests.integration.refunds.helpers import (
    audit_actions,
    money,
    paid_booking,
    parts,
    request_refund,
    requests,
    run_part,
    settle_at_stripe,
    sim_refunds,
)


def _post_refund(client, booking_id: int, amount: str, reason: str = "requested_by_customer", **headers):
    page = client.get(f"/dashboard/bookings/{booking_id}")
    return client.post(f"/dashboard/bookings/{booking_id}/refunds",
                       data={"amount": amount, "reason": reason, "note": "",
                             "csrf_token": csrf_from(page.get_data(as_text=True))}, headers=headers)


def test_refund_splits_newest_payment_first_and_is_rows_before_stripe(
        app, client, owner_client, shop, tenant_a, payments_sim):
    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id, balance=True)
    preview = owner_client.get(f"/dashboard/bookings/{booking_id}/refunds/preview?amount=2000.00",
                               headers={"HX-Request": "true"}).get_data(as_text=True)
    assert preview.count('data-testid="split-line"') == 2
    assert "$1,750.00" in preview and "$250.00" in preview
    too_much = owner_client.get(f"/dashboard/bookings/{booking_id}/refunds/preview?amount=2500.01")
    assert "more than can still be refunded ($2,500.00)" in too_much.get_data(as_text=True)

    response = _post_refund(owner_client, booking_id, "2000.00", HX_Request="true")
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    rows = parts(app, booking_id)
    assert [(p["amount"], p["status"], p["stripe_id"]) for p in rows] == [
        (175000, "pending", None), (25000, "pending", None)]  # newest (balance) first
    assert sim_refunds(payments_sim) == []  # nothing at Stripe before the task runs
    assert sorted((m["pending"], m["refunded"]) for m in money(app, booking_id)) == [
        (25000, 0), (175000, 0)]
    for row in rows:
        assert run_part(app, row["id"]) == "processing"  # Stripe holds refunds as pending first
    at_stripe = sim_refunds(payments_sim)
    assert sorted(r["amount"] for r in at_stripe) == [25000, 175000]
    assert {r["metadata"]["refund_part_id"] for r in at_stripe} == {str(p["id"]) for p in rows}
    assert "refund.requested" in audit_actions(app, booking_id)


def test_partial_refunds_settle_and_move_the_booking_to_partially_then_fully_refunded(
        app, client, owner_client, shop, tenant_a, payments_sim, inbox, consumer):
    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)  # $750 deposit
    first = request_refund(app, tenant_a, booking_id, 20000)
    [part] = parts(app, booking_id)
    assert settle_at_stripe(app, payments_sim, part["id"]) == "succeeded"
    assert requests(app, booking_id)[0] == {"id": first, "amount": 20000, "status": "succeeded",
                                            "reason": "requested_by_customer", "requested_by": "user"}
    assert booking_status(app, booking_id) == "partially_refunded"
    assert money(app, booking_id)[0]["refunded"] == 20000
    inbox.wait_for("couple@example.com", subject="Refund of $200.00 started")
    inbox.wait_for("couple@example.com", subject="Refund of $200.00 completed")

    request_refund(app, tenant_a, booking_id, 55000)
    second = parts(app, booking_id)[1]
    assert settle_at_stripe(app, payments_sim, second["id"]) == "succeeded"
    assert booking_status(app, booking_id) == "refunded"
    assert money(app, booking_id)[0] == {**money(app, booking_id)[0], "refunded": 75000, "pending": 0}
    with pytest.raises(Exception) as refused:
        request_refund(app, tenant_a, booking_id, 1)
    assert "more than can still be refunded ($0.00)" in str(refused.value)


def test_amount_over_what_is_left_is_refused_with_the_refundable_amount(
        app, client, owner_client, shop, tenant_a, payments_sim):
    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    request_refund(app, tenant_a, booking_id, 50000)  # still pending counts as taken
    response = _post_refund(owner_client, booking_id, "250.01", HX_Request="true")
    assert response.status_code == 409
    assert "more than can still be refunded ($250.00)" in response.get_data(as_text=True)
    for amount in ("0", "-5", "abc", "1.234"):
        assert _post_refund(owner_client, booking_id, amount).status_code == 400
    assert len(requests(app, booking_id)) == 1


def test_tenant_b_cannot_see_create_or_retry_refunds_of_tenant_a(
        app, client, shop, tenant_a, tenant_b, payments_sim):
    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    request_id = request_refund(app, tenant_a, booking_id, 10000)
    [part] = parts(app, booking_id)
    other = app.test_client()
    login(other, tenant_b.email)
    token = csrf_from(other.get("/dashboard/settings").get_data(as_text=True))
    base = f"/dashboard/bookings/{booking_id}"
    for url in (f"{base}/refunds", f"{base}/refunds/preview?amount=1", f"{base}/refunds/{request_id}"):
        assert other.get(url).status_code == 404, url
    for url, data in ((f"{base}/refunds", {"amount": "1", "reason": "duplicate"}),
                      (f"{base}/refunds/parts/{part['id']}/retry", {}),
                      (f"{base}/cancel-with-refund", {"refund_amount": "0"})):
        assert other.post(url, data={**data, "csrf_token": token}).status_code == 404, url
    assert len(requests(app, booking_id)) == 1 and booking_status(app, booking_id) == "confirmed"


def test_the_dashboard_panel_polls_until_the_request_is_final(
        app, client, owner_client, shop, tenant_a, payments_sim, consumer):
    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    request_id = request_refund(app, tenant_a, booking_id, 10000)
    fragment = owner_client.get(f"/dashboard/bookings/{booking_id}/refunds/{request_id}",
                                headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="load delay:1s"' in fragment
    assert settle_at_stripe(app, payments_sim, parts(app, booking_id)[0]["id"]) == "succeeded"
    fragment = owner_client.get(f"/dashboard/bookings/{booking_id}/refunds/{request_id}",
                                headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-status="succeeded"' in fragment and "hx-trigger" not in fragment


def test_the_couple_sees_the_refund_status_in_the_portal(
        app, client, shop, tenant_a, payments_sim, consumer):
    from tests.integration.bookings.helpers import outbox_links

    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    request_refund(app, tenant_a, booking_id, 15000)
    manage = outbox_links(app)[-1]["manage"]
    page = client.get(manage).get_data(as_text=True)
    assert 'data-testid="portal-refund" data-status="' in page and "$150.00" in page
    assert "on its way" in page
    assert settle_at_stripe(app, payments_sim, parts(app, booking_id)[0]["id"]) == "succeeded"
    assert "refunded to your card" in client.get(manage).get_data(as_text=True)


def test_each_request_attempt_and_outcome_is_audited_with_tenant_actor_and_amounts(
        app, client, shop, tenant_a, payments_sim, consumer):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import AuditEvent

    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    request_id = request_refund(app, tenant_a, booking_id, 12345)
    [part] = parts(app, booking_id)
    assert settle_at_stripe(app, payments_sim, part["id"]) == "succeeded"
    with app.app_context():
        events = {e.action: e for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.subject_type == "booking",
                                     AuditEvent.subject_id == booking_id,
                                     AuditEvent.action.like("refund.%")))}
        db.session.remove()
    requested, attempt = events["refund.requested"], events["refund.attempt"]
    succeeded = events["refund.succeeded"]
    assert all(e.tenant_id == tenant_a.tenant_id for e in events.values())
    assert (requested.actor, requested.actor_user_id) == ("user", tenant_a.user_id)
    assert requested.details["amount_minor"] == 12345 and requested.details["currency"] == "USD"
    assert requested.details["refund_request_id"] == request_id
    assert requested.details["parts"] == [{"part_id": part["id"], "payment_id": part["payment_id"],
                                           "amount_minor": 12345}]
    assert attempt.details["refund_part_id"] == part["id"] and attempt.details["attempt"] == 1
    assert attempt.details["amount_minor"] == 12345
    assert succeeded.actor == "stripe" and succeeded.details["amount_minor"] == 12345
    assert succeeded.details["stripe_refund_id"] == parts(app, booking_id)[0]["stripe_id"] is not None
