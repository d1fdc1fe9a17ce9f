"""Connect: accounts, Account Links, Stripe-Account scoping, application fees, balance,
payouts, disputes and Connect webhooks.

Tests taking ``stripe_backend`` run against Stripe test mode too when
``STRIPE_TEST_SECRET_KEY`` is set (the platform must have Connect enabled); those that
need an onboarded account or the control API run on the simulator only.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
import stripe

from .helpers import direct_charge, paid_intent

SECRET = "whsec_test_connect_contract"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _open(url: str, data: dict | None = None):
    opener = urllib.request.build_opener(_NoRedirect)
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        return opener.open(urllib.request.Request(url, data=body))
    except urllib.error.HTTPError as exc:
        return exc


def _onboarded(sim, email: str = "vendor@example.com") -> str:
    acct = sim.client().v1.accounts.create(params={"type": "standard", "email": email})
    sim.control.onboard(acct.id)
    return acct.id


def test_a_new_account_cannot_take_charges_and_gets_a_single_use_onboarding_link(
        stripe_backend) -> None:
    client = stripe_backend.client()
    acct = client.v1.accounts.create(params={"type": "standard", "country": "US",
                                             "email": "new-vendor@example.com"})
    try:
        assert acct.id.startswith("acct_")
        assert acct.charges_enabled is False and acct.payouts_enabled is False
        assert acct.details_submitted is False
        assert acct.requirements.currently_due
        link = client.v1.account_links.create(params={
            "account": acct.id, "type": "account_onboarding",
            "refresh_url": "https://example.com/refresh", "return_url": "https://example.com/back"})
        assert link.object == "account_link" and link.url.startswith("http")
        assert link.expires_at > link.created
    finally:
        if stripe_backend.name == "stripe":
            client.v1.accounts.delete(acct.id)


def test_a_header_naming_an_unknown_account_is_refused(stripe_backend) -> None:
    with pytest.raises(stripe.PermissionError) as caught:
        stripe_backend.client().v1.payment_intents.list(
            options={"stripe_account": "acct_1NoSuchAccount0"})
    assert caught.value.http_status == 403
    assert "does not have access to account" in str(caught.value)


def test_onboarding_page_completes_once_then_sends_to_refresh_url(stripe_sim) -> None:
    client = stripe_sim.client()
    acct = client.v1.accounts.create(params={"type": "standard"})
    link = client.v1.account_links.create(params={
        "account": acct.id, "type": "account_onboarding",
        "refresh_url": "https://vendor.example/refresh", "return_url": "https://vendor.example/back"})
    page = _open(link.url)
    html = page.read().decode()
    assert page.status == 200 and "Complete onboarding" in html and acct.id in html
    done = _open(link.url, {"outcome": "complete"})
    assert done.status == 303 and done.headers["Location"] == "https://vendor.example/back"
    acct = client.v1.accounts.retrieve(acct.id)
    assert acct.charges_enabled and acct.payouts_enabled and not acct.requirements.currently_due
    again = _open(link.url)
    assert again.status == 302 and again.headers["Location"] == "https://vendor.example/refresh"


def test_onboarding_can_leave_requirements_due_and_charges_disabled(stripe_sim) -> None:
    client = stripe_sim.client()
    acct = client.v1.accounts.create(params={"type": "standard"})
    stripe_sim.control.onboard(acct.id, "requirements_due")
    acct = client.v1.accounts.retrieve(acct.id)
    assert acct.details_submitted is True and acct.charges_enabled is False
    assert acct.requirements.currently_due == ["individual.verification.document"]
    assert acct.requirements.disabled_reason == "requirements.past_due"


def test_objects_of_one_account_are_invisible_to_the_platform_and_other_accounts(
        stripe_sim) -> None:
    client = stripe_sim.client()
    a, b = _onboarded(stripe_sim), _onboarded(stripe_sim)
    pi = direct_charge(client, a, 4000)
    assert client.v1.payment_intents.retrieve(pi.id, options={"stripe_account": a}).id == pi.id
    for options in ({}, {"stripe_account": b}):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.payment_intents.retrieve(pi.id, options=options)
        assert caught.value.code == "resource_missing"
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.refunds.create(params={"payment_intent": pi.id}, options=options)
    assert [p.id for p in client.v1.payment_intents.list(options={"stripe_account": b}).data] == []
    logged = stripe_sim.control.requests("/v1/payment_intents")
    assert {e["stripe_account"] for e in logged} == {a, b, None}


def test_idempotency_keys_are_scoped_per_account(stripe_sim) -> None:
    client = stripe_sim.client()
    a, b = _onboarded(stripe_sim), _onboarded(stripe_sim)
    params = {"amount": 2000, "currency": "usd", "payment_method_types": ["card"]}
    first = client.v1.payment_intents.create(params=params, options={
        "stripe_account": a, "idempotency_key": "stage-1-pi-v1"})
    again = client.v1.payment_intents.create(params=params, options={
        "stripe_account": a, "idempotency_key": "stage-1-pi-v1"})
    other = client.v1.payment_intents.create(params=params, options={
        "stripe_account": b, "idempotency_key": "stage-1-pi-v1"})
    assert first.id == again.id and other.id != first.id


def test_application_fee_is_taken_and_refunded_in_proportion(stripe_sim) -> None:
    client = stripe_sim.client()
    a = _onboarded(stripe_sim)
    pi = direct_charge(client, a, 10000, application_fee_amount=500)
    assert pi.application_fee_amount == 500
    charge = client.v1.charges.retrieve(pi.latest_charge, options={"stripe_account": a})
    fee = client.v1.application_fees.retrieve(charge.application_fee)
    assert (fee.amount, fee.account, fee.charge) == (500, a, charge.id)
    client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 3000,
                                     "refund_application_fee": True},
                             options={"stripe_account": a})
    client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1000},
                             options={"stripe_account": a})
    fee = client.v1.application_fees.retrieve(charge.application_fee)
    assert fee.amount_refunded == 150 and fee.refunded is False
    balance = client.v1.balance.retrieve(options={"stripe_account": a})
    # 10000 charged - 500 fee + 150 fee back - 4000 refunded
    assert [(x.currency, x.amount) for x in balance.available] == [("usd", 5650)]


def test_application_fee_needs_a_connected_account(stripe_backend) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_backend.client().v1.payment_intents.create(params={
            "amount": 5000, "currency": "usd", "application_fee_amount": 100,
            "payment_method_types": ["card"]})
    assert caught.value.param == "application_fee_amount"


def test_payouts_take_the_available_balance_and_arrive(stripe_sim) -> None:
    client = stripe_sim.client()
    a = _onboarded(stripe_sim)
    direct_charge(client, a, 7000)
    [payout] = stripe_sim.control.pay_out(a)
    assert (payout["amount"], payout["status"]) == (7000, "in_transit")
    stripe_sim.control.payout_paid(payout["id"])
    listed = client.v1.payouts.list(options={"stripe_account": a}).data
    assert [(p.id, p.status) for p in listed] == [(payout["id"], "paid")]
    assert client.v1.payouts.list().data == []
    assert client.v1.balance.retrieve(options={"stripe_account": a}).available[0].amount == 0


def test_connect_endpoints_get_connected_account_events_and_platform_endpoints_do_not(
        stripe_sim, webhook_receiver) -> None:
    stripe_sim.control.add_webhook(webhook_receiver.url, SECRET, connect=True)
    client = stripe_sim.client()
    a = _onboarded(stripe_sim)
    paid_intent(client, 1500)  # a platform charge: not for the Connect endpoint
    direct_charge(client, a, 2500)
    assert stripe_sim.control.wait_for_webhooks(5)
    events = [stripe.Webhook.construct_event(r["body"], r["signature"], SECRET)
              for r in webhook_receiver.ok()]
    assert {e.account for e in events} == {a}
    assert "account.updated" in [e.type for e in events]
    assert [e.data.object.amount for e in events if e.type == "payment_intent.succeeded"] == [2500]
    assert all("_account" not in json.loads(r["body"]) for r in webhook_receiver.ok())


def test_a_deauthorized_account_is_refused_and_announced(stripe_sim) -> None:
    client = stripe_sim.client()
    a = _onboarded(stripe_sim)
    event = stripe_sim.control.deauthorize(a)
    assert (event["type"], event["account"]) == ("account.application.deauthorized", a)
    with pytest.raises(stripe.PermissionError):
        client.v1.payment_intents.list(options={"stripe_account": a})


def test_a_dispute_withdraws_the_funds_until_it_is_won(stripe_sim) -> None:
    client = stripe_sim.client()
    a = _onboarded(stripe_sim)
    pi = direct_charge(client, a, 6000)
    dispute = stripe_sim.control.open_dispute(pi.latest_charge, "product_not_received")
    assert dispute["status"] == "needs_response" and dispute["evidence_details"]["due_by"]
    fetched = client.v1.disputes.retrieve(dispute["id"], options={"stripe_account": a})
    assert (fetched.amount, fetched.reason) == (6000, "product_not_received")
    assert client.v1.charges.retrieve(pi.latest_charge, options={"stripe_account": a}).disputed
    assert client.v1.balance.retrieve(options={"stripe_account": a}).available[0].amount == 0
    stripe_sim.control.close_dispute(dispute["id"], "won")
    assert client.v1.balance.retrieve(options={"stripe_account": a}).available[0].amount == 6000
    types = [e.type for e in client.v1.events.list(options={"stripe_account": a}).data]
    assert types[:2] == ["charge.dispute.closed", "charge.dispute.created"]
