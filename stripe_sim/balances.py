"""Money on a connected account: application fees, the balance, payouts and disputes.

Invariants:
- A direct charge with ``application_fee_amount`` creates one ApplicationFee on the
  platform (``account`` names the connected account, ``charge`` the charge); refunding the
  charge with ``refund_application_fee=true`` refunds the fee in proportion to the refund
  (rounded half up, never past what is left of the fee), as Stripe does.
- The balance of an account is derived, never stored: succeeded charges minus their
  application fees (plus fee refunds), minus refunds that have not failed, minus funds
  withdrawn for open or lost disputes, minus payouts that have not failed. The simulator
  keeps no Stripe processing fee and makes funds available at once (simplifications).
- Payouts are made by the control API (Stripe's payout schedule): one per currency for
  what is available, ``in_transit`` until marked paid.
"""
from __future__ import annotations

import time
from typing import Any

from . import errors
from . import params as p
from .listing import LIST_PARAMS, paginate, public
from .state import Ctx, Store, new_id

DISPUTE_REASONS = ("fraudulent", "duplicate", "product_not_received", "product_unacceptable",
                   "subscription_canceled", "unrecognized", "credit_not_processed", "general")
EVIDENCE_DAYS = 7


# -- application fees ---------------------------------------------------------------------

def create_fee(store: Store, ctx: Ctx, charge: dict[str, Any]) -> None:
    """Called when a direct charge with an application fee succeeds."""
    amount = charge.get("application_fee_amount")
    if not amount or not ctx.account:
        return
    fee = {"id": new_id("fee"), "object": "application_fee", "account": ctx.account,
           "amount": amount, "amount_refunded": 0, "application": "ca_simulatorplatform",
           "balance_transaction": new_id("txn"), "charge": charge["id"],
           "created": int(time.time()), "currency": charge["currency"], "livemode": False,
           "originating_transaction": None, "refunded": False,
           "refunds": {"object": "list", "data": [], "has_more": False,
                       "url": "/v1/application_fees/fee/refunds"}, "_account": None}
    fee["refunds"]["url"] = f"/v1/application_fees/{fee['id']}/refunds"
    store.root.put("application_fee", fee)
    charge["application_fee"] = fee["id"]
    store.root.emit(Ctx(api_key=ctx.api_key, request_id=ctx.request_id),
                    "application_fee.created", public(fee))


def refund_fee(store: Store, ctx: Ctx, charge: dict[str, Any], refund_amount: int) -> int:
    """Refund the charge's fee in proportion to ``refund_amount``; returns what came back."""
    fee = store.root.get("application_fee", charge.get("application_fee") or "")
    if fee is None or charge["amount"] <= 0:
        return 0
    share = (fee["amount"] * refund_amount * 2 + charge["amount"]) // (2 * charge["amount"])
    amount = min(share, fee["amount"] - fee["amount_refunded"])
    if amount <= 0:
        return 0
    fee["refunds"]["data"].insert(0, {"id": new_id("fr"), "object": "fee_refund",
                                      "amount": amount, "currency": fee["currency"],
                                      "created": int(time.time()), "fee": fee["id"],
                                      "metadata": {}})
    fee["amount_refunded"] += amount
    fee["refunded"] = fee["amount_refunded"] >= fee["amount"]
    store.root.emit(Ctx(api_key=ctx.api_key, request_id=ctx.request_id),
                    "application_fee.refunded", public(fee))
    return amount


def retrieve_fee(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("expand",))
    fee = store.require("application_fee", id_)
    return fee


def list_fees(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("charge", "created") + LIST_PARAMS)
    items = store.all("application_fee")
    charge = p.as_str(params, "charge")
    if charge:
        items = [f for f in items if f["charge"] == charge]
    return paginate(items, params, "/v1/application_fees", store)


# -- balance and payouts --------------------------------------------------------------------

def _of(store: Store, kind: str, account: str | None) -> list[dict[str, Any]]:
    return [o for o in store.root.all(kind) if o.get("_account") == account]


def available(store: Store, account: str | None) -> dict[str, int]:
    totals: dict[str, int] = {}

    def add(currency: str, amount: int) -> None:
        totals[currency] = totals.get(currency, 0) + amount

    for charge in _of(store, "charge", account):
        if charge["status"] == "succeeded":
            add(charge["currency"], charge["amount_captured"])
            fee = store.root.get("application_fee", charge.get("application_fee") or "")
            if fee is not None:
                add(fee["currency"], fee["amount_refunded"] - fee["amount"])
    for refund in _of(store, "refund", account):
        if refund["status"] not in ("failed", "canceled"):
            add(refund["currency"], -refund["amount"])
    for dispute in _of(store, "dispute", account):
        if dispute["status"] != "won":
            add(dispute["currency"], -dispute["amount"])
    for payout in _of(store, "payout", account):
        if payout["status"] not in ("failed", "canceled"):
            add(payout["currency"], -payout["amount"])
    return totals


