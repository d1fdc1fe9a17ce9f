"""Signed webhook delivery with retries.

Invariants:
- Each endpoint has one worker thread and a FIFO queue, so it receives events
  in the order they were created; a failing delivery is retried (exponential
  backoff from ``retry_base`` seconds, capped at ``max_delay``) up to
  ``max_attempts`` times before the worker moves on to the next event.
- The ``Stripe-Signature`` header is ``t=<unix ts>,v1=<hex HMAC-SHA256 of
  "<ts>.<body>" keyed with the whole whsec_ secret>``, computed per attempt as
  Stripe does, so ``stripe.Webhook.construct_event`` accepts it.
- Only 2xx answers count as delivered (redirects are failures, as on Stripe).
- As on Stripe, a Connect endpoint (``connect``) receives the events of connected
  accounts (those carrying ``account``) and an account endpoint only the platform's own.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import queue
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .state import new_id


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload``."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256)
    return f"t={ts},v1={mac.hexdigest()}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass
class Endpoint:
    """A webhook endpoint; ``configured`` ones (CLI/create_app) survive a reset."""

    url: str
    secret: str
    enabled_events: list[str] = field(default_factory=lambda: ["*"])
    configured: bool = False
    connect: bool = False
    id: str = field(default_factory=lambda: new_id("we"))
    stopped: threading.Event = field(default_factory=threading.Event)
    queue: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)

    def wants(self, event: dict[str, Any]) -> bool:
        if self.connect != bool(event.get("account")):
            return False
        return any(e == "*" or e == event["type"] for e in self.enabled_events)

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "object": "webhook_endpoint", "url": self.url,
                "secret": self.secret, "enabled_events": list(self.enabled_events),
                "configured": self.configured, "connect": self.connect}


class Dispatcher:
    """Delivers events to endpoints in background threads and logs attempts."""

    def __init__(self, retry_base: float = 1.0, max_attempts: int = 8,
                 timeout: float = 10.0, max_delay: float = 300.0) -> None:
        self.retry_base = retry_base
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.max_delay = max_delay
        self.endpoints: dict[str, Endpoint] = {}
        self.attempts: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy = 0  # events queued or being delivered, across endpoints

    # -- endpoints ---------------------------------------------------------
    def add(self, url: str, secret: str | None = None,
            enabled_events: list[str] | None = None, configured: bool = False,
            connect: bool = False) -> Endpoint:
        ep = Endpoint(url=url, secret=secret or f"whsec_{secrets.token_hex(24)}",
                      enabled_events=list(enabled_events or ["*"]), configured=configured,
                      connect=connect)
        with self._lock:
            self.endpoints[ep.id] = ep
        threading.Thread(target=self._run, args=(ep,), name=f"stripe-sim-webhook-{ep.id}",
                         daemon=True).start()
        return ep

    def remove(self, endpoint_id: str) -> bool:
        with self._lock:
            ep = self.endpoints.pop(endpoint_id, None)
        if ep is None:
            return False
        self._stop(ep)
        return True

    def reset(self) -> None:
        """Forget added endpoints, queued events and the attempt log."""
        with self._lock:
            doomed = [ep for ep in self.endpoints.values() if not ep.configured]
            for ep in doomed:
                del self.endpoints[ep.id]
            kept = list(self.endpoints.values())
            self.attempts.clear()
        for ep in doomed:
            self._stop(ep)
        for ep in kept:
            self._drain(ep)

    def _stop(self, ep: Endpoint) -> None:
        ep.stopped.set()
        self._drain(ep)
        ep.queue.put({})  # wake the worker so it can exit

    def _drain(self, ep: Endpoint) -> None:
        while True:
            try:
                item = ep.queue.get_nowait()
            except queue.Empty:
                return
            if item:
                self._done()

    # -- delivery ----------------------------------------------------------
    def on_event(self, event: dict[str, Any]) -> None:
        """Queue ``event`` for every endpoint that wants it (called under the store lock)."""
        payload = json.dumps({k: v for k, v in event.items() if not k.startswith("_")},
                             indent=2)
        with self._lock:
            targets = [ep for ep in self.endpoints.values() if ep.wants(event)]
            self._busy += len(targets)
        for ep in targets:
            ep.queue.put({"event_id": event["id"], "type": event["type"], "payload": payload})

    def _done(self) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until every queued event is delivered or given up on."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy <= 0, timeout)

    def _run(self, ep: Endpoint) -> None:
        while not ep.stopped.is_set():
            item = ep.queue.get()
            if not item or ep.stopped.is_set():
                if item:
                    self._done()
                continue
            try:
                self._deliver(ep, item)
            finally:
                self._done()

    def _deliver(self, ep: Endpoint, item: dict[str, Any]) -> None:
        for attempt in range(1, self.max_attempts + 1):
            if ep.stopped.is_set():
                return
            status, error = self._post(ep, item["payload"])
            ok = status is not None and 200 <= status < 300
            with self._lock:
                self.attempts.append({
                    "endpoint_id": ep.id, "url": ep.url, "event_id": item["event_id"],
                    "type": item["type"], "attempt": attempt, "status": status,
                    "error": error, "ok": ok, "at": time.time()})
                del self.attempts[:-10000]  # bound memory on long runs
            if ok:
                return
            if attempt < self.max_attempts:
                delay = min(self.retry_base * 2 ** (attempt - 1), self.max_delay)
                if ep.stopped.wait(delay):
                    return

    def _post(self, ep: Endpoint, payload: str) -> tuple[int | None, str | None]:
        req = urllib.request.Request(ep.url, data=payload.encode(), method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": sign(payload, ep.secret),
        })
        try:
            with _OPENER.open(req, timeout=self.timeout) as resp:
                resp.read()
                return resp.status, None
        except urllib.error.HTTPError as exc:
            return exc.code, f"HTTP {exc.code}"
        except (OSError, ValueError, http.client.HTTPException) as exc:
            # Timeouts, refused connections, malformed answers or URLs.
            return None, f"{type(exc).__name__}: {exc}"
