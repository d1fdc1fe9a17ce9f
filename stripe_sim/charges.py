"""Charges and PaymentMethods created while confirming a PaymentIntent.

Invariant: ``charge.amount_refunded`` is the sum of the charge's refunds that
are not ``failed``/``canceled`` (pending ones count, as on Stripe, so two
concurrent refunds cannot exceed the captured amount) and ``charge.refunded``
is true exactly when that sum equals ``amount_captured``.
"""
from __future__ import annotations

import time
from typing import Any

from . import cards, errors
from . import params as p
from .state import Store, new_id

CARD_DATA_PARAMS = ("number", "exp_month", "exp_year", "cvc")


def create_payment_method(store: Store, number: str, exp_month: int = 12,
                          exp_year: int = 2034) -> dict[str, Any]:
    outcome = cards.outcome_for(number)
    brand = cards.brand_for(number)
    pm = {
        "id": new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "card": {
            "brand": brand,
            "checks": {"address_line1_check": None, "address_postal_code_check": None,
                       "cvc_check": "pass"},
            "country": "US",
            "display_brand": brand,
            "exp_month": exp_month,
            "exp_year": exp_year,
            "fingerprint": new_id("fp", 16)[3:],
            "funding": "credit",
            "generated_from": None,
            "last4": number[-4:],
            "networks": {"available": [brand], "preferred": None},
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": int(time.time()),
        "customer": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
        # Private: which test card this is, so outcomes survive a restart.
        "_number": number,
        "_refund_fails": outcome.refund_fails,
    }
    return store.put("payment_method", pm)


def resolve_payment_method(store: Store, ref: str) -> dict[str, Any]:
    """A ``pm_card_*`` test id yields a fresh PaymentMethod, as on Stripe."""
    if ref in cards.TEST_PAYMENT_METHODS:
        return create_payment_method(store, cards.TEST_PAYMENT_METHODS[ref])
    pm = store.get("payment_method", ref)
    if pm is None:
        raise errors.resource_missing("payment_method", ref, "payment_method")
    return pm


def payment_method_from_data(store: Store, data: Any) -> dict[str, Any]:
    """Build a card PaymentMethod from ``payment_method_data`` (the browser path)."""
    if not isinstance(data, dict):
        raise errors.invalid("Invalid payment_method_data", param="payment_method_data")
    p.check_known(data, ("type", "card", "billing_details"), "payment_method_data")
    if data.get("type", "card") != "card":
        raise errors.invalid("Only card payment methods are simulated.",
                             param="payment_method_data[type]")
    card = data.get("card")
    if not isinstance(card, dict):
        raise errors.missing_param("payment_method_data[card]")
    p.check_known(card, CARD_DATA_PARAMS, "payment_method_data[card]")
    number = "".join(ch for ch in str(card.get("number", "")) if ch.isdigit())
    if not cards.luhn_ok(number):
        raise errors.card_error("Your card number is incorrect.", code="incorrect_number",
                                decline_code=None, extra={"param": "number"})
    exp_month = p.as_int(card, "exp_month", required=True, minimum=1) or 1
    exp_year = p.as_int(card, "exp_year", required=True, minimum=0) or 0
    if exp_year < 100:
        exp_year += 2000
    now = time.gmtime()
    if exp_month > 12 or (exp_year, exp_month) < (now.tm_year, now.tm_mon):
        raise errors.card_error("Your card's expiration date is invalid.",
                                code="invalid_expiry_year", decline_code=None,
                                extra={"param": "exp_year"})
    return create_payment_method(store, number, exp_month, exp_year)


def create_charge(store: Store, pi: dict[str, Any], pm: dict[str, Any],
                  status: str, failure: cards.Outcome | None = None) -> dict[str, Any]:
    """A charge for ``pi`` paid by ``pm`` in ``status`` (succeeded/failed/pending)."""
    paid = status == "succeeded"
    charge = {
        "id": new_id("ch"),
        "object": "charge",
        "amount": pi["amount"],
        "amount_captured": pi["amount"] if paid else 0,
        "amount_refunded": 0,
        "application_fee": None,
        "application_fee_amount": pi.get("application_fee_amount"),
        "balance_transaction": new_id("txn") if paid else None,
        "billing_details": pm["billing_details"],
        "captured": paid,
        "created": int(time.time()),
        "currency": pi["currency"],
        "customer": pi.get("customer"),
        "description": pi.get("description"),
        "disputed": False,
        "failure_code": failure.code if failure else None,
        "failure_message": failure.message if failure else None,
        "livemode": False,
        "metadata": dict(pi.get("metadata") or {}),
        "outcome": {
            "network_status": "declined_by_network" if failure else "approved_by_network",
            "reason": failure.decline_code if failure else None,
            "risk_level": "normal",
            "seller_message": "The bank did not return any further details with this decline."
            if failure else "Payment complete.",
            "type": "issuer_declined" if failure else "authorized",
        },
        "paid": paid,
        "payment_intent": pi["id"],
        "payment_method": pm["id"],
        "payment_method_details": {"card": {k: pm["card"][k] for k in (
            "brand", "country", "exp_month", "exp_year", "fingerprint", "funding", "last4")},
            "type": "card"},
        "receipt_email": pi.get("receipt_email"),
        "receipt_url": None,
        "refunded": False,
        "status": status,
        "_refund_fails": pm.get("_refund_fails", False),
    }
    return store.put("charge", charge)


def recompute_refunded(store: Store, charge: dict[str, Any]) -> dict[str, Any]:
    """Re-derive ``amount_refunded``/``refunded``; returns the previous values."""
    before = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    total = sum(r["amount"] for r in store.objects["refund"].values()
                if r["charge"] == charge["id"] and r["status"] not in ("failed", "canceled"))
    charge["amount_refunded"] = total
    charge["refunded"] = total >= charge["amount_captured"] > 0
    return before
