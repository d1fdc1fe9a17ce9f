"""Read-only endpoints: Events and Charges.

Events are recorded by :meth:`state.Store.emit` whenever an object changes;
here they are only listed (newest first, filterable by ``type`` with a ``*``
wildcard as on Stripe, or ``types[]``) and retrieved.
"""
from __future__ import annotations

import fnmatch
from typing import Any

from . import errors
from . import params as p
from .listing import LIST_PARAMS, paginate
from .state import Ctx, Store


def retrieve_event(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("expand",))
    return store.require("event", id_)


def list_events(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("type", "types", "created", "delivery_success") + LIST_PARAMS)
    items = store.all("event")
    type_ = p.as_str(params, "type")
    types = p.as_list(params, "types")
    if type_ and types:
        raise errors.invalid("You may only specify one of these parameters: type, types.",
                             param="types")
    if type_:
        items = [e for e in items if fnmatch.fnmatchcase(e["type"], type_)]
    if types:
        wanted = {str(t) for t in types}
        items = [e for e in items if e["type"] in wanted]
    return paginate(items, params, "/v1/events", store)


def retrieve_charge(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]
                    ) -> dict[str, Any]:
    p.check_known(params, ("expand",))
    return store.require("charge", id_)


def list_charges(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("payment_intent", "customer", "created") + LIST_PARAMS)
    items = store.all("charge")
    pi = p.as_str(params, "payment_intent")
    if pi:
        items = [c for c in items if c["payment_intent"] == pi]
    return paginate(items, params, "/v1/charges", store)
