"""The test-control API under ``/_sim/`` (JSON in, JSON out, no auth).

It exists only in the simulator and is how tests and the embedded run drive
what real Stripe does on its own: failures, settling refunds and processing
payments, webhook endpoints, and inspecting what the app sent.

Routes:
  GET  /_sim/health                      -> {"ok": true}
  POST /_sim/reset                       forget everything except configured endpoints
  GET  /_sim/requests?path_prefix=&method=   requests received, oldest first: id, method,
                                         path, params (as decoded, e.g. off_session,
                                         metadata), idempotency_key, stripe_account, status,
                                         replayed, fault, and the answer's object_id,
                                         object_status and error_code (for an error naming
                                         an intent: that intent); DELETE clears the log
  POST /_sim/faults {kind, count, path_prefix, method, delay, then, rate?, seed?}; GET lists
                                         them and the faults injected per kind; DELETE clears
  GET  /_sim/webhooks; POST {url, secret?, enabled_events?}; DELETE /_sim/webhooks/<id>
  GET  /_sim/webhooks/attempts?event_id=&endpoint_id=
  POST /_sim/webhooks/wait {timeout}     wait until every queued delivery is done
  POST /_sim/refunds/settle {refund_id?} settle pending refunds now
  POST /_sim/payment_intents/<id>/settle {outcome: "succeeded"|"failed"}
  POST /_sim/payment_intents/<id>/authenticate {result: "complete"|"fail"}
  POST /_sim/setup_intents/<id>/authenticate {result: "complete"|"fail"}
                                         the cardholder answers 3D Secure (requires_action)
  GET|POST /_sim/config {refund_delay, webhook_retry_base, webhook_max_attempts,
                         webhook_timeout}
  POST /_sim/webhooks {..., connect: true}  a Connect endpoint (connected accounts' events)
  POST /_sim/accounts {id, email?, currency?}  an onboarded connected account, once
  POST /_sim/accounts/<id>/onboarding {outcome: "complete"|"requirements_due"}
  POST /_sim/accounts/<id>/deauthorize    the vendor disconnects the platform
  POST /_sim/accounts/<id>/payouts        pay out the available balance (one per currency)
  POST /_sim/payouts/<id>/paid            the payout arrived
  POST /_sim/charges/<id>/dispute {reason?, amount?}   the bank opens a dispute
  POST /_sim/disputes/<id>/close {status: "won"|"lost"}
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from . import balances, connect, errors, payment_intents, setup_intents
from .listing import public
from .state import AccountView

if TYPE_CHECKING:
    from .app import Simulator

AUTHENTICATE = {"payment_intents": ("payment_intent", payment_intents.authenticate),
                "setup_intents": ("setup_intent", setup_intents.authenticate)}


def _ok(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, indent=2, default=str), status=status,
                    content_type="application/json")


def _body(request: Request) -> dict[str, Any]:
    if not request.data:
        return {}
    data = json.loads(request.data)
    if not isinstance(data, dict):
        raise TypeError("expected a JSON object")
    return data


def handle(sim: Simulator, request: Request) -> Response:
    try:
        return _route(sim, request)
    except (ValueError, TypeError, KeyError) as exc:
        return _ok({"error": {"message": str(exc)}}, 400)
    except errors.StripeError as exc:
        return _ok(exc.body(), exc.status)


def _route(sim: Simulator, request: Request) -> Response:
    path = request.path.rstrip("/").removeprefix("/_sim")
    method = request.method
    parts = path.strip("/").split("/")
    if path == "/health":
        return _ok({"ok": True})
    if path == "/reset" and method == "POST":
        sim.reset()
        return _ok({"ok": True})
    if path == "/requests":
        return _requests(sim, request)
    if path == "/faults":
        if method == "POST":
            b = _body(request)
            fault = sim.faults.add(b["kind"], int(b.get("count", 1)), b.get("path_prefix"),
                                   b.get("method"), b.get("delay"), b.get("then", "answer"),
                                   b.get("rate"), b.get("seed"))
            return _ok({"kind": fault.kind, "remaining": fault.remaining, "rate": fault.rate})
        if method == "DELETE":
            sim.faults.clear()
        return _ok({"data": sim.faults.list(), "injected": dict(sim.faults.injected)})
    if parts[0] == "webhooks":
        return _webhooks(sim, request, parts[1:])
    if path == "/refunds/settle" and method == "POST":
        refund_id = _body(request).get("refund_id")
        if refund_id:
            refund = sim.settle_refund(refund_id)
            done = [refund] if refund else []
        else:
            done = sim.settle_all_refunds()
        return _ok({"data": [public(r) for r in done]})
    if len(parts) == 3 and parts[0] == "payment_intents" and parts[2] == "settle":
        outcome = _body(request).get("outcome", "succeeded")
        with sim.store.lock:
            pi = payment_intents.settle_processing(
                sim.store, sim.ctx_of("payment_intent", parts[1]), parts[1],
                outcome == "succeeded")
            sim.store.save()
        return _ok(public(pi))
    if len(parts) == 3 and parts[0] in AUTHENTICATE and parts[2] == "authenticate":
        return _authenticate(sim, parts[0], parts[1], _body(request))
    if parts[0] in ("accounts", "payouts", "charges", "disputes") and method == "POST":
        with sim.store.lock:
            result = _connect(sim, parts, _body(request))
            sim.store.save()
        return _ok(result)
    if path == "/config":
        if method == "POST":
            b = _body(request)
            if "refund_delay" in b:
                sim.refund_delay = None if b["refund_delay"] is None else float(
                    b["refund_delay"])
            d = sim.dispatcher
            d.retry_base = float(b.get("webhook_retry_base", d.retry_base))
            d.max_attempts = int(b.get("webhook_max_attempts", d.max_attempts))
            d.timeout = float(b.get("webhook_timeout", d.timeout))
        return _ok({"refund_delay": sim.refund_delay,
                    "webhook_retry_base": sim.dispatcher.retry_base,
                    "webhook_max_attempts": sim.dispatcher.max_attempts,
                    "webhook_timeout": sim.dispatcher.timeout})
    return _ok({"error": {"message": f"unknown control route {method} {request.path}"}}, 404)


def _authenticate(sim: Simulator, collection: str, id_: str, b: dict[str, Any]) -> Response:
    """Complete or fail an intent's authentication as the account that owns it."""
    kind, handler = AUTHENTICATE[collection]
    with sim.store.lock:
        ctx = sim.ctx_of(kind, id_)
        obj = handler(AccountView(sim.store, ctx.account), ctx, id_,
                      {"result": b.get("result", "complete")})
        sim.store.save()
    return _ok(public(obj))


