"""Two tenants, two connected accounts: every Stripe call made for a booking goes to the account
of the booking's tenant, and an event from one account never changes another tenant's rows."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.integration.payments.helpers import (
    checkout_path,
    client_secret,
    confirm,
    events_for,
    intent_id,
    new_booking,
    payments_of,
    process_stored,
    signed_post,
    stages,
    stored_events,
)
from tests.integration.refunds.helpers import paid_booking, parts, request_refund, run_part

OBJECT_ID = re.compile(r"/v1/(payment_intents|refunds|charges)/((?:pi|re|ch)_[A-Za-z0-9]+)")
KINDS = {"payment_intents": "payment_intent", "refunds": "refund", "charges": "charge"}


def _reconcile_parts(app, part_ids):
    """The refund sweeper's re-check of parts Stripe holds as pending."""
    from app.adapters.stripe_gateway import gateway_for
    from app.extensions import db
    from app.services.refunds import processing as refund_processing
    from app.web.links import WebLinks

    with app.app_context():
        outcomes = [refund_processing.reconcile_part(db.session, pid, gateway_for(app), WebLinks(app))
                    for pid in part_ids]
        db.session.remove()
    return outcomes


def test_every_stripe_call_for_a_booking_carries_its_own_tenants_account(
        app, client, shop, shop_b, tenant_a, tenant_b, sim_webhooks):
    sim = sim_webhooks
    sim.control.configure(refund_delay=None)  # refunds settle when the test says so
    accounts = {tenant_a.tenant_id: tenant_a.stripe_account, tenant_b.tenant_id: tenant_b.stripe_account}
    assert len(set(accounts.values())) == 2
    booking_a = paid_booking(app, client, sim, tenant_a, shop.package_id, balance=True)
    booking_b = paid_booking(app, client, sim, tenant_b, shop_b.package_id)
    request_refund(app, tenant_a, booking_a, 40000)
    request_refund(app, tenant_b, booking_b, 10000)
    for part in parts(app):
        assert run_part(app, part["id"]) == "processing"
    assert _reconcile_parts(app, [p["id"] for p in parts(app)]) == ["processing", "processing"]
    sim.control.settle_refunds()
    assert sim.control.wait_for_webhooks(10)
    for event in stored_events(app):
        process_stored(app, event["stripe_id"])
    assert {p["status"] for p in parts(app)} == {"succeeded"}
    assert {e["status"] for e in stored_events(app)} <= {"processed", "ignored"}

    logged = sim.control.requests("/v1/")
    assert logged, "the app made no Stripe calls"
    for entry in logged:
        assert entry["stripe_account"] in accounts.values(), entry  # never the platform alone
        match = OBJECT_ID.search(entry["path"])
        if match:  # a call about an object goes to the account the object lives on
            assert entry["stripe_account"] == sim.account_of(KINDS[match[1]], match[2]), entry
        if entry["method"] == "POST" and entry["path"].rstrip("/") == "/v1/payment_intents":
            tenant_id = int(entry["params"]["metadata"]["tenant_id"])
            assert entry["stripe_account"] == accounts[tenant_id], entry
        if entry["method"] == "POST" and entry["path"].rstrip("/") == "/v1/refunds":
            pi = entry["params"]["payment_intent"]
            assert entry["stripe_account"] == sim.account_of("payment_intent", pi), entry
            assert int(entry["params"]["metadata"]["tenant_id"]) == [
                t for t, a in accounts.items() if a == entry["stripe_account"]][0]
    # Each tenant's money is on its own account, and only there.
    for account, booking_id in ((tenant_a, booking_a), (tenant_b, booking_b)):
        for payment in payments_of(app, booking_id):
            assert sim.account_of("payment_intent", payment["intent"]) == account.stripe_account