def balance(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("expand",))
    totals = available(store, ctx.account) or {"usd": 0}
    return {"object": "balance", "livemode": False,
            "available": [{"amount": a, "currency": c, "source_types": {"card": a}}
                          for c, a in sorted(totals.items())],
            "pending": [{"amount": 0, "currency": c, "source_types": {"card": 0}}
                        for c in sorted(totals)],
            "instant_available": [],
            "connect_reserved": []}


def make_payouts(store: Store, account: str) -> list[dict[str, Any]]:
    """Pay out what is available, one payout per currency (Stripe's schedule at work)."""
    made = []
    for currency, amount in sorted(available(store, account).items()):
        if amount <= 0:
            continue
        now = int(time.time())
        payout = {"id": new_id("po"), "object": "payout", "amount": amount,
                  "arrival_date": now + 2 * 86400, "automatic": True,
                  "balance_transaction": new_id("txn"), "created": now, "currency": currency,
                  "description": "STRIPE PAYOUT", "destination": new_id("ba"),
                  "failure_code": None, "failure_message": None, "livemode": False,
                  "metadata": {}, "method": "standard", "source_type": "card",
                  "statement_descriptor": None, "status": "in_transit", "type": "bank_account",
                  "_account": account}
        store.root.put("payout", payout)
        store.root.emit(Ctx(account=account), "payout.created", public(payout))
        made.append(payout)
    return made


def mark_payout_paid(store: Store, payout_id: str) -> dict[str, Any]:
    payout = store.root.get("payout", payout_id)
    if payout is None:
        raise errors.resource_missing("payout", payout_id)
    if payout["status"] != "paid":
        payout["status"] = "paid"
        store.root.emit(Ctx(account=payout["_account"]), "payout.paid", public(payout),
                        {"status": "in_transit"})
    return payout


def retrieve_payout(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("expand",))
    payout = store.require("payout", id_)
    return payout


def list_payouts(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("status", "arrival_date", "created", "destination") + LIST_PARAMS)
    items = store.all("payout")
    status = p.as_str(params, "status")
    if status:
        items = [o for o in items if o["status"] == status]
    return paginate(items, params, "/v1/payouts", store)


# -- disputes ---------------------------------------------------------------------------------

def open_dispute(store: Store, charge_id: str, reason: str = "fraudulent",
                 amount: int | None = None) -> dict[str, Any]:
    """The cardholder's bank disputes a charge (control API): funds are withdrawn at once."""
    charge = store.root.get("charge", charge_id)
    if charge is None or charge["status"] != "succeeded":
        raise errors.resource_missing("charge", charge_id, "charge")
    if reason not in DISPUTE_REASONS:
        raise ValueError(f"reason must be one of {', '.join(DISPUTE_REASONS)}")
    now = int(time.time())
    dispute = {"id": new_id("dp"), "object": "dispute",
               "amount": amount or charge["amount_captured"], "balance_transactions": [],
               "charge": charge_id, "created": now, "currency": charge["currency"],
               "evidence": {"customer_name": None, "uncategorized_text": None},
               "evidence_details": {"due_by": now + EVIDENCE_DAYS * 86400,
                                    "has_evidence": False, "past_due": False,
                                    "submission_count": 0},
               "is_charge_refundable": False, "livemode": False, "metadata": {},
               "payment_intent": charge["payment_intent"], "reason": reason,
               "status": "needs_response", "_account": charge.get("_account")}
    store.root.put("dispute", dispute)
    charge["disputed"] = True
    store.root.emit(Ctx(account=dispute["_account"]), "charge.dispute.created", public(dispute))
    return dispute


def close_dispute(store: Store, dispute_id: str, status: str) -> dict[str, Any]:
    """The bank decides (control API): ``won`` gives the funds back, ``lost`` keeps them."""
    dispute = store.root.get("dispute", dispute_id)
    if dispute is None:
        raise errors.resource_missing("dispute", dispute_id)
    if status not in ("won", "lost"):
        raise ValueError("status must be won or lost")
    previous = {"status": dispute["status"]}
    dispute["status"] = status
    store.root.emit(Ctx(account=dispute["_account"]), "charge.dispute.closed", public(dispute),
                    previous)
    return dispute


def retrieve_dispute(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("expand",))
    dispute = store.require("dispute", id_)
    return dispute


def update_dispute(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    """Submit evidence: the dispute goes under review (``charge.dispute.updated``)."""
    p.check_known(params, ("evidence", "metadata", "submit", "expand"))
    dispute = retrieve_dispute(store, ctx, id_, {})
    if dispute["status"] in ("won", "lost"):
        raise errors.state_error("This dispute is already closed.", code="dispute_closed")
    if isinstance(params.get("evidence"), dict):
        dispute["evidence"].update(params["evidence"])
        dispute["evidence_details"]["has_evidence"] = True
    dispute["metadata"] = p.merge_metadata(dispute["metadata"], params.get("metadata"))
    previous = {"status": dispute["status"]}
    if p.as_bool(params, "submit") is not False:
        dispute["status"] = "under_review"
        dispute["evidence_details"]["submission_count"] += 1
    store.emit(ctx, "charge.dispute.updated", public(dispute), previous)
    return dispute
