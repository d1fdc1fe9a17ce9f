"""The simulator's state: Stripe objects, events and idempotency records.

Invariants:
- Every read or write of the state happens while holding ``Store.lock`` (an
  RLock); the API handlers run entirely under it, so requests are serialised and
  a double click can never create two objects from one idempotency key.
- Objects of a kind keep insertion order (dicts preserve it, JSON too), which
  gives lists their newest-first order without relying on clock resolution.
- With a ``path``, the state is written atomically (temp file + rename) after
  every mutation and reloaded on start, so a restart loses nothing.
"""
from __future__ import annotations

import json
import os
import secrets
import string
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import errors

KINDS = ("payment_intent", "charge", "refund", "payment_method", "event", "account",
         "account_link", "application_fee", "payout", "dispute", "customer", "setup_intent")
_ALPHABET = string.ascii_letters + string.digits
DEFAULT_API_VERSION = "2026-10-28.endive"


def new_id(prefix: str, length: int = 24) -> str:
    """A Stripe-looking id such as ``pi_3Qx...`` (random, URL-safe)."""
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(length))}"


@dataclass
class Ctx:
    """Who made the request that causes a change (copied into events)."""

    api_key: str = ""
    publishable: bool = False
    request_id: str | None = None
    idempotency_key: str | None = None
    api_version: str = DEFAULT_API_VERSION
    # The connected account named by the Stripe-Account header (None: the platform itself).
    account: str | None = None
    host_url: str = ""  # where the simulator is served, for the URLs it hands out


@dataclass
class Store:
    """All mutable Stripe state plus the hooks that react to new events."""

    path: str | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    objects: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {k: {} for k in KINDS})
    idempotency: dict[str, dict[str, Any]] = field(default_factory=dict)
    event_listeners: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.path and os.path.exists(self.path):
            self.load()

    @property
    def root(self) -> Store:
        """The unscoped store (an :class:`AccountView` answers with the store it views)."""
        return self

    # -- objects -----------------------------------------------------------
    def get(self, kind: str, id_: str) -> dict[str, Any] | None:
        return self.objects[kind].get(id_)

    def require(self, kind: str, id_: str) -> dict[str, Any]:
        """The object, or Stripe's 404 `resource_missing` for it."""
        obj = self.get(kind, id_)
        if obj is None:
            raise errors.resource_missing(kind, id_)
        return obj

    def put(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[kind][obj["id"]] = obj
        return obj

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Objects of a kind, newest first (Stripe's list order)."""
        return list(reversed(self.objects[kind].values()))

    # -- persistence -------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        return {"version": 1, "objects": self.objects, "idempotency": self.idempotency}

    def save(self) -> None:
        if not self.path:
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".stripe_sim.", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.snapshot(), fh)
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def load(self) -> None:
        assert self.path
        with open(self.path, encoding="utf-8") as fh:
            data = json.load(fh)
        objects = data.get("objects", {})
        self.objects = {k: dict(objects.get(k, {})) for k in KINDS}  # older files lack kinds
        self.idempotency = dict(data.get("idempotency", {}))

    def reset(self) -> None:
        self.objects = {k: {} for k in KINDS}
        self.idempotency = {}
        self.save()

    # -- events ------------------------------------------------------------
    def emit(self, ctx: Ctx, type_: str, obj: dict[str, Any],
             previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """Record an Event holding a snapshot of ``obj`` and notify listeners.

        The snapshot is a deep copy so later changes to the object do not
        rewrite history, as with Stripe's events.
        """
        data: dict[str, Any] = {"object": json.loads(json.dumps(obj))}
        if previous:
            data["previous_attributes"] = previous
        event = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": ctx.api_version,
            "created": int(time.time()),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
            "type": type_,
        }
        if ctx.account:
            # Events of a connected account name it, and only that account can list them.
            event["account"] = ctx.account
            event["_account"] = ctx.account
        self.put("event", event)
        for listener in self.event_listeners:
            listener(event)
        return event


class AccountView:
    """The store as one account sees it: what the API handlers get for a request.

    Objects carry the private ``_account`` they were created under (None for the
    platform). ``get`` and ``all`` see only the requesting account's objects and
    ``put`` stamps new ones, so, as on Stripe, an object of one connected account
    is "No such ..." with another account's ``Stripe-Account`` header (or none).
    """

    def __init__(self, store: Store, account: str | None) -> None:
        self.root = store
        self.account = account

    def get(self, kind: str, id_: str) -> dict[str, Any] | None:
        obj = self.root.get(kind, id_)
        return obj if obj is not None and obj.get("_account") == self.account else None

    def require(self, kind: str, id_: str) -> dict[str, Any]:
        """The object, or Stripe's 404 `resource_missing` for it."""
        obj = self.get(kind, id_)
        if obj is None:
            raise errors.resource_missing(kind, id_)
        return obj

    def put(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj.setdefault("_account", self.account)
        return self.root.put(kind, obj)

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.root.all(kind) if o.get("_account") == self.account]

    def emit(self, ctx: Ctx, type_: str, obj: dict[str, Any],
             previous: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.root.emit(ctx, type_, obj, previous)

    def __getattr__(self, name: str) -> Any:  # objects, lock, idempotency, save, platform
        return getattr(self.root, name)


def account_of(obj: dict[str, Any]) -> str | None:
    """The connected account an object lives on (None: the platform)."""
    return obj.get("_account")
