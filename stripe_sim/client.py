"""A small client for the simulator's ``/_sim/`` control API (stdlib only).

Tests and the app's embedded mode use it; every method maps to one route
documented in :mod:`stripe_sim.control`.
"""
from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any


class SimControl:
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None,
              query: dict[str, Any] | None = None) -> Any:
        url = f"{self.base_url}/_sim{path}"
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v})
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            return json.loads(resp.read() or b"null")

    def health(self) -> bool:
        return bool(self._call("GET", "/health")["ok"])

    def reset(self) -> None:
        self._call("POST", "/reset")

    def fail_next(self, kind: str | int, count: int = 1, path_prefix: str | None = None,
                  method: str | None = None, delay: float | None = None,
                  then: str = "answer") -> dict[str, Any]:
        """Make the next ``count`` matching calls fail: kind 500, 429 or "timeout"."""
        return self._call("POST", "/faults", {
            "kind": str(kind), "count": count, "path_prefix": path_prefix, "method": method,
            "delay": delay, "then": then})

    def fail_rate(self, kind: str | int, rate: float, path_prefix: str | None = None,
                  method: str | None = None, delay: float | None = None, then: str = "answer",
                  seed: int | None = None) -> dict[str, Any]:
        """Fail each matching call with probability ``rate`` until the faults are cleared."""
        return self._call("POST", "/faults", {
            "kind": str(kind), "rate": rate, "path_prefix": path_prefix, "method": method,
            "delay": delay, "then": then, "seed": seed})

    def faults_injected(self) -> dict[str, int]:
        """Faults served so far, per kind ("500", "429", "timeout")."""
        return dict(self._call("GET", "/faults")["injected"])

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def requests(self, path_prefix: str = "", method: str | None = None
                 ) -> list[dict[str, Any]]:
        """Requests received, oldest first: method, path, params, idempotency_key, ..."""
        return self._call("GET", "/requests", query={"path_prefix": path_prefix,
                                                     "method": method})["data"]

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def add_webhook(self, url: str, secret: str | None = None,
                    enabled_events: list[str] | None = None, connect: bool = False
                    ) -> dict[str, Any]:
        """Register an endpoint (``connect``: for connected accounts' events); the answer
        holds its ``id`` and ``secret``."""
        return self._call("POST", "/webhooks", {"url": url, "secret": secret,
                                                "enabled_events": enabled_events,
                                                "connect": connect})

    def remove_webhook(self, endpoint_id: str) -> bool:
        return bool(self._call("DELETE", f"/webhooks/{endpoint_id}")["deleted"])

    def webhooks(self) -> list[dict[str, Any]]:
        return self._call("GET", "/webhooks")["data"]

    def webhook_attempts(self, event_id: str | None = None,
                         endpoint_id: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/webhooks/attempts",
                          query={"event_id": event_id, "endpoint_id": endpoint_id})["data"]

    def wait_for_webhooks(self, timeout: float = 5.0) -> bool:
        """True once every queued delivery succeeded or was given up on."""
        return bool(self._call("POST", "/webhooks/wait", {"timeout": timeout})["idle"])

    def settle_refunds(self, refund_id: str | None = None) -> list[dict[str, Any]]:
        """Settle pending refunds now (one, or all); returns the refunds that changed."""
        return self._call("POST", "/refunds/settle", {"refund_id": refund_id})["data"]

    def settle_payment_intent(self, pi_id: str, outcome: str = "succeeded") -> dict[str, Any]:
        return self._call("POST", f"/payment_intents/{pi_id}/settle", {"outcome": outcome})

    def authenticate_payment_intent(self, pi_id: str, result: str = "complete"
                                    ) -> dict[str, Any]:
        """Answer a ``requires_action`` PaymentIntent's 3D Secure: "complete" or "fail"."""
        return self._call("POST", f"/payment_intents/{pi_id}/authenticate", {"result": result})

    def authenticate_setup_intent(self, seti_id: str, result: str = "complete"
                                  ) -> dict[str, Any]:
        """Answer a ``requires_action`` SetupIntent's 3D Secure: "complete" or "fail"."""
        return self._call("POST", f"/setup_intents/{seti_id}/authenticate", {"result": result})

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change refund_delay, webhook_retry_base, webhook_max_attempts, webhook_timeout."""
        return self._call("POST", "/config", settings)

    # -- Connect ---------------------------------------------------------------------------
    def seed_account(self, account_id: str, email: str | None = None,
                     currency: str = "usd") -> dict[str, Any]:
        """An onboarded connected account with this id (created once)."""
        return self._call("POST", "/accounts", {"id": account_id, "email": email,
                                                "currency": currency})

    def onboard(self, account_id: str, outcome: str = "complete") -> dict[str, Any]:
        """Finish onboarding: ``complete`` or ``requirements_due``."""
        return self._call("POST", f"/accounts/{account_id}/onboarding", {"outcome": outcome})

    def deauthorize(self, account_id: str) -> dict[str, Any]:
        """The vendor disconnects the platform; returns the event."""
        return self._call("POST", f"/accounts/{account_id}/deauthorize", {})

    def pay_out(self, account_id: str) -> list[dict[str, Any]]:
        return self._call("POST", f"/accounts/{account_id}/payouts", {})["data"]

    def payout_paid(self, payout_id: str) -> dict[str, Any]:
        return self._call("POST", f"/payouts/{payout_id}/paid", {})

    def open_dispute(self, charge_id: str, reason: str = "fraudulent",
                     amount: int | None = None) -> dict[str, Any]:
        return self._call("POST", f"/charges/{charge_id}/dispute",
                          {"reason": reason, "amount": amount})

    def close_dispute(self, dispute_id: str, status: str) -> dict[str, Any]:
        return self._call("POST", f"/disputes/{dispute_id}/close", {"status": status})
