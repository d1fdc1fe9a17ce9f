"""What PaymentIntents and SetupIntents share: client secrets, payment method
settings, the PaymentMethod a confirm uses, and the authentication stand-in.

Authentication (3D Secure) stand-in: an intent that needs the cardholder waits
in ``requires_action`` with ``next_action.type == "use_stripe_sdk"`` until its
``POST /v1/<payment|setup>_intents/<id>/_authenticate`` route (publishable key +
``client_secret`` allowed: the stand-in Stripe.js calls it from its dialog) or
the control route ``/_sim/<payment|setup>_intents/<id>/authenticate`` is told
``result=complete`` or ``result=fail``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import charges, customers, errors
from . import params as p
from . import payment_methods as pms
from .listing import public
from .state import Ctx, Store, new_id

NOUNS = {"payment_intent": "PaymentIntent", "setup_intent": "SetupIntent"}
AUTH_RESULTS = ("complete", "fail")
AUTHENTICATE_PARAMS = ("result", "client_secret", "expand")


def client_secret(id_: str) -> str:
    return f"{id_}_secret_{new_id('x', 25)[2:]}"


def check_client_secret(ctx: Ctx, params: dict[str, Any], obj: dict[str, Any]) -> None:
    """Stripe.js (a publishable key) must prove it holds the intent's client secret."""
    if ctx.publishable and params.get("client_secret") != obj["client_secret"]:
        raise errors.invalid("The client_secret provided does not match the client_secret "
                             f"associated with the {NOUNS[obj['object']]}.",
                             param="client_secret")


def unexpected(obj: dict[str, Any], action: str) -> errors.StripeError:
    """Stripe's ``<kind>_unexpected_state`` error (saved for idempotent replay)."""
    kind = obj["object"]
    return errors.state_error(
        f"You cannot {action} this {NOUNS[kind]} because it has a status of {obj['status']}.",
        code=f"{kind}_unexpected_state", extra={kind: public(obj)})


def open_intent(store: Store, ctx: Ctx, obj: dict[str, Any], params: dict[str, Any],
                confirm: Callable[..., dict[str, Any]], carried: tuple[str, ...]
                ) -> dict[str, Any]:
    """Store a new intent, announce it, and confirm it at once with ``confirm=true``
    (passing on the ``carried`` parameters)."""
    set_method(store, obj, params)
    store.put(obj["object"], obj)
    store.emit(ctx, f"{obj['object']}.created", public(obj))
    if p.as_bool(params, "confirm"):
        return confirm(store, ctx, obj["id"], {k: params[k] for k in carried if k in params})
    return obj


def retrieve(store: Store, ctx: Ctx, kind: str, id_: str, params: dict[str, Any]
             ) -> dict[str, Any]:
    p.check_known(params, ("expand", "client_secret"))
    obj = store.require(kind, id_)
    check_client_secret(ctx, params, obj)
    return obj


def set_method(store: Store, obj: dict[str, Any], params: dict[str, Any]) -> None:
    """A create's or update's ``payment_method``: the intent awaits confirmation."""
    ref = p.as_str(params, "payment_method")
    if ref:
        obj.update(payment_method=pms.for_intent(store, ref, obj)["id"],
                   status="requires_confirmation", next_action=None)


def customer_param(store: Store, params: dict[str, Any]) -> str | None:
    """The ``customer`` parameter, which must name a live customer of the account."""
    customer = p.as_str(params, "customer")
    return customers.require(store, customer, "customer")["id"] if customer else None


def set_customer(store: Store, obj: dict[str, Any], params: dict[str, Any]) -> None:
    """An update's ``customer``: it may be set once, never changed."""
    customer = customer_param(store, params)
    if customer and obj["customer"] not in (None, customer):
        noun = NOUNS[obj["object"]]
        raise errors.invalid(f"You cannot modify `customer` on a {noun} once it already has "
                             f"been set. To fulfill a payment with a different Customer, "
                             f"cancel this {noun} and create a new one.", param="customer")
    obj["customer"] = customer or obj["customer"]


