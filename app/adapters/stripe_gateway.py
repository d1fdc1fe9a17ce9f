"""Stripe through the official SDK: the only module in app/ that imports `stripe`.

Every write carries an idempotency key the caller derived from our row ids, so retrying a
request (ours or the SDK's) can never create a second PaymentIntent. Transient failures
(connection errors, timeouts, 429, 5xx, 409 lock contention) are retried by the SDK and then by
a bounded loop of our own with exponential backoff; what remains is mapped to domain errors.
"""
from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import stripe

from app.services.payments.gateway import (
    GatewayError,
    GatewayUnavailable,
    IdempotencyKeyReused,
    Intent,
    IntentStateConflict,
    InvalidSignature,
    MalformedEvent,
    ObjectNotFound,
    Refund,
    RefundRefused,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
SIGNATURE_TOLERANCE_SECONDS = 300
TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


class StripeGateway:
    """Implements `app.services.payments.gateway.PaymentGateway`."""

    def __init__(self, secret_key: str, *, api_base: str | None = None, webhook_secret: str = "",
                 network_retries: int = 2, attempts: int = 4, backoff_seconds: float = 0.5,
                 timeout_seconds: float = 20.0, idempotency_prefix: str = "",
                 sleep: Callable[[float], None] = time.sleep) -> None:
        kwargs: dict[str, Any] = {"max_network_retries": network_retries,
                                  "http_client": stripe.RequestsClient(timeout=timeout_seconds)}
        if api_base:
            kwargs["base_addresses"] = {"api": api_base}
        self.client = stripe.StripeClient(secret_key, **kwargs)
        self.webhook_secret = webhook_secret
        # Keys come from our row ids; the prefix keeps two installations that share one Stripe
        # account (staging and production, or test runs) from replaying each other's requests.
        self.idempotency_prefix = idempotency_prefix
        self.attempts = max(1, attempts)
        self.backoff_seconds = backoff_seconds
        self.sleep = sleep

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StripeGateway:
        return cls(config["STRIPE_SECRET_KEY"], api_base=config.get("STRIPE_API_BASE") or None,
                   webhook_secret=config.get("STRIPE_WEBHOOK_SECRET", ""),
                   network_retries=int(config.get("STRIPE_NETWORK_RETRIES", 2)),
                   attempts=int(config.get("STRIPE_ATTEMPTS", 4)),
                   backoff_seconds=float(config.get("STRIPE_RETRY_BACKOFF_SECONDS", 0.5)),
                   timeout_seconds=float(config.get("STRIPE_TIMEOUT_SECONDS", 20)),
                   idempotency_prefix=config.get("STRIPE_IDEMPOTENCY_PREFIX", ""))

    # -- PaymentIntents -----------------------------------------------------------------------
    def create_intent(self, *, amount: int, currency: str, metadata: Mapping[str, str],
                      idempotency_key: str, description: str = "", receipt_email: str = "") -> Intent:
        params: dict[str, Any] = {
            "amount": amount, "currency": currency.lower(), "metadata": dict(metadata),
            "automatic_payment_methods": {"enabled": True},
        }
        if description:
            params["description"] = description[:1000]
        if receipt_email:
            params["receipt_email"] = receipt_email
        return self._call("create", lambda: self.client.v1.payment_intents.create(
            params=params, options={"idempotency_key": self.idempotency_prefix + idempotency_key}))

    def retrieve_intent(self, intent_id: str) -> Intent:
        return self._call("retrieve", lambda: self.client.v1.payment_intents.retrieve(intent_id))

    def update_intent(self, intent_id: str, *, amount: int, metadata: Mapping[str, str],
                      idempotency_key: str) -> Intent:
        return self._call("update", lambda: self.client.v1.payment_intents.update(
            intent_id, params={"amount": amount, "metadata": dict(metadata)},
            options={"idempotency_key": self.idempotency_prefix + idempotency_key}))

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        return self._call("cancel", lambda: self.client.v1.payment_intents.cancel(
            intent_id, params={"cancellation_reason": "abandoned"},
            options={"idempotency_key": self.idempotency_prefix + idempotency_key}))

    # -- Refunds ------------------------------------------------------------------------------
    def create_refund(self, *, payment_intent: str, amount: int, reason: str,
                      metadata: Mapping[str, str], idempotency_key: str) -> Refund:
        params: dict[str, Any] = {"payment_intent": payment_intent, "amount": amount,
                                  "metadata": dict(metadata)}
        if reason:
            params["reason"] = reason
        return self._call("refund", lambda: self.client.v1.refunds.create(
            params=params, options={"idempotency_key": self.idempotency_prefix + idempotency_key}),
            convert=to_refund, refused=RefundRefused)

    def retrieve_refund(self, refund_id: str) -> Refund:
        return self._call("retrieve refund", lambda: self.client.v1.refunds.retrieve(refund_id),
                          convert=to_refund)

    def list_refunds(self, *, payment_intent: str = "", charge: str = "") -> list[Refund]:
        params: dict[str, Any] = {"limit": 100}
        if payment_intent:
            params["payment_intent"] = payment_intent
        if charge:
            params["charge"] = charge

        def listed(raw: Any) -> list[Refund]:
            return [to_refund(r) for r in raw.auto_paging_iter()]

        return self._call("list refunds", lambda: self.client.v1.refunds.list(params=params),
                          convert=listed)

    # -- webhooks -----------------------------------------------------------------------------
    def verify_event(self, payload: bytes, signature: str | None) -> Any:
        """The signed body parsed as JSON (any JSON value: the caller checks its shape).
        InvalidSignature when forged, tampered, older than 300 s or more than 300 s ahead of
        our clock (the SDK checks only the past); MalformedEvent when signed but not JSON."""
        if not self.webhook_secret:
            raise InvalidSignature("No webhook secret is configured.")
        try:
            text = payload.decode("utf-8")
            stripe.WebhookSignature.verify_header(text, signature or "", self.webhook_secret,
                                                  tolerance=SIGNATURE_TOLERANCE_SECONDS)
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
            raise InvalidSignature(str(exc) or "Invalid signature.") from None
        if _signed_at(signature or "") > time.time() + SIGNATURE_TOLERANCE_SECONDS:
            raise InvalidSignature("Timestamp is too far in the future.")
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            raise MalformedEvent("The body is not JSON.") from None

    # -- plumbing -----------------------------------------------------------------------------
    def _call(self, what: str, request: Callable[[], Any],
              convert: Callable[[Any], Any] | None = None,
              refused: type[GatewayError] = GatewayError) -> Any:
        convert = convert or to_intent
        for attempt in range(1, self.attempts + 1):
            try:
                return convert(request())
            except stripe.IdempotencyError as exc:
                raise IdempotencyKeyReused(str(exc.user_message or exc)) from None
            except TRANSIENT as exc:
                if attempt == self.attempts:
                    log.warning("stripe %s failed after %s attempts: %s", what, attempt, exc)
                    raise GatewayUnavailable() from None
                delay = self.backoff_seconds * 2 ** (attempt - 1) * (0.5 + random.random() / 2)
                log.info("stripe %s attempt %s failed (%s); retrying in %.2fs", what, attempt,
                         type(exc).__name__, delay)
                self.sleep(delay)
            except stripe.InvalidRequestError as exc:
                if exc.code == "resource_missing" and exc.http_status == 404:
                    raise ObjectNotFound(f"Stripe has no such object: {exc.user_message or exc}"
                                         ) from None
                if exc.code == "payment_intent_unexpected_state":
                    raise IntentStateConflict(str(exc.user_message or exc)) from None
                raise refused(f"Stripe refused the request: {exc.user_message or exc}") from None
            except stripe.StripeError as exc:
                raise GatewayError(f"Stripe refused the request: {exc.user_message or exc}") from None
        raise AssertionError("unreachable")


def _signed_at(header: str) -> int:
    """The `t=` of a Stripe-Signature header that verify_header has already accepted."""
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return 0


def to_refund(raw: Any) -> Refund:
    obj: dict[str, Any] = raw.to_dict() if hasattr(raw, "to_dict") else dict(raw)

    def ref(value: Any) -> str:
        return value if isinstance(value, str) else str((value or {}).get("id", ""))

    return Refund(
        id=obj["id"], status=str(obj.get("status") or ""), amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(), payment_intent=ref(obj.get("payment_intent")),
        charge=ref(obj.get("charge")),
        metadata={str(k): str(v) for k, v in dict(obj.get("metadata") or {}).items()},
        failure_reason=str(obj.get("failure_reason") or ""))


def to_intent(raw: Any) -> Intent:
    obj: dict[str, Any] = raw.to_dict() if hasattr(raw, "to_dict") else dict(raw)
    error = obj.get("last_payment_error") or {}
    charge = obj.get("latest_charge") or ""
    return Intent(
        id=obj["id"], status=obj["status"], amount=int(obj["amount"]),
        amount_received=int(obj.get("amount_received") or 0),
        currency=str(obj["currency"]).upper(), client_secret=obj.get("client_secret") or "",
        metadata={str(k): str(v) for k, v in dict(obj.get("metadata") or {}).items()},
        last_error=(error.get("message") or "") if error else "",
        latest_charge=charge if isinstance(charge, str) else str(charge.get("id", "")),
    )


def gateway_for(app: Any) -> StripeGateway:
    """One gateway per app and Stripe settings (tests point STRIPE_API_BASE elsewhere)."""
    c = app.config
    key = tuple(sorted((k, str(v)) for k, v in c.items() if k.startswith("STRIPE_")))
    cached = app.extensions.get("mais_stripe_gateway")
    if cached is None or cached[0] != key:
        cached = (key, StripeGateway.from_config(c))
        app.extensions["mais_stripe_gateway"] = cached
    return cached[1]
