"""The payment flow against the simulator, and against Stripe test mode when
STRIPE_TEST_SECRET_KEY is set (skipped otherwise)."""
from __future__ import annotations

import uuid

import pytest

from app.services.payments.gateway import IntentStateConflict
from tests.integration.payments.helpers import (
    booking_status,
    checkout_path,
    client_secret,
    intent_id,
    new_booking,
    payments_of,
    stages,
)


@pytest.fixture()
def backend_app(app, stripe_backend):
    """The app pointed at the backend; real Stripe gets a per-run idempotency prefix, because it
    remembers keys for 24 hours and our keys come from row ids that restart with every test."""
    keys = ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "PAYMENTS_MODE", "STRIPE_IDEMPOTENCY_PREFIX",
            "STRIPE_RETRY_BACKOFF_SECONDS")
    saved = {k: app.config.get(k) for k in keys}
    app.config.update(STRIPE_SECRET_KEY=stripe_backend.secret_key, STRIPE_API_BASE=stripe_backend.base_url,
                      PAYMENTS_MODE="simulator" if stripe_backend.base_url else "stripe",
                      STRIPE_IDEMPOTENCY_PREFIX=f"test-{uuid.uuid4().hex[:12]}-",
                      STRIPE_RETRY_BACKOFF_SECONDS=0.05)
    yield stripe_backend
    for k, v in saved.items():
        if v is None:
            app.config.pop(k, None)
        else:
            app.config[k] = v


def _confirm(backend, pi: str, payment_method: str = "pm_card_visa", account: str | None = None):
    import stripe

    try:
        return backend.client(account=account).v1.payment_intents.confirm(
            pi, params={"payment_method": payment_method, "return_url": "https://example.com/return"})
    except stripe.CardError as exc:
        return exc


def test_gateway_create_is_idempotent_and_maps_state_errors(app, backend_app):
    from app.adapters.stripe_gateway import gateway_for

    gateway = gateway_for(app)
    account = backend_app.connected_account("acct_1Gatewaytest")
    key = f"stage-{uuid.uuid4().hex}-pi-v1"
    first = gateway.create_intent(account=account, amount=1234, currency="EUR",
                                  metadata={"tenant_id": "1"}, idempotency_key=key,
                                  application_fee=37)
    again = gateway.create_intent(account=account, amount=1234, currency="EUR",
                                  metadata={"tenant_id": "1"}, idempotency_key=key,
                                  application_fee=37)
    assert again.id == first.id and first.currency == "EUR" and first.open
    assert first.application_fee == 37
    updated = gateway.update_intent(first.id, account=account, amount=2000,
                                    metadata={"stage_ids": "1,2"}, idempotency_key=key + "-r1",
                                    application_fee=60)
    assert updated.amount == 2000 and updated.metadata["stage_ids"] == "1,2"
    assert updated.application_fee == 60
    canceled = gateway.cancel_intent(first.id, account=account, idempotency_key=key + "-cancel")
    assert canceled.status == "canceled"
    with pytest.raises(IntentStateConflict):
        gateway.update_intent(first.id, account=account, amount=3000, metadata={},
                              idempotency_key=key + "-r2", application_fee=0)


def test_deposit_is_paid_and_recorded_once(app, client, shop, tenant_a, backend_app):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking_id)[0]["id"])
    html = client.get(path).get_data(as_text=True)
    pi = intent_id(client_secret(html))
    assert client_secret(client.get(path).get_data(as_text=True)).startswith(pi)

    declined = _confirm(backend_app, pi, "pm_card_chargeDeclined", tenant_a.stripe_account)
    page = client.get(f"{path}/return?payment_intent={pi}").get_data(as_text=True)
    assert declined is not None and 'data-state="failed"' in page and "declined" in page
    _confirm(backend_app, pi, account=tenant_a.stripe_account)
    for _ in range(2):
        page = client.get(f"{path}/return?payment_intent={pi}").get_data(as_text=True)
        assert 'data-state="succeeded"' in page
    assert booking_status(app, booking_id) == "confirmed"
    [payment] = payments_of(app, booking_id)
    assert (payment["amount"], payment["intent"]) == (75000, pi)
