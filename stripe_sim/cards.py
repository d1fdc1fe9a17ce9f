"""Stripe's documented test cards and test PaymentMethod ids, and their outcomes.

Card numbers typed into the stand-in Payment Element and ``pm_card_*`` ids
passed through the API resolve to the same outcomes, so a browser test and an
SDK test of the same card behave identically.

Authentication (3D Secure) is decided by :func:`needs_authentication` from the
card's ``authentication`` rule, whether the payment is off-session and whether
the PaymentMethod was set up for off-session use (a succeeded SetupIntent with
``usage=off_session``, or a PaymentIntent with ``setup_future_usage=off_session``).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """What confirming a PaymentIntent with this card does.

    ``kind`` is "succeed", "decline", or "processing" (a simulator extra: the
    PaymentIntent waits in ``processing`` until ``/_sim/payment_intents/<id>/settle``).
    ``refund_fails`` marks cards whose refunds fail asynchronously
    (Stripe's 4000 0000 0000 5126). ``attach_ok`` marks a declining card that can
    still be attached and set up (Stripe's 4000 0000 0000 0341); other declining
    cards are declined when attached too. ``authentication`` is None (never asked),
    "always", "unless_set_up" (off-session payments pass once set up) or
    "on_session" (set up already: off-session payments pass, on-session ones ask).
    """

    brand: str
    kind: str = "succeed"
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None
    refund_fails: bool = False
    attach_ok: bool = False
    authentication: str | None = None


_DECLINED = "Your card was declined."
CARDS: dict[str, Outcome] = {
    "4242424242424242": Outcome("visa"),
    "4000056655665556": Outcome("visa"),
    "5555555555554444": Outcome("mastercard"),
    "378282246310005": Outcome("amex"),
    "4000000000000002": Outcome("visa", "decline", "card_declined", "generic_decline", _DECLINED),
    "4000000000009995": Outcome("visa", "decline", "card_declined", "insufficient_funds",
                                "Your card has insufficient funds."),
    "4000000000009987": Outcome("visa", "decline", "card_declined", "lost_card", _DECLINED),
    "4000000000009979": Outcome("visa", "decline", "card_declined", "stolen_card", _DECLINED),
    "4000000000000069": Outcome("visa", "decline", "expired_card", "expired_card",
                                "Your card has expired."),
    "4000000000000127": Outcome("visa", "decline", "incorrect_cvc", "incorrect_cvc",
                                "Your card's security code is incorrect."),
    "4000000000000119": Outcome("visa", "decline", "processing_error", "processing_error",
                                "An error occurred while processing your card. Try again in a "
                                "little bit."),
    "4000000000005126": Outcome("visa", refund_fails=True),
    "4000000000000341": Outcome("visa", "decline", "card_declined", "generic_decline", _DECLINED,
                                attach_ok=True),
    "4000002500003155": Outcome("visa", authentication="unless_set_up"),
    "4000002760003184": Outcome("visa", authentication="always"),
    "4000003800000446": Outcome("visa", authentication="on_session"),
    # Simulator extra (not a Stripe test card): payment stays `processing`.
    "4000000000007726": Outcome("visa", "processing"),
}

TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_visa_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_refundFail": "4000000000005126",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_authenticationRequiredSetupForOffSession": "4000003800000446",
    "pm_sim_processing": "4000000000007726",
}

AUTHENTICATION_REQUIRED = Outcome(
    "visa", "decline", "authentication_required", "authentication_required",
    "Your card was declined. This transaction requires authentication.")
LIVE_CARD = Outcome("visa", "decline", "card_declined", "test_mode_live_card",
                    "Your card was declined. Your request was in test mode, but used a non "
                    "test (live) card.")


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) < 12 or len(digits) != len(number):
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def outcome_for(number: str) -> Outcome:
    """The outcome of a Luhn-valid number; unknown numbers count as live cards."""
    return CARDS.get(number, LIVE_CARD)


def declines_setup(outcome: Outcome) -> bool:
    """Whether attaching or setting up the card fails (the card check is declined)."""
    return outcome.kind == "decline" and not outcome.attach_ok


def needs_authentication(outcome: Outcome, off_session: bool, set_up: bool) -> bool:
    """Whether a payment with this card asks the cardholder to authenticate."""
    rule = outcome.authentication
    if rule is None:
        return False
    if rule == "always" or not off_session:
        return True
    return rule == "unless_set_up" and not set_up


def brand_for(number: str) -> str:
    if number in CARDS:
        return CARDS[number].brand
    if number.startswith(("34", "37")):
        return "amex"
    if number.startswith("5"):
        return "mastercard"
    return "visa" if number.startswith("4") else "unknown"
