"""Idempotency-Key semantics: replay, mismatch, scope, what is saved."""
from __future__ import annotations

import pytest
import stripe

from tests.fixtures.stripe_sim import StripeBackend

from .helpers import paid_intent

PARAMS = {"amount": 4200, "currency": "usd", "payment_method_types": ["card"],
          "metadata": {"stage_id": "7"}}


def test_same_key_and_params_replays_the_saved_response(stripe_backend: StripeBackend
                                                        ) -> None:
    client = stripe_backend.client()
    key = stripe_backend.key()
    first = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": key})
    second = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": key})
    assert second.id == first.id
    assert second.last_response.headers.get("Idempotent-Replayed") == "true"
    assert first.last_response.headers.get("Idempotent-Replayed") in (None, "false")


def test_same_key_with_different_params_is_idempotency_error(stripe_backend: StripeBackend
                                                             ) -> None:
    client = stripe_backend.client()
    key = stripe_backend.key()
    client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": key})
    with pytest.raises(stripe.IdempotencyError) as exc:
        client.v1.payment_intents.create(params={**PARAMS, "amount": 4300},
                                         options={"idempotency_key": key})
    assert exc.value.http_status == 400
    assert exc.value.error.type == "idempotency_error"


def test_refund_retry_with_same_key_refunds_once(stripe_backend: StripeBackend) -> None:
    client = stripe_backend.client()
    pi = paid_intent(client, 5000)
    key = stripe_backend.key()
    params = {"payment_intent": pi.id, "amount": 5000}
    a = client.v1.refunds.create(params=params, options={"idempotency_key": key})
    b = client.v1.refunds.create(params=params, options={"idempotency_key": key})
    assert a.id == b.id
    listed = client.v1.refunds.list(params={"payment_intent": pi.id})
    assert [r.id for r in listed.data] == [a.id]


def test_a_decline_is_replayed_as_the_same_card_error(stripe_backend: StripeBackend) -> None:
    client = stripe_backend.client()
    key = stripe_backend.key()
    params = {**PARAMS, "payment_method": "pm_card_chargeDeclined", "confirm": True}
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as exc:
            client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
        errors.append(exc.value)
    assert errors[0].error.payment_intent.id == errors[1].error.payment_intent.id
    assert errors[1].headers.get("Idempotent-Replayed") == "true"


def test_validation_errors_are_not_saved(stripe_backend: StripeBackend) -> None:
    client = stripe_backend.client()
    key = stripe_backend.key()
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create(params={**PARAMS, "amount": 0},
                                         options={"idempotency_key": key})
    # Stripe did not start executing, so the key is still free for the fixed request.
    pi = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": key})
    assert pi.amount == 4200


def test_keys_are_scoped_per_api_key(stripe_sim) -> None:
    a = stripe_sim.client(key="sk_test_account_a")
    b = stripe_sim.client(key="sk_test_account_b")
    pa = a.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "shared"})
    pb = b.v1.payment_intents.create(params={**PARAMS, "amount": 999},
                                     options={"idempotency_key": "shared"})
    assert pa.id != pb.id and pb.amount == 999


def test_sdk_sends_a_key_on_every_post(stripe_sim) -> None:
    client = stripe_sim.client(max_network_retries=1)
    paid_intent(client)
    posts = stripe_sim.control.requests(path_prefix="/v1/payment_intents", method="POST")
    assert posts and all(r["idempotency_key"] for r in posts)