def test_an_event_from_one_account_about_another_tenants_intent_changes_nothing_and_asks_nothing(
        app, client, shop_b, tenant_a, tenant_b, payments_sim):
    booking_b = new_booking(app, tenant_b, shop_b.package_id)
    path_b = checkout_path(app, "bravo", tenant_b.tenant_id, stages(app, booking_b)[0]["id"])
    pi_b = intent_id(client_secret(client.get(path_b).get_data(as_text=True)))
    confirm(payments_sim, pi_b)
    genuine = events_for(payments_sim, pi_b, "payment_intent.succeeded")[0]
    assert genuine["account"] == tenant_b.stripe_account
    mismatched = {**genuine, "id": "evt_from_a", "account": tenant_a.stripe_account}
    unknown = {**genuine, "id": "evt_from_nobody", "account": "acct_1Nobody"}
    payments_sim.control.clear_requests()
    for event in (mismatched, unknown):
        assert signed_post(client, "", event).status_code == 200
        assert process_stored(app, event["id"]) == "ignored"
    assert payments_sim.control.requests("/v1/") == []  # nothing was asked of any account
    rows = {e["stripe_id"]: e for e in stored_events(app)}
    assert "another tenant" in rows["evt_from_a"]["last_error"] \
        or "mismatch" in rows["evt_from_a"]["last_error"]
    assert "no tenant owns" in rows["evt_from_nobody"]["last_error"]
    assert payments_of(app, booking_b) == [] and stages(app, booking_b)[0]["status"] == "due"
    # The genuine event, from B's own account, records B's payment.
    assert signed_post(client, "", genuine).status_code == 200
    assert process_stored(app, genuine["id"]) == "processed"
    assert [p["amount"] for p in payments_of(app, booking_b)] == [stages(app, booking_b)[0]["amount"]]


def test_a_platform_event_cannot_act_on_a_connected_accounts_intent(
        app, client, shop, tenant_a, payments_sim):
    booking = new_booking(app, tenant_a, shop.package_id)
    path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking)[0]["id"])
    pi = intent_id(client_secret(client.get(path).get_data(as_text=True)))
    confirm(payments_sim, pi)
    event = {k: v for k, v in events_for(payments_sim, pi, "payment_intent.succeeded")[0].items()
             if k != "account"}
    assert signed_post(client, app.config["STRIPE_WEBHOOK_SECRET"], event).status_code == 200
    assert process_stored(app, event["id"]) == "ignored"
    assert payments_of(app, booking) == []


def test_a_connect_event_signed_with_the_platform_secret_is_refused(app, client, tenant_a):
    import json

    from stripe_sim.webhooks import sign

    body = json.dumps({"id": "evt_forged", "object": "event", "type": "account.updated",
                       "account": tenant_a.stripe_account,
                       "data": {"object": {"id": tenant_a.stripe_account, "object": "account"}}})
    response = client.post("/webhooks/stripe/connect", data=body, content_type="application/json",
                           headers={"Stripe-Signature": sign(body, app.config["STRIPE_WEBHOOK_SECRET"])})
    assert response.status_code == 400
    assert stored_events(app) == []


def test_a_deauthorized_account_disconnects_the_tenant_tells_the_owner_once_and_mutes_its_events(
        app, client, shop, tenant_a, payments_sim, db_session):
    from app.models import OutboundEmail, Tenant

    booking = new_booking(app, tenant_a, shop.package_id)
    path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking)[0]["id"])
    pi = intent_id(client_secret(client.get(path).get_data(as_text=True)))
    confirm(payments_sim, pi)
    late_payment = events_for(payments_sim, pi, "payment_intent.succeeded")[0]
    event = payments_sim.control.deauthorize(tenant_a.stripe_account)
    for _ in range(2):
        assert signed_post(client, "", event).status_code == 200
    assert process_stored(app, event["id"]) == "processed"
    tenant = db_session.get(Tenant, tenant_a.tenant_id)
    assert tenant.stripe_disconnected_at is not None and not tenant.can_take_charges
    mails = db_session.scalars(select(OutboundEmail).where(OutboundEmail.kind == "stripe_disconnected")).all()
    assert [m.to_addr for m in mails] == [tenant_a.email]
    assert signed_post(client, "", late_payment).status_code == 200
    assert process_stored(app, late_payment["id"]) == "ignored"
    assert "disconnected" in [e for e in stored_events(app) if e["stripe_id"] == late_payment["id"]][0][
        "last_error"]
    # The couple's checkout now says so instead of failing at Stripe.
    page = client.get(path)
    assert page.status_code == 200 and 'data-state="unavailable"' in page.get_data(as_text=True)
