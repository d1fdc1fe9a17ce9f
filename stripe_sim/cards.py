"""Stripe's documented test cards and test PaymentMethod ids, and their outcomes.

Card numbers typed into the stand-in Payment Element and ``pm_card_*`` ids
passed through the API resolve to the same outcomes, so a browser test and an
SDK test of the same card behave identically.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """What confirming a PaymentIntent with this card does.

    ``kind`` is "succeed", "decline", or "processing" (a simulator extra: the
    PaymentIntent waits in ``processing`` until ``/_sim/payment_intents/<id>/settle``).
    ``refund_fails`` marks cards whose refunds fail asynchronously
    (Stripe's 4000 0000 0000 5126).
    """

    brand: str
    kind: str = "succeed"
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None
    refund_fails: bool = False


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
    "pm_sim_processing": "4000000000007726",
}

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


def brand_for(number: str) -> str:
    if number in CARDS:
        return CARDS[number].brand
    if number.startswith(("34", "37")):
        return "amex"
    if number.startswith("5"):
        return "mastercard"
    return "visa" if number.startswith("4") else "unknown"
