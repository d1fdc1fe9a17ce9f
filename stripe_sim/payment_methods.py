"""PaymentMethods: retrieve, list, attach, detach, and which ones an intent may use.

Invariants:
- A ``pm_card_*`` test id names no object: each use creates a fresh
  PaymentMethod, as on Stripe (so ``attach`` answers a new ``pm_...`` id).
- An intent may use a PaymentMethod only if it is attached to the intent's own
  customer, or attached to none and not spent (:func:`for_intent`).
- ``_set_up`` (private) records that the PaymentMethod was set up for
  off-session use; detaching forgets it.
"""
from __future__ import annotations

from typing import Any

from . import charges, customers, errors
from . import params as p
from .listing import LIST_PARAMS, paginate
from .state import Ctx, Store


def retrieve(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("expand",))
    return store.require("payment_method", id_)


def list_(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    """Without ``customer`` Stripe lists Treasury methods only: none here."""
    p.check_known(params, ("customer", "type") + LIST_PARAMS)
    customer = p.as_str(params, "customer")
    items = []
    if customer:
        customers.require(store, customer, "customer")
        items = customers.attached(store, customer, p.as_str(params, "type"))
    return paginate(items, params, "/v1/payment_methods", store)


def attach(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("customer", "expand"))
    customer = customers.require(store, p.as_str(params, "customer", required=True) or "",
                                 "customer")
    pm = charges.resolve_payment_method(store, id_)
    customers.attach(store, ctx, pm, customer)
    return pm


def detach(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("expand",))
    pm = store.require("payment_method", id_)
    if not pm["customer"]:
        raise errors.invalid("The payment method you provided is not attached to a customer so "
                             "detachment is impossible.", param="payment_method")
    customers.detach(store, ctx, pm)
    return pm


def for_intent(store: Store, ref: str, intent: dict[str, Any],
               param: str = "payment_method") -> dict[str, Any]:
    """The PaymentMethod ``ref`` names, if ``intent`` (its customer) may use it."""
    pm = charges.resolve_payment_method(store, ref)
    if pm["customer"] and pm["customer"] != intent["customer"]:
        noun = "PaymentIntent" if intent["object"] == "payment_intent" else "SetupIntent"
        raise errors.invalid(
            f"The `payment_method` parameter supplied {pm['id']} belongs to the Customer "
            f"{pm['customer']}. Please include the Customer in the `customer` parameter on the "
            f"{noun}.", param=param)
    customers.check_reusable(pm, param)
    return pm


def save_for_customer(store: Store, ctx: Ctx, pm: dict[str, Any], customer: str | None,
                      usage: str | None) -> None:
    """After a successful set-up or payment: attach ``pm`` to the customer when
    ``usage`` is set (as Stripe does), and remember an off-session set-up."""
    if usage and customer and not pm["customer"]:
        customers.attach(store, ctx, pm, customers.require(store, customer, "customer"))
    if usage == "off_session":
        pm["_set_up"] = True