def _connect(sim: Simulator, parts: list[str], b: dict[str, Any]) -> Any:
    store = sim.store
    if parts == ["accounts"]:
        return public(connect.seed_account(store, b["id"], b.get("email"),
                                           b.get("currency", "usd")))
    if len(parts) == 3 and parts[0] == "accounts":
        if parts[2] == "onboarding":
            return public(connect.complete_onboarding(store, parts[1],
                                                      b.get("outcome", "complete")))
        if parts[2] == "deauthorize":
            return public(connect.deauthorize(store, parts[1]))
        if parts[2] == "payouts":
            return {"data": [public(po) for po in balances.make_payouts(store, parts[1])]}
    if len(parts) == 3 and parts == ["payouts", parts[1], "paid"]:
        return public(balances.mark_payout_paid(store, parts[1]))
    if len(parts) == 3 and parts == ["charges", parts[1], "dispute"]:
        return public(balances.open_dispute(store, parts[1], b.get("reason", "fraudulent"),
                                            b.get("amount")))
    if len(parts) == 3 and parts == ["disputes", parts[1], "close"]:
        return public(balances.close_dispute(store, parts[1], b["status"]))
    raise KeyError(f"unknown control route /{'/'.join(parts)}")


def _requests(sim: Simulator, request: Request) -> Response:
    if request.method == "DELETE":
        with sim._log_lock:
            sim.request_log.clear()
        return _ok({"data": []})
    prefix = request.args.get("path_prefix", "")
    method = request.args.get("method")
    with sim._log_lock:
        data = [dict(e) for e in sim.request_log if e["path"].startswith(prefix)
                and (not method or e["method"] == method.upper())]
    return _ok({"data": data})


def _webhooks(sim: Simulator, request: Request, rest: list[str]) -> Response:
    d = sim.dispatcher
    if not rest:
        if request.method == "POST":
            b = _body(request)
            ep = d.add(b["url"], b.get("secret"), b.get("enabled_events"),
                       connect=bool(b.get("connect")))
            return _ok(ep.public())
        return _ok({"data": [ep.public() for ep in list(d.endpoints.values())]})
    if rest == ["attempts"]:
        event_id = request.args.get("event_id")
        endpoint_id = request.args.get("endpoint_id")
        with d._lock:
            data = [dict(a) for a in d.attempts
                    if (not event_id or a["event_id"] == event_id)
                    and (not endpoint_id or a["endpoint_id"] == endpoint_id)]
        return _ok({"data": data})
    if rest == ["wait"] and request.method == "POST":
        timeout = float(_body(request).get("timeout", 5.0))
        return _ok({"idle": d.wait_idle(timeout)})
    if len(rest) == 1 and request.method == "DELETE":
        return _ok({"deleted": d.remove(rest[0]), "id": rest[0]})
    return _ok({"error": {"message": "unknown webhooks route"}}, 404)
