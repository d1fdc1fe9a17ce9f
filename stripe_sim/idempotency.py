"""Idempotency-Key semantics for POST requests.

Invariants (mirroring Stripe):
- Records are scoped per API key: two accounts may use the same key string.
- A key replays the saved status and body only for the same endpoint and the
  same parameters; otherwise the request fails with 400 ``idempotency_error``.
- Only outcomes of requests that started executing are saved (successes and
  replayable errors such as card declines); validation errors and injected
  faults are not, so the client may retry them with the same key.
- Records expire after 24 hours.
"""
from __future__ import annotations

import json
import time
from typing import Any

from . import errors
from .state import Store

TTL_SECONDS = 24 * 3600


def _scope(api_key: str, key: str) -> str:
    return f"{api_key}\n{key}"


def _canonical(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def lookup(store: Store, api_key: str, key: str, method: str, path: str,
           params: dict[str, Any]) -> dict[str, Any] | None:
    """The saved response for this key, or None; raises on a mismatched reuse."""
    record = store.idempotency.get(_scope(api_key, key))
    if record is None or record["created"] < time.time() - TTL_SECONDS:
        return None
    endpoint = f"{method} {path}"
    if record["endpoint"] != endpoint:
        raise errors.idempotency_error(
            "Keys for idempotent requests can only be used for the same endpoint they were "
            f"first used for ('{record['endpoint']}' vs '{endpoint}'). Try using a key other "
            f"than '{key}' if you meant to execute a different request.")
    if record["params"] != _canonical(params):
        raise errors.idempotency_error(
            "Keys for idempotent requests can only be used with the same parameters they "
            f"were first used with. Try using a key other than '{key}' if you meant to "
            "execute a different request.")
    return record


def save(store: Store, api_key: str, key: str, method: str, path: str,
         params: dict[str, Any], status: int, body: dict[str, Any],
         request_id: str) -> None:
    now = time.time()
    if len(store.idempotency) > 5000:
        for k in [k for k, r in store.idempotency.items() if r["created"] < now - TTL_SECONDS]:
            del store.idempotency[k]
    store.idempotency[_scope(api_key, key)] = {
        "endpoint": f"{method} {path}", "params": _canonical(params), "status": status,
        "body": body, "created": now, "request_id": request_id}
