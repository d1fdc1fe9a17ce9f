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
    AccountUnavailable,
    Balance,
    CardSetup,
    ConnectedAccount,
    DisputeInfo,
    GatewayError,
    GatewayUnavailable,
    IdempotencyKeyReused,
    Intent,
    IntentStateConflict,
    InvalidSignature,
    MalformedEvent,
    ObjectNotFound,
    Payout,
    Refund,
    RefundRefused,
    SavedCard,
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
                 sleep: Callable[[float], None] = time.sleep, connect_webhook_secret: str = "",
                 dashboard_url: str = "https://dashboard.stripe.com/") -> None:
        kwargs: dict[str, Any] = {"max_network_retries": network_retries,
                                  "http_client": stripe.RequestsClient(timeout=timeout_seconds)}
        if api_base:
            kwargs["base_addresses"] = {"api": api_base}
        self.client = stripe.StripeClient(secret_key, **kwargs)
        self.webhook_secret = webhook_secret
        self.connect_webhook_secret = connect_webhook_secret
        self.api_base = api_base or ""
        self.dashboard_url = dashboard_url
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
                   idempotency_prefix=config.get("STRIPE_IDEMPOTENCY_PREFIX", ""),
                   connect_webhook_secret=config.get("STRIPE_CONNECT_WEBHOOK_SECRET", ""),
                   dashboard_url=config.get("STRIPE_DASHBOARD_URL")
                   or "https://dashboard.stripe.com/")

    def _options(self, account: str, idempotency_key: str = "") -> dict[str, Any]:
        """Request options: the connected account (Stripe-Account) and the idempotency key,
        which Stripe scopes per account, so our stable keys cannot collide across tenants."""
        options: dict[str, Any] = {}
        if account:
            options["stripe_account"] = account
        if idempotency_key:
            options["idempotency_key"] = self.idempotency_prefix + idempotency_key
        return options

    # -- PaymentIntents -----------------------------------------------------------------------
    def create_intent(self, *, account: str, amount: int, currency: str,
                      metadata: Mapping[str, str], idempotency_key: str, application_fee: int,
                      description: str = "", receipt_email: str = "") -> Intent:
        params: dict[str, Any] = {
            "amount": amount, "currency": currency.lower(), "metadata": dict(metadata),
            "automatic_payment_methods": {"enabled": True},
        }
        if application_fee:
            params["application_fee_amount"] = application_fee
        if description:
            params["description"] = description[:1000]
        if receipt_email:
            params["receipt_email"] = receipt_email
        return self._call("create", lambda: self.client.v1.payment_intents.create(
            params=params, options=self._options(account, idempotency_key)))

    def retrieve_intent(self, intent_id: str, *, account: str) -> Intent:
        return self._call("retrieve", lambda: self.client.v1.payment_intents.retrieve(
            intent_id, options=self._options(account)))

    def update_intent(self, intent_id: str, *, account: str, amount: int,
                      metadata: Mapping[str, str], idempotency_key: str,
                      application_fee: int) -> Intent:
        params: dict[str, Any] = {"amount": amount, "metadata": dict(metadata)}
        if account:
            params["application_fee_amount"] = application_fee
        return self._call("update", lambda: self.client.v1.payment_intents.update(
            intent_id, params=params, options=self._options(account, idempotency_key)))

    def cancel_intent(self, intent_id: str, *, account: str, idempotency_key: str) -> Intent:
        return self._call("cancel", lambda: self.client.v1.payment_intents.cancel(
            intent_id, params={"cancellation_reason": "abandoned"},
            options=self._options(account, idempotency_key)))

    # -- saved cards (autopay) ----------------------------------------------------------------
    def create_customer(self, *, account: str, email: str, name: str,
                        metadata: Mapping[str, str], idempotency_key: str) -> str:
        params = {"email": email, "name": name[:200], "metadata": dict(metadata)}
        return self._call("create customer", lambda: self.client.v1.customers.create(
            params=params, options=self._options(account, idempotency_key)),
            convert=lambda raw: str(raw["id"]))

    def save_card_with_intent(self, intent_id: str, *, account: str, customer: str, save: bool,
                              idempotency_key: str) -> Intent:
        params: dict[str, Any] = {"setup_future_usage": "off_session" if save else ""}
        if customer:
            params["customer"] = customer
        return self._call("update", lambda: self.client.v1.payment_intents.update(
            intent_id, params=params, options=self._options(account, idempotency_key)))

    def charge_saved_card(self, *, account: str, customer: str, payment_method: str, amount: int,
                          currency: str, metadata: Mapping[str, str], idempotency_key: str,
                          application_fee: int, description: str = "") -> Intent:
        params: dict[str, Any] = {
            "amount": amount, "currency": currency.lower(), "metadata": dict(metadata),
            "customer": customer, "payment_method": payment_method, "off_session": True,
            "confirm": True, "payment_method_types": ["card"],
        }
        if application_fee and account:
            params["application_fee_amount"] = application_fee
        if description:
            params["description"] = description[:1000]

        def request() -> Any:
            try:
                return self.client.v1.payment_intents.create(
                    params=params, options=self._options(account, idempotency_key))
            except stripe.CardError as exc:
                # The intent exists and says why (declined, authentication required): an
                # answer to act on, not a failure of the call. A replay gives the same answer.
                intent = getattr(exc.error, "payment_intent", None)
                if intent is None:
                    raise
                return intent

        return self._call("off-session charge", request)

    def retrieve_card(self, payment_method: str, *, account: str) -> SavedCard:
        def convert(raw: Any) -> SavedCard:
            obj = raw.to_dict() if hasattr(raw, "to_dict") else dict(raw)
            card = obj.get("card") or {}
            customer = obj.get("customer") or ""
            return SavedCard(id=obj["id"], brand=str(card.get("brand") or "card"),
                             last4=str(card.get("last4") or ""),
                             exp_month=int(card.get("exp_month") or 0),
                             exp_year=int(card.get("exp_year") or 0),
                             customer=customer if isinstance(customer, str)
                             else str(customer.get("id", "")))

        return self._call("card", lambda: self.client.v1.payment_methods.retrieve(
            payment_method, options=self._options(account)), convert=convert)

    def create_card_setup(self, *, account: str, customer: str, metadata: Mapping[str, str],
                          idempotency_key: str) -> CardSetup:
        params = {"customer": customer, "usage": "off_session", "metadata": dict(metadata),
                  "payment_method_types": ["card"]}
        return self._call("setup", lambda: self.client.v1.setup_intents.create(
            params=params, options=self._options(account, idempotency_key)), convert=to_setup)

    def retrieve_card_setup(self, setup_id: str, *, account: str) -> CardSetup:
        return self._call("setup", lambda: self.client.v1.setup_intents.retrieve(
            setup_id, options=self._options(account)), convert=to_setup)

    # -- Refunds ------------------------------------------------------------------------------
    def create_refund(self, *, account: str, payment_intent: str, amount: int, reason: str,
                      metadata: Mapping[str, str], idempotency_key: str,
                      refund_application_fee: bool) -> Refund:
        params: dict[str, Any] = {"payment_intent": payment_intent, "amount": amount,
                                  "metadata": dict(metadata)}
        if reason:
            params["reason"] = reason
        if account and refund_application_fee:
            params["refund_application_fee"] = True
        return self._call("refund", lambda: self.client.v1.refunds.create(
            params=params, options=self._options(account, idempotency_key)),
            convert=to_refund, refused=RefundRefused)

    def retrieve_refund(self, refund_id: str, *, account: str) -> Refund:
        return self._call("retrieve refund", lambda: self.client.v1.refunds.retrieve(
            refund_id, options=self._options(account)), convert=to_refund)

    def list_refunds(self, *, account: str, payment_intent: str = "",
                     charge: str = "") -> list[Refund]:
        params: dict[str, Any] = {"limit": 100}
        if payment_intent:
            params["payment_intent"] = payment_intent
        if charge:
            params["charge"] = charge

        def listed(raw: Any) -> list[Refund]:
            return [to_refund(r) for r in raw.auto_paging_iter()]

        return self._call("list refunds", lambda: self.client.v1.refunds.list(
            params=params, options=self._options(account)), convert=listed)

    # -- Connect ------------------------------------------------------------------------------
    def create_account(self, *, email: str, country: str, currency: str,
                       metadata: Mapping[str, str], idempotency_key: str) -> ConnectedAccount:
        # Standard accounts: the vendor owns its Stripe account and dashboard (docs/decisions.md).
        params: dict[str, Any] = {"type": "standard", "email": email,
                                  "default_currency": currency.lower(),
                                  "metadata": dict(metadata)}
        if country:
            params["country"] = country
        return self._call("create account", lambda: self.client.v1.accounts.create(
            params=params, options=self._options("", idempotency_key)), convert=to_account)

    def retrieve_account(self, account: str) -> ConnectedAccount:
        return self._call("retrieve account", lambda: self.client.v1.accounts.retrieve(account),
                          convert=to_account)

    def onboarding_link(self, account: str, *, refresh_url: str, return_url: str) -> str:
        return self._call("account link", lambda: self.client.v1.account_links.create(params={
            "account": account, "type": "account_onboarding", "refresh_url": refresh_url,
            "return_url": return_url}), convert=lambda raw: str(raw["url"]))

    def dashboard_link(self, account: str) -> str:
        """Standard accounts log in to Stripe's dashboard themselves (no login link); the
        simulator serves a stand-in page per account."""
        if self.api_base:
            return f"{self.api_base.rstrip('/')}/connect/dashboard/{account}"
        return self.dashboard_url

    def balance(self, *, account: str) -> Balance:
        def convert(raw: Any) -> Balance:
            obj = raw.to_dict() if hasattr(raw, "to_dict") else dict(raw)

            def sums(key: str) -> tuple[tuple[str, int], ...]:
                return tuple((str(b["currency"]).upper(), int(b["amount"]))
                             for b in obj.get(key) or [])

            return Balance(available=sums("available"), pending=sums("pending"))

        return self._call("balance", lambda: self.client.v1.balance.retrieve(
            options=self._options(account)), convert=convert)

    def list_payouts(self, *, account: str, limit: int = 10) -> list[Payout]:
        def convert(raw: Any) -> list[Payout]:
            listed = [p.to_dict() if hasattr(p, "to_dict") else dict(p) for p in raw.data]
            return [Payout(id=p["id"], amount=int(p["amount"]),
                           currency=str(p["currency"]).upper(), status=str(p["status"]),
                           arrival_date=int(p.get("arrival_date") or 0)) for p in listed]

        return self._call("payouts", lambda: self.client.v1.payouts.list(
            params={"limit": limit}, options=self._options(account)), convert=convert)

    def retrieve_dispute(self, dispute_id: str, *, account: str) -> DisputeInfo:
        def convert(raw: Any) -> DisputeInfo:
            obj = raw.to_dict() if hasattr(raw, "to_dict") else dict(raw)
            charge = obj.get("charge") or ""
            return DisputeInfo(
                id=obj["id"], charge=charge if isinstance(charge, str) else str(charge["id"]),
                amount=int(obj["amount"]), currency=str(obj["currency"]).upper(),
                reason=str(obj.get("reason") or "general"), status=str(obj["status"]),
                evidence_due_by=int((obj.get("evidence_details") or {}).get("due_by") or 0))

        return self._call("dispute", lambda: self.client.v1.disputes.retrieve(
            dispute_id, options=self._options(account)), convert=convert)

    # -- webhooks -----------------------------------------------------------------------------
    def verify_event(self, payload: bytes, signature: str | None, *,
                     connect: bool = False) -> Any:
        """The signed body parsed as JSON (any JSON value: the caller checks its shape).
        InvalidSignature when forged, tampered, older than 300 s or more than 300 s ahead of
        our clock (the SDK checks only the past); MalformedEvent when signed but not JSON.
        `connect`: the Connect endpoint, signed with its own secret."""
        secret = self.connect_webhook_secret if connect else self.webhook_secret
        if not secret:
            raise InvalidSignature("No webhook secret is configured.")
        try:
            text = payload.decode("utf-8")
            stripe.WebhookSignature.verify_header(text, signature or "", secret,
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
            except stripe.PermissionError as exc:
                log.warning("stripe %s: account refused: %s", what, exc)
                raise AccountUnavailable() from None
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


def to_account(raw: Any) -> ConnectedAccount:
    obj: dict[str, Any] = raw.to_dict() if hasattr(raw, "to_dict") else dict(raw)
    requirements = obj.get("requirements") or {}
    return ConnectedAccount(
        id=obj["id"], charges_enabled=bool(obj.get("charges_enabled")),
        payouts_enabled=bool(obj.get("payouts_enabled")),
        details_submitted=bool(obj.get("details_submitted")),
        currently_due=tuple(str(r) for r in requirements.get("currently_due") or ()),
        disabled_reason=str(requirements.get("disabled_reason") or ""))


def _ref(value: Any) -> str:
    """An expandable field: the id whether Stripe sent the id or the object."""
    if not value:
        return ""
    return value if isinstance(value, str) else str(value.get("id", ""))


def to_setup(raw: Any) -> CardSetup:
    obj: dict[str, Any] = raw.to_dict() if hasattr(raw, "to_dict") else dict(raw)
    error = obj.get("last_setup_error") or {}
    return CardSetup(
        id=obj["id"], status=str(obj["status"]), client_secret=obj.get("client_secret") or "",
        payment_method=_ref(obj.get("payment_method")), customer=_ref(obj.get("customer")),
        metadata={str(k): str(v) for k, v in dict(obj.get("metadata") or {}).items()},
        last_error=(error.get("message") or "") if error else "")


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
        application_fee=int(obj.get("application_fee_amount") or 0),
        payment_method=_ref(obj.get("payment_method"))
        or _ref((error or {}).get("payment_method")),
        last_error_code=str(error.get("code") or "") if error else "",
        decline_code=str(error.get("decline_code") or "") if error else "",
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
