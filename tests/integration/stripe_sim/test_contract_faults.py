"""Injected faults surface as the SDK's exceptions; the request log records calls."""
from __future__ import annotations

import time

import pytest
import stripe

from .helpers import new_intent

PARAMS = {"amount": 1000, "currency": "usd", "payment_method_types": ["card"]}


def test_429_is_rate_limit_error(stripe_sim) -> None:
    stripe_sim.control.fail_next(429)
    with pytest.raises(stripe.RateLimitError) as exc:
        new_intent(stripe_sim.client())
    assert exc.value.http_status == 429
    assert new_intent(stripe_sim.client()).status == "requires_payment_method"


def test_500_is_api_error_and_only_for_the_path_prefix(stripe_sim) -> None:
    client = stripe_sim.client()
    stripe_sim.control.fail_next(500, count=2, path_prefix="/v1/refunds")
    pi = new_intent(client)  # not affected: other path
    for _ in range(2):
        with pytest.raises(stripe.APIError) as exc:
            client.v1.refunds.list()
        assert exc.value.http_status == 500
    assert client.v1.refunds.list().data == []
    assert client.v1.payment_intents.retrieve(pi.id).id == pi.id


def test_sdk_retry_after_500_reuses_the_idempotency_key(stripe_sim) -> None:
    stripe_sim.control.fail_next(500, path_prefix="/v1/payment_intents", method="POST")
    client = stripe_sim.client(max_network_retries=2)
    pi = client.v1.payment_intents.create(params=PARAMS)
    posts = stripe_sim.control.requests("/v1/payment_intents", "POST")
    assert [r["status"] for r in posts] == [500, 200]
    assert posts[0]["idempotency_key"] == posts[1]["idempotency_key"]
    assert posts[0]["fault"] == "500"
    assert posts[1]["params"]["amount"] == "1000"
    assert len(client.v1.payment_intents.list().data) == 1 and pi.amount == 1000


def test_timeout_is_connection_error_and_retry_with_key_finds_the_work_done(
        stripe_sim) -> None:
    stripe_sim.control.fail_next("timeout", delay=0.6)
    client = stripe_sim.client(timeout=0.2)
    with pytest.raises(stripe.APIConnectionError):
        client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "slow-1"})
    time.sleep(0.6)  # the simulator still executes the timed-out request
    again = stripe_sim.client().v1.payment_intents.create(
        params=PARAMS, options={"idempotency_key": "slow-1"})
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(stripe_sim.client().v1.payment_intents.list().data) == 1


def test_timeout_then_fail_does_not_execute(stripe_sim) -> None:
    stripe_sim.control.fail_next("timeout", delay=0.05, then="fail")
    with pytest.raises(stripe.APIError):
        new_intent(stripe_sim.client())
    assert stripe_sim.client().v1.payment_intents.list().data == []


def test_request_log_and_reset(stripe_sim) -> None:
    client = stripe_sim.client()
    pi = client.v1.payment_intents.create(params={**PARAMS, "metadata": {"k": "v"}},
                                          options={"idempotency_key": "log-1"})
    log = stripe_sim.control.requests()
    assert log[-1]["method"] == "POST" and log[-1]["path"] == "/v1/payment_intents"
    assert log[-1]["params"]["metadata"] == {"k": "v"}
    assert log[-1]["idempotency_key"] == "log-1"
    stripe_sim.control.reset()
    assert stripe_sim.control.requests() == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.retrieve(pi.id)


def test_rate_faults_strike_a_seeded_share_of_calls_until_cleared(stripe_sim) -> None:
    client = stripe_sim.client()
    before = stripe_sim.control.faults_injected()
    stripe_sim.control.fail_rate(500, 0.2, path_prefix="/v1/refunds", seed=7)
    stripe_sim.control.fail_rate(429, 0.1, path_prefix="/v1/refunds")
    outcomes = []
    for _ in range(200):
        try:
            client.v1.refunds.list()
            outcomes.append("ok")
        except stripe.RateLimitError:
            outcomes.append("429")
        except stripe.APIError:
            outcomes.append("500")
    injected = stripe_sim.control.faults_injected()
    assert {kind: injected.get(kind, 0) - before.get(kind, 0) for kind in ("500", "429")} == {
        "500": outcomes.count("500"), "429": outcomes.count("429")}
    assert 20 <= outcomes.count("500") <= 60 and 5 <= outcomes.count("429") <= 35
    assert new_intent(client).status == "requires_payment_method"  # other paths untouched
    stripe_sim.control.clear_faults()
    assert client.v1.refunds.list().data == []
    assert stripe_sim.control.faults_injected() == injected  # the tally outlives the faults
