"""PaymentIntents: create, retrieve, update, confirm, cancel, list.

Status machine (automatic capture only):
    requires_payment_method --(payment_method set)--> requires_confirmation
    requires_payment_method/requires_confirmation/requires_action --confirm-->
        succeeded | processing | requires_action (the card asks for authentication)
        | requires_payment_method (declined, with ``last_payment_error``)
    requires_action --_authenticate complete--> succeeded | processing
    requires_action --_authenticate fail--> requires_payment_method
        (``payment_intent_authentication_failure``)
    processing --settle--> succeeded | requires_payment_method
    any but succeeded/canceled/processing --cancel--> canceled
Invariants: ``amount_received`` equals ``amount`` exactly when succeeded;
``latest_charge`` names the last charge attempted (as on Stripe, a declined
one too); succeeded, processing and canceled intents cannot be updated; an
off-session confirm (``off_session=true``) never waits in ``requires_action``:
a card that asks for authentication is declined with ``authentication_required``.
A PaymentMethod is attached to the intent's customer when a payment with
``setup_future_usage`` succeeds; one used without a customer is spent.
"""
from __future__ import annotations

import re
import time
from typing import Any

from . import balances, cards, charges, currencies, errors, intents
from . import params as p
from . import payment_methods as pms
from .listing import LIST_PARAMS, expanded, paginate, public, where
from .state import Ctx, Store, new_id

CREATE_PARAMS = ("amount", "currency", "metadata", "receipt_email", "description",
                 "automatic_payment_methods", "payment_method_types", "payment_method",
                 "confirm", "return_url", "capture_method", "statement_descriptor",
                 "statement_descriptor_suffix", "expand", "customer", "setup_future_usage",
                 "payment_method_options", "application_fee_amount", "off_session")
UPDATE_PARAMS = ("application_fee_amount", "amount", "currency", "metadata", "receipt_email",
                 "description", "payment_method", "payment_method_types", "statement_descriptor",
                 "statement_descriptor_suffix", "expand", "customer", "setup_future_usage")
CONFIRM_PARAMS = ("payment_method", "payment_method_data", "return_url", "receipt_email",
                  "expand", "client_secret", "use_stripe_sdk", "mandate_data",
                  "payment_method_options", "setup_future_usage", "off_session")
CANCEL_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
FINAL = ("succeeded", "processing", "canceled")


def _find(store: Store, id_: str) -> dict[str, Any]:
    pi = store.require("payment_intent", id_)
    return pi


def _amount(params: dict[str, Any], currency: str, required: bool) -> int | None:
    amount = p.as_int(params, "amount", required=required, minimum=1)
    if amount is not None:
        currencies.check_amount(amount, currency)
    return amount


def _currency(params: dict[str, Any], required: bool) -> str | None:
    raw = p.as_str(params, "currency", required=required)
    if raw is None:
        return None
    if not re.fullmatch(r"[A-Za-z]{3}", raw):
        raise errors.invalid(f"Invalid currency: {raw.lower()}.", param="currency")
    currencies.check_currency(raw.lower())
    return raw.lower()


def _fee(ctx: Ctx, params: dict[str, Any], amount: int | None) -> int | None:
    fee = p.as_int(params, "application_fee_amount", minimum=0)
    if fee is None:
        return None
    if not ctx.account:
        raise errors.invalid(
            "Can only apply an application_fee_amount when the PaymentIntent is attempting a "
            "direct payment (using an OAuth key or Stripe-Account header) or destination "
            "payment (using `transfer_data[destination]`).", param="application_fee_amount")
    if amount is not None and fee > amount:
        raise errors.invalid("The application fee amount must be less than or equal to the "
                             "amount.", param="application_fee_amount")
    return fee


def _off_session(params: dict[str, Any]) -> bool:
    """``off_session``: true/false, or Stripe's older "one_off"/"recurring" (both true)."""
    if params.get("off_session") in ("one_off", "recurring"):
        return True
    return bool(p.as_bool(params, "off_session"))


