"""Customers, saved PaymentMethods, SetupIntents and off-session PaymentIntents through the
official SDK, on the simulator and (with a key) Stripe test mode.

Tests that must answer 3D Secure without a browser use the simulator's control API
(``/_sim/.../authenticate``) and run on the simulator only.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import stripe

from stripe_sim import SimControl, create_app, serve
from tests.fixtures.stripe_sim import SimHandle, StripeBackend, make_client

AUTH_DECLINE = "Your card was declined. This transaction requires authentication."


@pytest.fixture()
def client(stripe_backend: StripeBackend) -> stripe.StripeClient:
    return stripe_backend.client()


@pytest.fixture()
def sim(stripe_backend: StripeBackend) -> SimHandle:
    """The simulator, for tests that answer 3D Secure through its control API."""
    return stripe_backend.require_sim()


@pytest.fixture()
def cus(client: stripe.StripeClient) -> stripe.Customer:
    """A fresh customer (on Stripe test mode too)."""
    return _customer(client)


def _customer(client: stripe.StripeClient, **params: Any) -> stripe.Customer:
    return client.v1.customers.create(params={"email": "couple@example.com", **params})


def _saved_card(client: stripe.StripeClient, customer: str, card: str = "pm_card_visa"
                ) -> str:
    """A card saved for off-session use through a SetupIntent that needs no authentication."""
    si = client.v1.setup_intents.create(params={
        "customer": customer, "payment_method": card, "payment_method_types": ["card"],
        "confirm": True})
    assert si.status == "succeeded"
    return si.payment_method


def _off_session(client: stripe.StripeClient, customer: str, pm: str, amount: int = 5000,
                 **options: Any) -> stripe.PaymentIntent:
    params: dict[str, Any] = {"amount": amount, "currency": "usd", "customer": customer,
                              "payment_method": pm, "off_session": True, "confirm": True,
                              "payment_method_types": ["card"],
                              "metadata": {"stage_id": "2"}}
    return client.v1.payment_intents.create(params=params, options=options)  # type: ignore


def test_customer_create_retrieve_update_list_delete(client: stripe.StripeClient) -> None:
    email = f"{StripeBackend.key()}@example.com"
    cus = _customer(client, email=email, name="Ada & Bo", description="Booking 42",
                    metadata={"booking_id": "42"})
    assert cus.id.startswith("cus_") and cus.object == "customer"
    assert (cus.email, cus.name, cus.description) == (email, "Ada & Bo", "Booking 42")
    assert cus.invoice_settings.default_payment_method is None
    updated = client.v1.customers.update(cus.id, params={"name": "Ada and Bo",
                                                         "metadata": {"tenant": "7"}})
    assert updated.name == "Ada and Bo"
    assert updated.metadata.to_dict() == {"booking_id": "42", "tenant": "7"}
    assert client.v1.customers.retrieve(cus.id).name == "Ada and Bo"
    listed = client.v1.customers.list(params={"email": email})
    assert [c.id for c in listed.data] == [cus.id]
    deleted = client.v1.customers.delete(cus.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (cus.id, "customer", True)
    assert client.v1.customers.retrieve(cus.id).deleted is True
    assert client.v1.customers.list(params={"email": email}).data == []
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.update(cus.id, params={"name": "x"})
    assert exc.value.code == "resource_missing"


def test_attach_list_and_detach_payment_methods(client: stripe.StripeClient,
                                                cus: stripe.Customer) -> None:
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": cus.id})
    assert pm.id.startswith("pm_") and pm.id != "pm_card_visa"
    assert (pm.customer, pm.card.brand, pm.card.last4) == (cus.id, "visa", "4242")
    assert pm.card.exp_month and pm.card.exp_year
    mastercard = client.v1.payment_methods.attach("pm_card_mastercard",
                                                  params={"customer": cus.id})
    listed = client.v1.payment_methods.list(params={"customer": cus.id, "type": "card"})
    assert [m.id for m in listed.data] == [mastercard.id, pm.id]
    by_customer = client.v1.customers.payment_methods.list(cus.id, params={"type": "card"})
    assert [m.id for m in by_customer.data] == [mastercard.id, pm.id]
    client.v1.customers.update(cus.id, params={
        "invoice_settings": {"default_payment_method": pm.id}})
    detached = client.v1.payment_methods.detach(pm.id)
    assert detached.customer is None
    assert client.v1.customers.retrieve(cus.id).invoice_settings.default_payment_method is None
    left = client.v1.customers.payment_methods.list(cus.id)
    assert [m.id for m in left.data] == [mastercard.id]
    with pytest.raises(stripe.InvalidRequestError, match="not attached to a customer"):
        client.v1.payment_methods.detach(pm.id)


def test_a_payment_method_belongs_to_one_customer(client: stripe.StripeClient) -> None:
    first, second = _customer(client), _customer(client, email="other@example.com")
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": first.id})
    with pytest.raises(stripe.InvalidRequestError, match="already been attached") as exc:
        client.v1.payment_methods.attach(pm.id, params={"customer": second.id})
    assert exc.value.http_status == 400
    assert client.v1.payment_methods.retrieve(pm.id).customer == first.id
    with pytest.raises(stripe.InvalidRequestError) as used:
        _off_session(client, second.id, pm.id)
    assert used.value.param == "payment_method"
    with pytest.raises(stripe.InvalidRequestError, match="must be attached to the customer"):
        client.v1.customers.update(second.id, params={
            "invoice_settings": {"default_payment_method": pm.id}})


def test_customer_created_with_a_default_card(client: stripe.StripeClient) -> None:
    cus = _customer(client, payment_method="pm_card_visa",
                    invoice_settings={"default_payment_method": "pm_card_visa"})
    default = cus.invoice_settings.default_payment_method
    assert default and default.startswith("pm_")
    assert client.v1.payment_methods.retrieve(default).customer == cus.id
    with pytest.raises(stripe.CardError) as exc:
        _customer(client, payment_method="pm_card_chargeDeclined")
    assert exc.value.code == "card_declined"


def test_setup_intent_then_off_session_payment(client: stripe.StripeClient,
                                               cus: stripe.Customer) -> None:
    si = client.v1.setup_intents.create(params={
        "customer": cus.id, "payment_method_types": ["card"], "metadata": {"booking_id": "5"}})
    assert si.id.startswith("seti_") and si.client_secret.startswith(f"{si.id}_secret_")
    assert (si.status, si.usage, si.customer) == ("requires_payment_method", "off_session",
                                                   cus.id)
    done = client.v1.setup_intents.confirm(si.id, params={"payment_method": "pm_card_visa"})
    assert done.status == "succeeded" and done.last_setup_error is None
    pm = client.v1.payment_methods.retrieve(done.payment_method)
    assert pm.customer == cus.id
    pi = _off_session(client, cus.id, pm.id, 7500)
    assert (pi.status, pi.amount_received, pi.customer, pi.payment_method) == (
        "succeeded", 7500, cus.id, pm.id)
    listed = client.v1.setup_intents.list(params={"customer": cus.id})
    assert [s.id for s in listed.data] == [si.id]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.setup_intents.cancel(si.id)
    assert exc.value.code == "setup_intent_unexpected_state"


def test_setup_intent_update_and_cancel(client: stripe.StripeClient,
                                        cus: stripe.Customer) -> None:
    si = client.v1.setup_intents.create(params={"payment_method_types": ["card"]})
    updated = client.v1.setup_intents.update(si.id, params={
        "customer": cus.id, "metadata": {"k": "v"}, "description": "Card for the balance"})
    assert (updated.customer, updated.description) == (cus.id, "Card for the balance")
    canceled = client.v1.setup_intents.cancel(si.id, params={"cancellation_reason": "abandoned"})
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.setup_intents.confirm(si.id, params={"payment_method": "pm_card_visa"})
    assert exc.value.code == "setup_intent_unexpected_state"


def test_declining_card_fails_set_up(client: stripe.StripeClient,
                                     cus: stripe.Customer) -> None:
    si = client.v1.setup_intents.create(params={"customer": cus.id,
                                                "payment_method_types": ["card"]})
    with pytest.raises(stripe.CardError) as exc:
        client.v1.setup_intents.confirm(si.id, params={"payment_method": "pm_card_chargeDeclined"})
    assert (exc.value.http_status, exc.value.code) == (402, "card_declined")
    after = client.v1.setup_intents.retrieve(si.id)
    assert after.status == "requires_payment_method"
    assert after.last_setup_error.code == "card_declined"
    assert client.v1.customers.payment_methods.list(cus.id).data == []


def test_3155_authenticated_set_up_then_off_session_succeeds(
        sim: SimHandle, client: stripe.StripeClient, cus: stripe.Customer) -> None:
    si = client.v1.setup_intents.create(params={
        "customer": cus.id, "payment_method": "pm_card_authenticationRequiredOnSetup",
        "payment_method_types": ["card"], "confirm": True})
    assert si.status == "requires_action" and si.next_action.type == "use_stripe_sdk"
    assert client.v1.setup_intents.retrieve(si.id).status == "requires_action"
    assert client.v1.customers.payment_methods.list(cus.id).data == []
    done = sim.control.authenticate_setup_intent(si.id)
    assert done["status"] == "succeeded" and done["next_action"] is None
    pm = client.v1.payment_methods.retrieve(done["payment_method"])
    assert pm.customer == cus.id and pm.card.last4 == "3155"
    pi = _off_session(client, cus.id, pm.id)
    assert pi.status == "succeeded"
    # On-session payments with it still ask for authentication.
    on_session = client.v1.payment_intents.create(params={
        "amount": 1000, "currency": "usd", "customer": cus.id, "payment_method": pm.id,
        "confirm": True, "payment_method_types": ["card"]})
    assert on_session.status == "requires_action"
    changed = client.v1.payment_intents.update(on_session.id, params={"payment_method": pm.id})
    assert (changed.status, changed.next_action) == ("requires_confirmation", None)
    types = [e.type for e in client.v1.events.list(params={"limit": 20}).data]
    for expected in ("setup_intent.created", "setup_intent.requires_action",
                     "setup_intent.succeeded", "payment_method.attached"):
        assert expected in types


def test_3155_off_session_without_set_up_needs_authentication(client: stripe.StripeClient,
                                                              cus: stripe.Customer) -> None:
    pm = client.v1.payment_methods.attach("pm_card_authenticationRequiredOnSetup",
                                          params={"customer": cus.id})
    with pytest.raises(stripe.CardError) as exc:
        _off_session(client, cus.id, pm.id)
    assert exc.value.code == "authentication_required"
    assert exc.value.error.payment_intent.status == "requires_payment_method"


def test_3184_off_session_is_declined_then_paid_on_session(client: stripe.StripeClient,
                                                           cus: stripe.Customer,
                                                           stripe_backend: StripeBackend) -> None:
    pm = client.v1.payment_methods.attach("pm_card_authenticationRequired",
                                          params={"customer": cus.id})
    with pytest.raises(stripe.CardError) as exc:
        _off_session(client, cus.id, pm.id)
    err = exc.value.error
    assert exc.value.http_status == 402
    assert (err.type, err.code, err.decline_code, err.message) == (
        "card_error", "authentication_required", "authentication_required", AUTH_DECLINE)
    assert err.charge and err.charge.startswith("ch_")
    pi = client.v1.payment_intents.retrieve(err.payment_intent.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "authentication_required"
    assert pi.last_payment_error.payment_method.id == pm.id
    assert client.v1.charges.retrieve(err.charge).status == "failed"
    # The couple comes back on-session and authenticates with the same card.
    again = client.v1.payment_intents.confirm(pi.id, params={
        "payment_method": pi.last_payment_error.payment_method.id,
        "return_url": "https://example.com/back"})
    assert again.status == "requires_action" and again.next_action.type == "use_stripe_sdk"
    stripe_backend.require_sim().control.authenticate_payment_intent(pi.id)
    paid = client.v1.payment_intents.retrieve(pi.id)
    assert (paid.status, paid.amount_received, paid.payment_method) == (
        "succeeded", 5000, pm.id)


def test_3184_setup_intent_requires_action_and_can_fail(
        sim: SimHandle, client: stripe.StripeClient, cus: stripe.Customer) -> None:
    si = client.v1.setup_intents.create(params={
        "customer": cus.id, "payment_method": "pm_card_authenticationRequired",
        "payment_method_types": ["card"], "confirm": True})
    assert si.status == "requires_action"
    failed = sim.control.authenticate_setup_intent(si.id, "fail")
    assert failed["status"] == "requires_payment_method"
    assert failed["last_setup_error"]["code"] == "setup_intent_authentication_failure"
    assert client.v1.customers.payment_methods.list(cus.id).data == []


def test_on_session_authentication_failure(stripe_sim) -> None:
    client = stripe_sim.client()
    pi = client.v1.payment_intents.create(params={
        "amount": 2000, "currency": "usd", "payment_method": "pm_card_authenticationRequired",
        "confirm": True, "payment_method_types": ["card"]})
    assert pi.status == "requires_action" and pi.latest_charge is None
    failed = stripe_sim.control.authenticate_payment_intent(pi.id, "fail")
    assert failed["status"] == "requires_payment_method"
    assert failed["last_payment_error"]["code"] == "payment_intent_authentication_failure"
    assert failed["last_payment_error"]["payment_method"]["card"]["last4"] == "3184"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.confirm(pi.id, params={
            "payment_method": failed["last_payment_error"]["payment_method"]["id"]})
    assert exc.value.param == "payment_method"  # spent: it had no customer


def test_0341_attaches_but_every_charge_fails(client: stripe.StripeClient,
                                              cus: stripe.Customer) -> None:
    pm = _saved_card(client, cus.id, "pm_card_chargeCustomerFail")
    assert client.v1.payment_methods.retrieve(pm).customer == cus.id
    with pytest.raises(stripe.CardError) as exc:
        _off_session(client, cus.id, pm)
    assert (exc.value.http_status, exc.value.code, exc.value.error.decline_code) == (
        402, "card_declined", "generic_decline")
    direct = client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                              params={"customer": cus.id})
    assert direct.customer == cus.id


def test_setup_future_usage_saves_the_card_on_success(client: stripe.StripeClient,
                                                      cus: stripe.Customer) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 3000, "currency": "usd", "customer": cus.id,
        "setup_future_usage": "off_session", "payment_method_types": ["card"]})
    assert pi.setup_future_usage == "off_session"
    paid = client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert paid.status == "succeeded"
    pm = client.v1.payment_methods.retrieve(paid.payment_method)
    assert pm.customer == cus.id
    assert _off_session(client, cus.id, pm.id).status == "succeeded"


def test_setup_future_usage_with_authentication_sets_up_3155(
        sim: SimHandle, client: stripe.StripeClient, cus: stripe.Customer) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 3000, "currency": "usd", "payment_method_types": ["card"]})
    client.v1.payment_intents.update(pi.id, params={"customer": cus.id,
                                                    "setup_future_usage": "off_session"})
    pending = client.v1.payment_intents.confirm(pi.id, params={
        "payment_method": "pm_card_authenticationRequiredOnSetup"})
    assert pending.status == "requires_action"
    paid = sim.control.authenticate_payment_intent(pi.id)
    assert paid["status"] == "succeeded" and paid["latest_charge"]
    assert _off_session(client, cus.id, paid["payment_method"]).status == "succeeded"


def test_customer_must_exist_and_cannot_change(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd",
                                                 "customer": "cus_doesnotexist0"})
    assert (exc.value.code, exc.value.param) == ("resource_missing", "customer")
    first, second = _customer(client), _customer(client)
    pi = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd",
                                                  "customer": first.id})
    with pytest.raises(stripe.InvalidRequestError) as changed:
        client.v1.payment_intents.update(pi.id, params={"customer": second.id})
    assert changed.value.param == "customer"


def test_objects_are_invisible_across_accounts(stripe_sim) -> None:
    stripe_sim.control.seed_account("acct_custscopeA")
    vendor = stripe_sim.client(account="acct_custscopeA")
    cus = _customer(vendor)
    pm = _saved_card(vendor, cus.id)
    pi = _off_session(vendor, cus.id, pm)
    assert pi.status == "succeeded"
    platform = stripe_sim.client()
    for call in (lambda: platform.v1.customers.retrieve(cus.id),
                 lambda: platform.v1.payment_methods.retrieve(pm),
                 lambda: _off_session(platform, cus.id, pm)):
        with pytest.raises(stripe.InvalidRequestError) as exc:
            call()
        assert exc.value.code == "resource_missing"
    assert platform.v1.customers.list().data == []
    assert platform.v1.setup_intents.list().data == []
    assert [c.id for c in vendor.v1.customers.list().data] == [cus.id]


def test_idempotent_off_session_create_charges_once(
        sim: SimHandle, client: stripe.StripeClient, cus: stripe.Customer) -> None:
    pm = _saved_card(client, cus.id)
    first = _off_session(client, cus.id, pm, idempotency_key="stage-2-autopay")
    again = _off_session(client, cus.id, pm, idempotency_key="stage-2-autopay")
    assert again.id == first.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(client.v1.charges.list(params={"payment_intent": first.id}).data) == 1
    log = sim.control.requests("/v1/payment_intents", method="POST")
    assert [(r["params"]["off_session"], r["idempotency_key"], r["object_id"],
             r["object_status"], r["replayed"]) for r in log] == [
        ("true", "stage-2-autopay", first.id, "succeeded", False),
        ("true", "stage-2-autopay", first.id, "succeeded", True)]


def test_request_log_names_the_declined_intent(
        sim: SimHandle, client: stripe.StripeClient, cus: stripe.Customer) -> None:
    pm = client.v1.payment_methods.attach("pm_card_authenticationRequired",
                                          params={"customer": cus.id})
    with pytest.raises(stripe.CardError) as exc:
        _off_session(client, cus.id, pm.id)
    (entry,) = sim.control.requests("/v1/payment_intents", method="POST")
    assert (entry["status"], entry["error_code"], entry["object_id"],
            entry["object_status"]) == (402, "authentication_required",
                                        exc.value.error.payment_intent.id,
                                        "requires_payment_method")


def test_customers_and_setup_intents_survive_restart(tmp_path: Path) -> None:
    state = tmp_path / "sim.json"
    params = {"customer": "", "payment_method": "pm_card_authenticationRequiredOnSetup",
              "confirm": True, "payment_method_types": ["card"]}
    first = serve(create_app(str(state), refund_delay=None))
    try:
        client = make_client("sk_test_persist", first.url)
        cus = _customer(client)
        params["customer"] = cus.id
        si = client.v1.setup_intents.create(params=params,
                                            options={"idempotency_key": "seti-1"})
        assert si.status == "requires_action"
    finally:
        first.stop()
    second = serve(create_app(str(state), refund_delay=None))
    try:
        client = make_client("sk_test_persist", second.url)
        assert client.v1.customers.retrieve(cus.id).email == "couple@example.com"
        replay = client.v1.setup_intents.create(params=params,
                                                options={"idempotency_key": "seti-1"})
        assert replay.id == si.id and replay.status == "requires_action"
        SimControl(second.url).authenticate_setup_intent(si.id)
        assert _off_session(client, cus.id, si.payment_method).status == "succeeded"
    finally:
        second.stop()
