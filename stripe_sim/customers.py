"""Customers, and attaching PaymentMethods to them.

Invariants:
- A PaymentMethod's ``customer`` names at most one live customer of the same
  account; attaching one that is attached already (to any customer), detached
  before, or spent by a payment without a customer is refused, as on Stripe.
- ``invoice_settings.default_payment_method`` is always a PaymentMethod attached
  to that customer (detaching it clears the default).
- A deleted customer is kept as Stripe's ``{"id", "object": "customer",
  "deleted": true}`` stub: retrieving answers the stub, anything else treats it
  as missing, and its PaymentMethods were detached.
"""
from __future__ import annotations

import time
from typing import Any

from . import cards, charges, errors
from . import params as p
from .listing import LIST_PARAMS, paginate, public
from .state import Ctx, Store, new_id

FIELDS = ("email", "name", "description", "phone")
CREATE_PARAMS = FIELDS + ("metadata", "payment_method", "invoice_settings", "expand")
UPDATE_PARAMS = FIELDS + ("metadata", "invoice_settings", "expand")
SPENT_MESSAGE = (
    "The provided PaymentMethod was previously used with a PaymentIntent without Customer "
    "attachment, shared with a connected account without Customer attachment, or was detached "
    "from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must "
    "attach it to a Customer first.")


def require(store: Store, id_: str, param: str = "id") -> dict[str, Any]:
    """The live customer, or Stripe's 404 (deleted customers count as missing)."""
    customer = store.get("customer", id_)
    if customer is None or customer.get("deleted"):
        raise errors.resource_missing("customer", id_, param)
    return customer


def check_reusable(pm: dict[str, Any], param: str = "payment_method") -> None:
    """Refuse a PaymentMethod that was detached or spent without a customer."""
    if pm.get("_spent") and not pm["customer"]:
        raise errors.invalid(SPENT_MESSAGE, param=param)


def attach(store: Store, ctx: Ctx, pm: dict[str, Any], customer: dict[str, Any]) -> None:
    """Attach ``pm`` to ``customer`` (a card check declines most declining test cards)."""
    if pm["customer"]:
        raise errors.invalid("The payment method you provided has already been attached to a "
                             "customer.", param="payment_method")
    check_reusable(pm)
    outcome = cards.outcome_for(pm["_number"])
    if cards.declines_setup(outcome):
        raise errors.card_error(outcome.message or "Your card was declined.",
                                code=outcome.code or "card_declined",
                                decline_code=outcome.decline_code,
                                extra={"payment_method": public(pm)})
    pm["customer"] = customer["id"]
    store.emit(ctx, "payment_method.attached", public(pm))


def detach(store: Store, ctx: Ctx, pm: dict[str, Any]) -> None:
    """Detach ``pm`` for good: it cannot be attached or used again."""
    customer = store.get("customer", pm["customer"] or "")
    if customer and customer["invoice_settings"]["default_payment_method"] == pm["id"]:
        customer["invoice_settings"]["default_payment_method"] = None
    previous = {"customer": pm["customer"]}
    pm.update(customer=None, _spent=True, _set_up=False)
    store.emit(ctx, "payment_method.detached", public(pm), previous)


def _apply(store: Store, customer: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Set the plain fields, metadata and invoice settings; returns the previous values."""
    previous = {k: customer[k] for k in FIELDS if k in params}
    for field in FIELDS:
        if field in params:
            customer[field] = p.as_str(params, field)
    if "metadata" in params:
        previous["metadata"] = customer["metadata"]
        customer["metadata"] = p.merge_metadata(customer["metadata"], params["metadata"])
    settings = params.get("invoice_settings")
    if settings is not None:
        if not isinstance(settings, dict):
            raise errors.invalid("Invalid hash", param="invoice_settings")
        p.check_known(settings, ("default_payment_method", "footer", "custom_fields"),
                      "invoice_settings")
        previous["invoice_settings"] = dict(customer["invoice_settings"])
        _set_default(store, customer, settings)
    return previous


def _set_default(store: Store, customer: dict[str, Any], settings: dict[str, Any]) -> None:
    current = customer["invoice_settings"]
    if "footer" in settings:
        current["footer"] = p.as_str(settings, "footer")
    if "default_payment_method" not in settings:
        return
    ref = p.as_str(settings, "default_payment_method")
    pm = store.get("payment_method", ref) if ref else None
    if ref and (pm is None or pm["customer"] != customer["id"]):
        raise errors.invalid(
            f"The customer does not have a payment method with the ID {ref}. The payment "
            "method must be attached to the customer.",
            param="invoice_settings[default_payment_method]")
    current["default_payment_method"] = ref


def create(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, CREATE_PARAMS)
    customer_id = new_id("cus", 14)
    customer: dict[str, Any] = {
        "id": customer_id, "object": "customer", "address": None, "balance": 0,
        "created": int(time.time()), "currency": None, "default_source": None,
        "delinquent": False, "description": None, "discount": None, "email": None,
        "invoice_prefix": customer_id[-8:].upper(),
        "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                             "footer": None, "rendering_options": None},
        "livemode": False, "metadata": {}, "name": None, "next_invoice_sequence": 1,
        "phone": None, "preferred_locales": [], "shipping": None, "tax_exempt": "none",
        "test_clock": None,
    }
    ref = p.as_str(params, "payment_method")
    pm = charges.resolve_payment_method(store, ref) if ref else None
    settings = params.get("invoice_settings")
    if pm and isinstance(settings, dict) and settings.get("default_payment_method") == ref:
        params = {**params, "invoice_settings": {**settings, "default_payment_method": pm["id"]}}
    if pm:
        attach(store, ctx, pm, customer)  # before storing: a declined card creates nothing
    _apply(store, customer, params)
    store.put("customer", customer)
    store.emit(ctx, "customer.created", public(customer))
    return customer


def retrieve(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("expand",))
    return store.require("customer", id_)


def update(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, UPDATE_PARAMS)
    customer = require(store, id_)
    previous = _apply(store, customer, params)
    store.emit(ctx, "customer.updated", public(customer), previous)
    return customer


def delete(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ())
    customer = require(store, id_)
    for pm in attached(store, id_):
        detach(store, ctx, pm)
    store.emit(ctx, "customer.deleted", public(customer))
    stub = {"id": id_, "object": "customer", "deleted": True,
            "_account": customer.get("_account")}
    return store.put("customer", stub)


def list_(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("email", "created") + LIST_PARAMS)
    items = [c for c in store.all("customer") if not c.get("deleted")]
    email = p.as_str(params, "email")
    if email:
        items = [c for c in items if c["email"] == email]
    return paginate(items, params, "/v1/customers", store)


def attached(store: Store, customer_id: str, type_: str | None = None) -> list[dict[str, Any]]:
    """The customer's PaymentMethods, newest first (optionally of one ``type``)."""
    return [pm for pm in store.all("payment_method") if pm["customer"] == customer_id
            and type_ in (None, pm["type"])]


def list_payment_methods(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]
                         ) -> dict[str, Any]:
    p.check_known(params, ("type", "allow_redisplay") + LIST_PARAMS)
    require(store, id_)
    return paginate(attached(store, id_, p.as_str(params, "type")), params,
                    f"/v1/customers/{id_}/payment_methods", store)


def retrieve_payment_method(store: Store, ctx: Ctx, id_: str, pm_id: str,
                            params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("expand",))
    require(store, id_)
    pm = store.get("payment_method", pm_id)
    if pm is None or pm["customer"] != id_:
        raise errors.resource_missing("payment_method", pm_id)
    return pm
