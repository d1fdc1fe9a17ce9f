"""SetupIntents: save a card for later payments without charging it.

Status machine:
    requires_payment_method --(payment_method set)--> requires_confirmation
    requires_payment_method/requires_confirmation/requires_action --confirm-->
        succeeded | requires_action (the card asks for authentication)
        | requires_payment_method (declined: ``last_setup_error``, 402 card_error)
    requires_action --_authenticate complete--> succeeded
    requires_action --_authenticate fail--> requires_payment_method
        (``setup_intent_authentication_failure``)
    any but succeeded/canceled --cancel--> canceled
Invariants: a succeeded SetupIntent names its ``payment_method``, which is
attached to the SetupIntent's ``customer`` (if any) and, with ``usage`` off_session
(the default), counts as set up for off-session payments; every card that may
ask for authentication asks for it when being set up; succeeded and canceled
SetupIntents cannot be updated, confirmed or canceled.
"""
from __future__ import annotations

import time
from typing import Any

from . import cards, errors, intents
from . import params as p
from . import payment_methods as pms
from .listing import LIST_PARAMS, paginate, public, where
from .state import Ctx, Store, new_id

CREATE_PARAMS = ("customer", "payment_method", "payment_method_types", "usage", "confirm",
                 "metadata", "description", "return_url", "automatic_payment_methods",
                 "payment_method_options", "payment_method_data", "expand")
UPDATE_PARAMS = ("customer", "payment_method", "payment_method_types", "metadata",
                 "description", "payment_method_options", "expand")
CONFIRM_PARAMS = ("payment_method", "payment_method_data", "client_secret", "return_url",
                  "expand", "use_stripe_sdk", "mandate_data", "payment_method_options")
CANCEL_REASONS = ("abandoned", "requested_by_customer", "duplicate")
FINAL = ("succeeded", "canceled")


def create(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, CREATE_PARAMS)
    apm, types = intents.method_settings(params)
    si_id = new_id("seti")
    si: dict[str, Any] = {
        "id": si_id, "object": "setup_intent", "application": None,
        "automatic_payment_methods": apm, "cancellation_reason": None,
        "client_secret": intents.client_secret(si_id), "created": int(time.time()),
        "customer": intents.customer_param(store, params), "description": p.as_str(params, "description"),
        "flow_directions": None, "last_setup_error": None, "latest_attempt": None,
        "livemode": False, "mandate": None,
        "metadata": p.merge_metadata({}, params.get("metadata")), "next_action": None,
        "on_behalf_of": None, "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"mandate_options": None, "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": types, "single_use_mandate": None,
        "status": "requires_payment_method",
        "usage": intents.usage(params, "usage") or "off_session",
    }
    return intents.open_intent(store, ctx, si, params, confirm,
                               ("return_url", "payment_method_data"))


def retrieve(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    return intents.retrieve(store, ctx, "setup_intent", id_, params)


def update(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, UPDATE_PARAMS)
    si = store.require("setup_intent", id_)
    if si["status"] in FINAL:
        raise intents.unexpected(si, "update")
    intents.set_customer(store, si, params)
    si["metadata"] = p.merge_metadata(si["metadata"], params.get("metadata"))
    if "description" in params:
        si["description"] = p.as_str(params, "description")
    types = p.as_list(params, "payment_method_types")
    if types:
        si["payment_method_types"] = [str(t) for t in types]
    intents.set_method(store, si, params)
    return si


def confirm(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    """Check the card; a declining one raises a 402 card_error after saving state."""
    p.check_known(params, CONFIRM_PARAMS)
    si = store.require("setup_intent", id_)
    intents.check_client_secret(ctx, params, si)
    if si["status"] in FINAL:
        raise intents.unexpected(si, "confirm")
    pm = intents.confirm_method(store, si, params)
    outcome = cards.outcome_for(pm["_number"])
    si.update(last_setup_error=None, next_action=None)
    if cards.declines_setup(outcome):
        _decline(store, ctx, si, pm, outcome)
    if outcome.authentication:
        intents.require_action(store, ctx, si, pm)
        return si
    return _succeed(store, ctx, si, pm)


def authenticate(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    """The cardholder completes or fails the authentication the set-up asked for."""
    si = store.require("setup_intent", id_)
    pm, complete = intents.begin_authentication(store, ctx, si, params)
    if complete:
        return _succeed(store, ctx, si, pm)
    si.update(status="requires_payment_method", payment_method=None,
              last_setup_error=intents.authentication_failure(si, pm))
    store.emit(ctx, "setup_intent.setup_failed", public(si))
    return si


def _succeed(store: Store, ctx: Ctx, si: dict[str, Any], pm: dict[str, Any]
             ) -> dict[str, Any]:
    pms.save_for_customer(store, ctx, pm, si["customer"], si["usage"])
    si.update(status="succeeded", payment_method=pm["id"])
    store.emit(ctx, "setup_intent.succeeded", public(si))
    return si


def _decline(store: Store, ctx: Ctx, si: dict[str, Any], pm: dict[str, Any],
             outcome: cards.Outcome) -> None:
    code = outcome.code or "card_declined"
    si.update(status="requires_payment_method", payment_method=None, last_setup_error={
        "type": "card_error", "code": code, "decline_code": outcome.decline_code,
        "message": outcome.message, "doc_url": f"{errors.DOC_BASE}#{code.replace('_', '-')}",
        "payment_method": public(pm)})
    store.emit(ctx, "setup_intent.setup_failed", public(si))
    raise errors.card_error(outcome.message or "Your card was declined.", code=code,
                            decline_code=outcome.decline_code,
                            extra={"setup_intent": public(si), "payment_method": public(pm)})


def cancel(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("cancellation_reason", "expand"))
    si = store.require("setup_intent", id_)
    reason = p.as_str(params, "cancellation_reason", choices=CANCEL_REASONS)
    if si["status"] in FINAL:
        raise intents.unexpected(si, "cancel")
    si.update(status="canceled", cancellation_reason=reason, next_action=None)
    store.emit(ctx, "setup_intent.canceled", public(si))
    return si


def list_(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("customer", "payment_method", "created",
                           "attach_to_self") + LIST_PARAMS)
    items = where(store.all("setup_intent"), params, "customer", "payment_method")
    return paginate(items, params, "/v1/setup_intents", store)
