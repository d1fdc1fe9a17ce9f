"""Refunds: create, retrieve, list, and settling pending ones.

A refund starts ``pending`` and later becomes ``succeeded``, or ``failed`` with
``failure_reason`` when the charge was paid with Stripe's refund-failure test
card 4000 0000 0000 5126 (``pm_card_refundFail``) or the refund's metadata has
``sim_fail=1``. Invariant: the non-failed refunds of a charge never sum to
more than its captured amount; a failed refund gives its amount back.
"""
from __future__ import annotations

import time
from typing import Any

from . import balances, charges, currencies, errors
from . import params as p
from .listing import paginate, public, where
from .state import Ctx, Store, new_id

CREATE_PARAMS = ("payment_intent", "charge", "amount", "reason", "metadata", "expand",
                 "instructions_email", "refund_application_fee", "reverse_transfer")
REASONS = ("duplicate", "fraudulent", "requested_by_customer")
FAILURE_REASON = "expired_or_canceled_card"


def _money(amount: int, currency: str) -> str:
    return currencies.shown(amount, currency)


def _charge_for(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    pi_id = p.as_str(params, "payment_intent")
    ch_id = p.as_str(params, "charge")
    if not pi_id and not ch_id:
        raise errors.invalid("One of the following params should be provided for this "
                             "request: payment_intent or charge.", code="parameter_missing")
    if pi_id:
        pi = store.get("payment_intent", pi_id)
        if pi is None:
            raise errors.resource_missing("payment_intent", pi_id, "payment_intent")
        charge = store.get("charge", pi["latest_charge"]) if pi["latest_charge"] else None
        if pi["status"] != "succeeded" or charge is None:
            raise errors.state_error(
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                code="charge_not_refundable", param="payment_intent")
        if ch_id and ch_id != charge["id"]:
            raise errors.invalid("The charge does not belong to this PaymentIntent.",
                                 param="charge")
        return charge
    charge = store.get("charge", ch_id or "")
    if charge is None:
        raise errors.resource_missing("charge", ch_id or "", "charge")
    if charge["status"] != "succeeded":
        raise errors.state_error(f"Charge {charge['id']} has not succeeded.",
                                 code="charge_not_refundable", param="charge")
    return charge


def create(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, CREATE_PARAMS)
    amount = p.as_int(params, "amount", minimum=1)
    reason = p.as_str(params, "reason", choices=REASONS)
    metadata = p.merge_metadata({}, params.get("metadata"))
    charge = _charge_for(store, params)
    remaining = charge["amount_captured"] - charge["amount_refunded"]
    if remaining <= 0:
        raise errors.state_error(f"Charge {charge['id']} has already been refunded.",
                                 code="charge_already_refunded")
    if amount is None:
        amount = remaining
    currencies.check_amount(amount, charge["currency"], charge=False)
    if amount > remaining:
        raise errors.state_error(
            f"Refund amount ({_money(amount, charge['currency'])}) is greater than unrefunded "
            f"amount on charge ({_money(remaining, charge['currency'])})",
            code="amount_too_large", param="amount")
    refund = {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn"),
        "charge": charge["id"],
        "created": int(time.time()),
        "currency": charge["currency"],
        "destination_details": {"card": {"reference_status": "pending", "reference_type":
                                         "acquirer_reference_number", "type": "refund"},
                                "type": "card"},
        "metadata": metadata,
        "payment_intent": charge["payment_intent"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "pending",
        "transfer_reversal": None,
        "_fails": bool(charge.get("_refund_fails")) or metadata.get("sim_fail") == "1",
    }
    store.put("refund", refund)
    if p.as_bool(params, "refund_application_fee"):
        refund["_fee_refunded"] = balances.refund_fee(store, ctx, charge, amount)
    previous = charges.recompute_refunded(store, charge)
    store.emit(ctx, "charge.refunded", public(charge), previous)
    store.emit(ctx, "refund.created", public(refund))
    return refund


def settle(store: Store, ctx: Ctx, refund_id: str) -> dict[str, Any] | None:
    """Move a pending refund to its final status; a no-op for settled ones.

    Returns the refund if it changed. Safe to call twice (timer and control).
    """
    refund = store.get("refund", refund_id)
    if refund is None or refund["status"] != "pending":
        return None
    if refund["_fails"]:
        refund.update(status="failed", failure_reason=FAILURE_REASON,
                      failure_balance_transaction=new_id("txn"))
        refund["destination_details"]["card"]["reference_status"] = "unavailable"
        charge = store.get("charge", refund["charge"])
        assert charge is not None
        previous = charges.recompute_refunded(store, charge)
        store.emit(ctx, "refund.failed", public(refund), {"status": "pending"})
        store.emit(ctx, "refund.updated", public(refund), {"status": "pending"})
        store.emit(ctx, "charge.refund.updated", public(refund), {"status": "pending"})
        charge_prev = {k: v for k, v in previous.items() if charge[k] != v}
        if charge_prev:
            store.emit(ctx, "charge.updated", public(charge), charge_prev)
        return refund
    refund["status"] = "succeeded"
    refund["destination_details"]["card"]["reference_status"] = "available"
    refund["destination_details"]["card"]["reference"] = new_id("arn", 12)[4:]
    store.emit(ctx, "refund.updated", public(refund), {"status": "pending"})
    store.emit(ctx, "charge.refund.updated", public(refund), {"status": "pending"})
    return refund


def pending_ids(store: Store) -> list[str]:
    """Pending refunds, oldest first (the order they settle in)."""
    return [r["id"] for r in store.objects["refund"].values() if r["status"] == "pending"]


def retrieve(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("expand",))
    refund = store.require("refund", id_)
    return refund


def update(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("metadata", "expand"))
    refund = retrieve(store, ctx, id_, {})
    refund["metadata"] = p.merge_metadata(refund["metadata"], params.get("metadata"))
    return refund


def list_(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("payment_intent", "charge", "created", "limit", "starting_after",
                           "ending_before", "expand"))
    items = where(store.all("refund"), params, "payment_intent", "charge")
    return paginate(items, params, "/v1/refunds", store)