def method_settings(params: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """``automatic_payment_methods`` and ``payment_method_types`` (one or the other)."""
    apm = params.get("automatic_payment_methods")
    types = p.as_list(params, "payment_method_types")
    if apm is not None and types:
        raise errors.invalid("You may only specify one of these parameters: "
                             "automatic_payment_methods, payment_method_types.",
                             param="automatic_payment_methods")
    if apm is None:
        return (None if types else {"enabled": True}), [str(t) for t in types or ["card"]]
    if not isinstance(apm, dict):
        raise errors.invalid("Invalid hash", param="automatic_payment_methods")
    p.check_known(apm, ("enabled", "allow_redirects"), "automatic_payment_methods")
    apm_obj: dict[str, Any] = {"enabled": p.as_bool(apm, "enabled") is not False}
    if apm.get("allow_redirects"):
        apm_obj["allow_redirects"] = apm["allow_redirects"]
    return apm_obj, ["card"]


def confirm_method(store: Store, obj: dict[str, Any], params: dict[str, Any]
                   ) -> dict[str, Any]:
    """The PaymentMethod a confirm uses: ``payment_method_data``, ``payment_method``, or
    the one already on the intent; it must be usable with the intent's customer."""
    if "payment_method_data" in params:
        return charges.payment_method_from_data(store, params["payment_method_data"])
    ref = p.as_str(params, "payment_method") or obj["payment_method"]
    if not ref:
        raise errors.invalid(
            f"You cannot confirm this {NOUNS[obj['object']]} because it's missing a payment "
            f"method. To confirm the {NOUNS[obj['object']]}, pass a payment_method.",
            code=f"{obj['object']}_unexpected_state", param="payment_method")
    return pms.for_intent(store, ref, obj)


def require_action(store: Store, ctx: Ctx, obj: dict[str, Any], pm: dict[str, Any]) -> None:
    """Park the intent in ``requires_action`` until the cardholder authenticates."""
    kind = obj["object"]
    obj.update(status="requires_action", payment_method=pm["id"], next_action={
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {"type": "three_d_secure_redirect",
                           "source": new_id("src"),
                           "stripe_js": f"{ctx.host_url}v1/{kind}s/{obj['id']}/_authenticate"}})
    store.emit(ctx, f"{kind}.requires_action", public(obj))


def begin_authentication(store: Store, ctx: Ctx, obj: dict[str, Any], params: dict[str, Any]
                         ) -> tuple[dict[str, Any], bool]:
    """Check an authenticate call; returns the PaymentMethod and whether it completed."""
    p.check_known(params, AUTHENTICATE_PARAMS)
    check_client_secret(ctx, params, obj)
    complete = p.as_str(params, "result", required=True, choices=AUTH_RESULTS) == "complete"
    if obj["status"] != "requires_action":
        raise unexpected(obj, "authenticate")
    obj["next_action"] = None
    return store.require("payment_method", obj["payment_method"]), complete


def authentication_failure(obj: dict[str, Any], pm: dict[str, Any]) -> dict[str, Any]:
    """The ``last_payment_error``/``last_setup_error`` after a failed authentication."""
    kind = obj["object"]
    message = (
        "The provided PaymentMethod has failed authentication. You can provide "
        "payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent "
        "again." if kind == "payment_intent" else
        "The latest attempt to set up the payment method has failed because authentication "
        "failed.")
    code = f"{kind}_authentication_failure"
    return {"type": "invalid_request_error", "code": code, "message": message,
            "doc_url": f"{errors.DOC_BASE}#{code.replace('_', '-')}",
            "payment_method": public(pm)}


def usage(params: dict[str, Any], name: str) -> str | None:
    """``setup_future_usage``/``usage``: off_session or on_session ("" unsets)."""
    return p.as_str(params, name, choices=("off_session", "on_session"))
