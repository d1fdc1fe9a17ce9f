"""What the payment services need from Stripe, as plain values; `app/adapters/stripe_gateway.py`
implements it. Services never see an SDK object, so they can be tested with a fake."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from app.services.shared.errors import DomainError


class GatewayError(DomainError):
    """Stripe answered with something we cannot act on (after our retries)."""

    status = 502
    default_message = ("We could not reach the payment provider. Nothing was charged; "
                       "try again in a moment.")


class GatewayUnavailable(GatewayError):
    """Network trouble, rate limits or Stripe-side errors that outlasted the retries."""


class IntentStateConflict(GatewayError):
    """The PaymentIntent is in a state that does not allow the change (e.g. it already succeeded)."""

    status = 409


class IdempotencyKeyReused(GatewayError):
    """The key was used before with other parameters: the caller must move to a new key."""

    status = 409


class ObjectNotFound(GatewayError):
    """Stripe has no object with that id (404 resource_missing): asking again will not help."""

    status = 404


class InvalidSignature(DomainError):
    """A webhook whose signature is missing, forged or older than the tolerance."""

    status = 400
    default_message = "Invalid signature."


class MalformedEvent(DomainError):
    """A correctly signed webhook body that is not a well-formed Stripe event object."""

    status = 400
    default_message = "The body is not a Stripe event."


@dataclass(frozen=True)
class Intent:
    """The fields of a PaymentIntent that we act on."""

    id: str
    status: str
    amount: int
    amount_received: int
    currency: str  # upper case ISO 4217, as stored on our rows
    client_secret: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    last_error: str = ""
    latest_charge: str = ""
    application_fee: int = 0  # the platform's fee on this (direct) charge, minor units
    payment_method: str = ""  # the card that paid (or was last tried)
    last_error_code: str = ""  # e.g. card_declined, authentication_required
    decline_code: str = ""

    @property
    def open(self) -> bool:
        """Still waiting for a payment method or confirmation: reusable and updatable."""
        return self.status in ("requires_payment_method", "requires_confirmation", "requires_action")


@dataclass(frozen=True)
class SavedCard:
    """A PaymentMethod saved on a Customer: what the couple and the vendor are shown."""

    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    customer: str = ""


@dataclass(frozen=True)
class CardSetup:
    """The fields of a SetupIntent (saving a card without paying) that we act on."""

    id: str
    status: str  # requires_payment_method, requires_action, succeeded, canceled, ...
    client_secret: str
    payment_method: str = ""
    customer: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    last_error: str = ""


@dataclass(frozen=True)
class Refund:
    """The fields of a Stripe Refund that we act on."""

    id: str
    status: str  # pending, requires_action, succeeded, failed, canceled
    amount: int
    currency: str  # upper case ISO 4217
    payment_intent: str
    charge: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    failure_reason: str = ""


class RefundRefused(GatewayError):
    """Stripe refused the refund itself (e.g. more than the charge has left): retrying the same
    request cannot succeed."""

    status = 409


class AccountUnavailable(GatewayError):
    """Stripe refused the connected account (unknown, or it disconnected the platform)."""

    status = 409
    default_message = ("This business's payment account is not available. Nothing was "
                       "charged; please contact the business.")


@dataclass(frozen=True)
class ConnectedAccount:
    """What we keep of a connected Stripe account: can it take charges, what is missing."""

    id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    currently_due: tuple[str, ...] = ()
    disabled_reason: str = ""


@dataclass(frozen=True)
class Payout:
    id: str
    amount: int
    currency: str  # upper case ISO 4217
    status: str  # paid, pending, in_transit, canceled, failed
    arrival_date: int  # unix time


@dataclass(frozen=True)
class DisputeInfo:
    """The fields of a Stripe Dispute that we act on."""

    id: str
    charge: str
    amount: int
    currency: str  # upper case ISO 4217
    reason: str
    status: str
    evidence_due_by: int = 0  # unix time, 0 when Stripe gives none


@dataclass(frozen=True)
class Balance:
    available: tuple[tuple[str, int], ...]  # (currency, minor units)
    pending: tuple[tuple[str, int], ...]


class PaymentGateway(Protocol):
    """Every call about a tenant's money names the connected `account` it is made on
    (Stripe-Account); the account comes from our rows, never from what Stripe or a URL says.
    `account=""` is the platform itself, used only for payments made before Connect."""

    def create_intent(self, *, account: str, amount: int, currency: str,
                      metadata: Mapping[str, str], idempotency_key: str, application_fee: int,
                      description: str = "", receipt_email: str = "") -> Intent: ...

    def retrieve_intent(self, intent_id: str, *, account: str) -> Intent: ...

    def update_intent(self, intent_id: str, *, account: str, amount: int,
                      metadata: Mapping[str, str], idempotency_key: str,
                      application_fee: int) -> Intent: ...

    def cancel_intent(self, intent_id: str, *, account: str, idempotency_key: str) -> Intent: ...

    # -- saved cards (autopay) ------------------------------------------------------------------
    def create_customer(self, *, account: str, email: str, name: str,
                        metadata: Mapping[str, str], idempotency_key: str) -> str: ...

    def save_card_with_intent(self, intent_id: str, *, account: str, customer: str, save: bool,
                              idempotency_key: str) -> Intent: ...

    def charge_saved_card(self, *, account: str, customer: str, payment_method: str, amount: int,
                          currency: str, metadata: Mapping[str, str], idempotency_key: str,
                          application_fee: int, description: str = "") -> Intent:
        """An off-session payment, confirmed at once. A decline or a bank asking for the couple
        is not an error: the returned intent carries `last_error_code` (authentication_required,
        card_declined, ...) and stays `requires_payment_method`."""
        ...

    def retrieve_card(self, payment_method: str, *, account: str) -> SavedCard: ...

    def create_card_setup(self, *, account: str, customer: str, metadata: Mapping[str, str],
                          idempotency_key: str) -> CardSetup: ...

    def retrieve_card_setup(self, setup_id: str, *, account: str) -> CardSetup: ...

    def create_refund(self, *, account: str, payment_intent: str, amount: int, reason: str,
                      metadata: Mapping[str, str], idempotency_key: str,
                      refund_application_fee: bool) -> Refund: ...

    def retrieve_refund(self, refund_id: str, *, account: str) -> Refund: ...

    def list_refunds(self, *, account: str, payment_intent: str = "",
                     charge: str = "") -> list[Refund]: ...

    def verify_event(self, payload: bytes, signature: str | None, *,
                     connect: bool = False) -> dict: ...

    # -- Connect (the platform's own calls about an account) ------------------------------------
    def create_account(self, *, email: str, country: str, currency: str,
                       metadata: Mapping[str, str], idempotency_key: str) -> ConnectedAccount: ...

    def retrieve_account(self, account: str) -> ConnectedAccount: ...

    def onboarding_link(self, account: str, *, refresh_url: str, return_url: str) -> str: ...

    def dashboard_link(self, account: str) -> str: ...

    def balance(self, *, account: str) -> Balance: ...

    def list_payouts(self, *, account: str, limit: int = 10) -> list[Payout]: ...

    def retrieve_dispute(self, dispute_id: str, *, account: str) -> DisputeInfo: ...
