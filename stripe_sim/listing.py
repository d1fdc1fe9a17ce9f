"""Stripe's cursor pagination for list endpoints, and ``expand``.

Invariant: lists are newest first; ``starting_after``/``ending_before`` name an
object id in the (already filtered) list; ``has_more`` is true only if objects
remain beyond the returned page in the direction of travel.
"""
from __future__ import annotations

import copy
from typing import Any

from . import errors
from . import params as p
from .state import Store

LIST_PARAMS = ("limit", "starting_after", "ending_before", "expand")


def public(obj: dict[str, Any]) -> dict[str, Any]:
    """A deep copy without the simulator's private ``_`` fields."""
    return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}


def paginate(items: list[dict[str, Any]], params: dict[str, Any], url: str,
             store: Store | None = None) -> dict[str, Any]:
    limit = p.as_int(params, "limit", minimum=1)
    limit = 10 if limit is None else limit
    if limit > 100:
        raise errors.invalid("This value must be less than or equal to 100.",
                             code="parameter_invalid_integer", param="limit")
    after = p.as_str(params, "starting_after")
    before = p.as_str(params, "ending_before")
    ids = [o["id"] for o in items]
    if after:
        if after not in ids:
            raise errors.resource_missing("object", after, "starting_after")
        rest = items[ids.index(after) + 1:]
        page = rest[:limit]
        has_more = len(rest) > limit
    elif before:
        if before not in ids:
            raise errors.resource_missing("object", before, "ending_before")
        rest = items[:ids.index(before)]
        page = rest[-limit:]
        has_more = len(rest) > limit
    else:
        page, has_more = items[:limit], len(items) > limit
    expand = [e.removeprefix("data.") for e in (p.as_list(params, "expand") or [])]
    data = [expanded(store, o, expand) if store else public(o) for o in page]
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def where(items: list[dict[str, Any]], params: dict[str, Any], *fields: str
          ) -> list[dict[str, Any]]:
    """The objects matching every given list filter (``customer=cus_...`` etc.)."""
    for field in fields:
        value = p.as_str(params, field)
        if value:
            items = [o for o in items if o.get(field) == value]
    return items


# Fields that hold an id which ``expand[]`` may replace with the object.
EXPANDABLE = {
    "latest_charge": "charge",
    "charge": "charge",
    "payment_intent": "payment_intent",
    "payment_method": "payment_method",
    "customer": "customer",
    "setup_intent": "setup_intent",
}


def expanded(store: Store, obj: dict[str, Any], expand: list[str] | None) -> dict[str, Any]:
    """The public object with top-level ids named in ``expand`` replaced."""
    out = public(obj)
    for field in expand or []:
        kind = EXPANDABLE.get(field)
        if kind is None or field not in out:
            raise errors.invalid(
                f"This property cannot be expanded ({field}).", param="expand")
        ref = out[field]
        if isinstance(ref, str):
            target = store.get(kind, ref)
            if target is not None:
                out[field] = public(target)
    return out