def create(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, CREATE_PARAMS)
    currency = _currency(params, required=True) or "usd"
    amount = _amount(params, currency, required=True)
    fee = _fee(ctx, params, amount)
    if p.as_str(params, "capture_method") not in (None, "automatic", "automatic_async"):
        raise errors.invalid("The simulator supports automatic capture only.",
                             param="capture_method")
    apm_obj, types = intents.method_settings(params)
    customer = intents.customer_param(store, params)
    confirm_now = p.as_bool(params, "confirm")
    off_session = _off_session(params)
    if off_session and not confirm_now:
        raise errors.invalid("You can only pass `off_session` when `confirm` is true.",
                             param="off_session")
    created = int(time.time())
    pi_id = new_id("pi")
    pi = {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": fee,
        "automatic_payment_methods": apm_obj,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": intents.client_secret(pi_id),
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": customer,
        "description": p.as_str(params, "description"),
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": p.merge_metadata({}, params.get("metadata")),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_options": {"card": {"installments": None, "mandate_options": None,
                                            "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": types,
        "processing": None,
        "receipt_email": p.as_str(params, "receipt_email"),
        "review": None,
        "setup_future_usage": intents.usage(params, "setup_future_usage"),
        "shipping": None,
        "source": None,
        "statement_descriptor": p.as_str(params, "statement_descriptor"),
        "statement_descriptor_suffix": p.as_str(params, "statement_descriptor_suffix"),
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }
    return intents.open_intent(store, ctx, pi, params, confirm, ("return_url", "off_session"))


def retrieve(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    return intents.retrieve(store, ctx, "payment_intent", id_, params)


def update(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, UPDATE_PARAMS)
    pi = _find(store, id_)
    if pi["status"] in FINAL:
        raise intents.unexpected(pi, "update")
    currency = _currency(params, required=False) or pi["currency"]
    amount = _amount(params, currency, required=False)
    if amount is None and currency != pi["currency"]:
        currencies.check_amount(pi["amount"], currency)
    if amount is not None:
        pi["amount"] = amount
    if "application_fee_amount" in params:
        pi["application_fee_amount"] = _fee(ctx, params, pi["amount"])
    pi["currency"] = currency
    pi["metadata"] = p.merge_metadata(pi["metadata"], params.get("metadata"))
    for field in ("description", "receipt_email", "statement_descriptor",
                  "statement_descriptor_suffix"):
        if field in params:
            pi[field] = p.as_str(params, field)
    types = p.as_list(params, "payment_method_types")
    if types:
        pi["payment_method_types"] = [str(t) for t in types]
    intents.set_customer(store, pi, params)
    if "setup_future_usage" in params:
        pi["setup_future_usage"] = intents.usage(params, "setup_future_usage")
    intents.set_method(store, pi, params)
    return pi



def confirm(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    """Confirm with a test card; a decline raises a 402 card_error after saving state."""
    p.check_known(params, CONFIRM_PARAMS)
    pi = _find(store, id_)
    intents.check_client_secret(ctx, params, pi)
    if pi["status"] not in ("requires_payment_method", "requires_confirmation",
                            "requires_action"):
        raise intents.unexpected(pi, "confirm")
    off_session = _off_session(params)
    pm = intents.confirm_method(store, pi, params)
    if "receipt_email" in params:
        pi["receipt_email"] = p.as_str(params, "receipt_email")
    if "setup_future_usage" in params:
        pi["setup_future_usage"] = intents.usage(params, "setup_future_usage")
    outcome = cards.outcome_for(pm["_number"])
    pi.update(last_payment_error=None, next_action=None)
    if outcome.kind == "decline":
        _decline(store, ctx, pi, pm, outcome)
    if cards.needs_authentication(outcome, off_session, pm.get("_set_up", False)):
        if off_session:
            _decline(store, ctx, pi, pm, cards.AUTHENTICATION_REQUIRED)
        intents.require_action(store, ctx, pi, pm)
        return pi
    return _pay(store, ctx, pi, pm, outcome)


def authenticate(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    """The cardholder completes or fails the authentication a confirm asked for."""
    pi = _find(store, id_)
    pm, complete = intents.begin_authentication(store, ctx, pi, params)
    if complete:
        return _pay(store, ctx, pi, pm, cards.outcome_for(pm["_number"]))
    pi.update(status="requires_payment_method", payment_method=None,
              last_payment_error=intents.authentication_failure(pi, pm))
    _spend(pm)
    store.emit(ctx, "payment_intent.payment_failed", public(pi))
    return pi


def _spend(pm: dict[str, Any]) -> None:
    """A PaymentMethod used without a customer cannot be used again (as on Stripe)."""
    if not pm["customer"]:
        pm["_spent"] = True


def _pay(store: Store, ctx: Ctx, pi: dict[str, Any], pm: dict[str, Any],
         outcome: cards.Outcome) -> dict[str, Any]:
    """Charge a card that needs no (more) authentication: succeeded or processing."""
    if outcome.kind == "processing":
        charge = charges.create_charge(store, pi, pm, "pending")
        pi.update(status="processing", payment_method=pm["id"], latest_charge=charge["id"])
        store.emit(ctx, "payment_intent.processing", public(pi))
        return pi
    charge = charges.create_charge(store, pi, pm, "succeeded")
    _succeed(store, ctx, pi, pm, charge)
    return pi


def _succeed(store: Store, ctx: Ctx, pi: dict[str, Any], pm: dict[str, Any],
             charge: dict[str, Any]) -> None:
    pi.update(status="succeeded", payment_method=pm["id"], latest_charge=charge["id"],
              amount_received=pi["amount"], last_payment_error=None)
    pms.save_for_customer(store, ctx, pm, pi["customer"], pi["setup_future_usage"])
    _spend(pm)
    balances.create_fee(store, ctx, charge)
    store.emit(ctx, "charge.succeeded", public(charge))
    store.emit(ctx, "payment_intent.succeeded", public(pi))


def _decline(store: Store, ctx: Ctx, pi: dict[str, Any], pm: dict[str, Any],
             outcome: cards.Outcome) -> None:
    charge = charges.create_charge(store, pi, pm, "failed", outcome)
    error = {
        "type": "card_error",
        "code": outcome.code,
        "decline_code": outcome.decline_code,
        "message": outcome.message,
        "charge": charge["id"],
        "doc_url": f"{errors.DOC_BASE}#{(outcome.code or '').replace('_', '-')}",
        "payment_method": public(pm),
    }
    # Stripe detaches the failed method so the customer must supply another.
    pi.update(status="requires_payment_method", payment_method=None,
              latest_charge=charge["id"], last_payment_error=error)
    _spend(pm)
    store.emit(ctx, "charge.failed", public(charge))
    store.emit(ctx, "payment_intent.payment_failed", public(pi))
    raise errors.card_error(outcome.message or "Your card was declined.",
                            code=outcome.code or "card_declined",
                            decline_code=outcome.decline_code,
                            extra={"charge": charge["id"], "payment_intent": public(pi),
                                   "payment_method": public(pm)})


def settle_processing(store: Store, ctx: Ctx, id_: str, succeed: bool = True
                      ) -> dict[str, Any]:
    """Finish a ``processing`` intent (simulator control, like a bank's answer)."""
    pi = _find(store, id_)
    if pi["status"] != "processing":
        raise intents.unexpected(pi, "settle")
    charge = store.get("charge", pi["latest_charge"])
    pm = store.get("payment_method", pi["payment_method"])
    assert charge is not None and pm is not None
    if succeed:
        charge.update(status="succeeded", paid=True, captured=True,
                      amount_captured=charge["amount"], balance_transaction=new_id("txn"))
        _succeed(store, ctx, pi, pm, charge)
        return pi
    failure = cards.Outcome("visa", "decline", "card_declined", "generic_decline",
                            "Your card was declined.")
    charge.update(status="failed", failure_code=failure.code,
                  failure_message=failure.message)
    pi.update(status="requires_payment_method", payment_method=None, last_payment_error={
        "type": "card_error", "code": failure.code, "decline_code": failure.decline_code,
        "message": failure.message, "charge": charge["id"], "payment_method": public(pm)})
    _spend(pm)
    store.emit(ctx, "charge.failed", public(charge))
    store.emit(ctx, "payment_intent.payment_failed", public(pi))
    return pi


def cancel(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("cancellation_reason", "expand"))
    pi = _find(store, id_)
    reason = p.as_str(params, "cancellation_reason", choices=CANCEL_REASONS)
    if pi["status"] in FINAL:
        raise intents.unexpected(pi, "cancel")
    pi.update(status="canceled", canceled_at=int(time.time()), cancellation_reason=reason)
    store.emit(ctx, "payment_intent.canceled", public(pi))
    return pi


def list_(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("customer", "created") + LIST_PARAMS)
    items = where(store.all("payment_intent"), params, "customer")
    return paginate(items, params, "/v1/payment_intents", store)


def render(store: Store, obj: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return expanded(store, obj, p.as_list(params, "expand"))
