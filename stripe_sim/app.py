"""The simulator's WSGI application: routing, auth, idempotency, CORS.

Request pipeline for ``/v1/...``: decode params -> log the request -> injected
fault? -> authenticate -> (POST) idempotency lookup -> handler -> save the
state -> answer. Handlers and state changes run under ``Store.lock``, so the
simulator behaves as if requests were processed one at a time.
"""
from __future__ import annotations

import json
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import balances, connect, customers, errors, events, idempotency, refunds
from . import params as p
from . import payment_intents as pis
from . import payment_methods as pms
from . import setup_intents as seti
from .faults import Faults
from .listing import expanded
from .state import DEFAULT_API_VERSION, AccountView, Ctx, Store, new_id
from .webhooks import Dispatcher

STATIC_DIR = os.path.join(os.path.dirname(__file__), "static")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key, "
                                    "Stripe-Version, Stripe-Account",
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Expose-Headers": "Request-Id, Idempotent-Replayed, Idempotency-Key",
    "Access-Control-Max-Age": "600",
}
Handler = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Route:
    handler: Handler
    publishable: bool = False  # Stripe.js may call it with a pk_test_ key + client_secret


ROUTES: dict[str, Route] = {
    "pi_list": Route(pis.list_), "pi_create": Route(pis.create),
    "pi_get": Route(pis.retrieve, publishable=True), "pi_update": Route(pis.update),
    "pi_confirm": Route(pis.confirm, publishable=True), "pi_cancel": Route(pis.cancel),
    "pi_authenticate": Route(pis.authenticate, publishable=True),
    "seti_list": Route(seti.list_), "seti_create": Route(seti.create),
    "seti_get": Route(seti.retrieve, publishable=True), "seti_update": Route(seti.update),
    "seti_confirm": Route(seti.confirm, publishable=True), "seti_cancel": Route(seti.cancel),
    "seti_authenticate": Route(seti.authenticate, publishable=True),
    "cus_list": Route(customers.list_), "cus_create": Route(customers.create),
    "cus_get": Route(customers.retrieve), "cus_update": Route(customers.update),
    "cus_delete": Route(customers.delete), "cus_pms": Route(customers.list_payment_methods),
    "cus_pm_get": Route(customers.retrieve_payment_method),
    "re_list": Route(refunds.list_), "re_create": Route(refunds.create),
    "re_get": Route(refunds.retrieve), "re_update": Route(refunds.update),
    "ev_list": Route(events.list_events), "ev_get": Route(events.retrieve_event),
    "ch_list": Route(events.list_charges), "ch_get": Route(events.retrieve_charge),
    "pm_get": Route(pms.retrieve), "pm_list": Route(pms.list_),
    "pm_attach": Route(pms.attach), "pm_detach": Route(pms.detach),
    "acct_create": Route(connect.create), "acct_list": Route(connect.list_),
    "acct_get": Route(connect.retrieve), "acct_update": Route(connect.update),
    "acct_delete": Route(connect.delete), "acct_self": Route(connect.retrieve_current),
    "link_create": Route(connect.create_link),
    "fee_list": Route(balances.list_fees), "fee_get": Route(balances.retrieve_fee),
    "balance_get": Route(balances.balance),
    "po_list": Route(balances.list_payouts), "po_get": Route(balances.retrieve_payout),
    "dp_get": Route(balances.retrieve_dispute), "dp_update": Route(balances.update_dispute),
}


def _resource(path: str, name: str, *actions: str, delete: bool = False) -> list[Rule]:
    """A collection's rules: ``<name>_list``/``_create`` on ``path``, ``_get``/``_update``
    (and ``_delete``) on ``path/<id_>``, and one POST ``path/<id_>/<action>`` per action
    (endpoint ``<name>_<action without leading _>``)."""
    rules = [Rule(path, methods=["GET"], endpoint=f"{name}_list"),
             Rule(path, methods=["POST"], endpoint=f"{name}_create"),
             Rule(f"{path}/<id_>", methods=["GET"], endpoint=f"{name}_get"),
             Rule(f"{path}/<id_>", methods=["POST"], endpoint=f"{name}_update")]
    if delete:
        rules.append(Rule(f"{path}/<id_>", methods=["DELETE"], endpoint=f"{name}_delete"))
    return rules + [Rule(f"{path}/<id_>/{action}", methods=["POST"],
                         endpoint=f"{name}_{action.lstrip('_')}") for action in actions]


URLS = Map([
    *_resource("/v1/payment_intents", "pi", "confirm", "cancel", "_authenticate"),
    *_resource("/v1/setup_intents", "seti", "confirm", "cancel", "_authenticate"),
    *_resource("/v1/customers", "cus", delete=True),
    Rule("/v1/customers/<id_>/payment_methods", methods=["GET"], endpoint="cus_pms"),
    Rule("/v1/customers/<id_>/payment_methods/<pm_id>", methods=["GET"],
         endpoint="cus_pm_get"),
    *_resource("/v1/refunds", "re"),
    Rule("/v1/events", methods=["GET"], endpoint="ev_list"),
    Rule("/v1/events/<id_>", methods=["GET"], endpoint="ev_get"),
    Rule("/v1/charges", methods=["GET"], endpoint="ch_list"),
    Rule("/v1/charges/<id_>", methods=["GET"], endpoint="ch_get"),
    Rule("/v1/payment_methods", methods=["GET"], endpoint="pm_list"),
    Rule("/v1/payment_methods/<id_>", methods=["GET"], endpoint="pm_get"),
    Rule("/v1/payment_methods/<id_>/attach", methods=["POST"], endpoint="pm_attach"),
    Rule("/v1/payment_methods/<id_>/detach", methods=["POST"], endpoint="pm_detach"),
    *_resource("/v1/accounts", "acct", delete=True),
    Rule("/v1/account", methods=["GET"], endpoint="acct_self"),
    Rule("/v1/account_links", methods=["POST"], endpoint="link_create"),
    Rule("/v1/application_fees", methods=["GET"], endpoint="fee_list"),
    Rule("/v1/application_fees/<id_>", methods=["GET"], endpoint="fee_get"),
    Rule("/v1/balance", methods=["GET"], endpoint="balance_get"),
    Rule("/v1/payouts", methods=["GET"], endpoint="po_list"),
    Rule("/v1/payouts/<id_>", methods=["GET"], endpoint="po_get"),
    Rule("/v1/disputes/<id_>", methods=["GET"], endpoint="dp_get"),
    Rule("/v1/disputes/<id_>", methods=["POST"], endpoint="dp_update"),
], strict_slashes=False)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, indent=2), status=status, headers=headers,
                    content_type="application/json")


def _note_result(entry: dict[str, Any], body: dict[str, Any]) -> None:
    """Log which object a request answered with (for an error: the intent it names)."""
    error = body.get("error") or {}
    obj = error.get("payment_intent") or error.get("setup_intent") or body
    if error and obj is body:
        obj = {}
    entry.update(object_id=obj.get("id"), object_status=obj.get("status"),
                 error_code=error.get("code"))


class Simulator:
    """The WSGI app plus everything tests poke at (store, dispatcher, faults, log)."""

    def __init__(self, state_path: str | None = None,
                 webhooks: Iterable[tuple[str, str]] = (),
                 api_keys: Iterable[str] | None = None, *,
                 refund_delay: float | None = 0.2, webhook_retry_base: float = 1.0,
                 webhook_max_attempts: int = 8, webhook_timeout: float = 10.0,
                 connect_webhooks: Iterable[tuple[str, str]] = (),
                 seed_accounts: Iterable[str] = ()) -> None:
        self.store = Store(path=state_path)
        self.api_keys = set(api_keys) if api_keys is not None else None
        self.dispatcher = Dispatcher(retry_base=webhook_retry_base,
                                     max_attempts=webhook_max_attempts,
                                     timeout=webhook_timeout)
        self.store.event_listeners.append(self.dispatcher.on_event)
        for url, secret in webhooks:
            self.dispatcher.add(url, secret, configured=True)
        for url, secret in connect_webhooks:
            self.dispatcher.add(url, secret, configured=True, connect=True)
        self.faults = Faults()
        self.refund_delay = refund_delay
        self.request_log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        with self.store.lock:
            for account_id in seed_accounts:
                connect.seed_account(self.store, account_id)
            self.store.save()
            for refund_id in refunds.pending_ids(self.store):
                self._schedule_settle(refund_id)

    # -- refunds settling in the background ---------------------------------
    def _schedule_settle(self, refund_id: str) -> None:
        if self.refund_delay is None:
            return
        timer = threading.Timer(self.refund_delay, self.settle_refund, [refund_id])
        timer.daemon = True
        self._timers = [t for t in self._timers if t.is_alive()] + [timer]
        timer.start()

    def settle_refund(self, refund_id: str) -> dict[str, Any] | None:
        """Settle one pending refund now (idempotent: a settled one is left alone)."""
        with self.store.lock:
            refund = refunds.settle(self.store, self.ctx_of("refund", refund_id), refund_id)
            if refund is not None:
                self.store.save()
            return refund

    def settle_all_refunds(self) -> list[dict[str, Any]]:
        with self.store.lock:
            done = [r for r in (refunds.settle(self.store, self.ctx_of("refund", i), i)
                                for i in refunds.pending_ids(self.store)) if r]
            self.store.save()
            return done

    def ctx_of(self, kind: str, id_: str) -> Ctx:
        """A context acting as the account an object lives on (its events name it)."""
        obj = self.store.get(kind, id_)
        return Ctx(account=obj.get("_account") if obj else None)

    def reset(self) -> None:
        """Forget all objects, events, keys, logs, faults and added endpoints."""
        for timer in self._timers:
            timer.cancel()
        self._timers = []
        self.faults.clear()
        with self.store.lock:
            self.store.reset()
        self.dispatcher.reset()
        with self._log_lock:
            self.request_log.clear()

    # -- WSGI ----------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        path = request.path
        if path.startswith("/_sim/"):
            from .control import handle  # local: control imports this module's types
            response = handle(self, request)
        elif path.rstrip("/") in ("/js/v3", "/v3.js", "/js/v3/v3.js"):
            response = self._script()
        elif path.startswith("/connect/"):
            response = self._connect_page(request)
        elif path.startswith("/v1/"):
            response = self._api(request)
            response.headers.update(CORS_HEADERS)
        else:
            response = _json({"error": {"type": "invalid_request_error", "message":
                                        f"Unrecognized request URL ({request.method}: "
                                        f"{path})."}}, 404)
        return response(environ, start_response)

    def _script(self) -> Response:
        with open(os.path.join(STATIC_DIR, "v3.js"), "rb") as fh:
            body = fh.read()
        return Response(body, content_type="application/javascript; charset=utf-8",
                        headers={**CORS_HEADERS, "Cache-Control": "no-cache"})

    def _connect_page(self, request: Request) -> Response:
        """The hosted pages Stripe shows vendors: onboarding and the dashboard stand-ins."""
        parts = request.path.strip("/").split("/")
        with self.store.lock:
            if len(parts) == 3 and parts[1] == "onboarding" and request.method == "GET":
                status, body, location = connect.onboarding_page(self.store, parts[2])
            elif len(parts) == 3 and parts[1] == "onboarding" and request.method == "POST":
                try:
                    location = connect.submit_onboarding(self.store, parts[2],
                                                         request.form.get("outcome", ""))
                except (errors.StripeError, ValueError) as exc:
                    return Response(str(exc), status=400)
                self.store.save()
                status, body = 303, ""
            elif len(parts) == 3 and parts[1] == "dashboard":
                (status, body), location = connect.dashboard_page(self.store, parts[2]), None
            else:
                status, body, location = 404, "Not found", None
        if location:
            return Response(status=status if status in (302, 303) else 302,
                            headers={"Location": location})
        return Response(body, status=status, content_type="text/html; charset=utf-8")

    def _api(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status=204)
        params = p.decode(request.args.items(multi=True))
        if request.method == "POST":
            params.update(p.decode(request.form.items(multi=True)))
        idem_key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        entry = {"id": new_id("req", 14), "method": request.method, "path": request.path,
                 "params": params, "idempotency_key": idem_key, "time": time.time(),
                 "stripe_account": request.headers.get("Stripe-Account") or None,
                 "status": None, "replayed": False, "fault": None,
                 "object_id": None, "object_status": None, "error_code": None}
        with self._log_lock:
            self.request_log.append(entry)
            del self.request_log[:-10000]
        try:
            response = self._dispatch(request, params, idem_key, entry)
        except errors.StripeError as exc:
            response = _json(exc.body(), exc.status, exc.headers)
        except Exception as exc:  # noqa: BLE001 - a simulator bug must still answer JSON
            traceback.print_exc()
            response = _json(errors.api_error(f"Simulator bug: {exc!r}").body(), 500)
        entry["status"] = response.status_code
        _note_result(entry, json.loads(response.get_data()))
        response.headers["Request-Id"] = entry["id"]
        if idem_key:
            response.headers["Idempotency-Key"] = idem_key
        return response

    def _authenticate(self, request: Request, params: dict[str, Any]) -> tuple[str, bool]:
        """The caller's key and whether it is publishable; raises 401 otherwise."""
        key = ""
        auth = request.authorization
        if auth is not None:
            # Bearer (the SDK) or Basic with the key as user name (curl -u).
            key = (auth.token or "") if auth.type == "bearer" else (auth.username or "")
        publishable_param = params.pop("key", None)
        if not key and isinstance(publishable_param, str):
            key = publishable_param
        if not key:
            raise errors.auth_error(
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').")
        ok = key.startswith(("sk_test_", "pk_test_", "rk_test_")) and len(key) > 8
        if not ok or (self.api_keys is not None and key not in self.api_keys):
            raise errors.auth_error(f"Invalid API Key provided: {key[:8]}{'*' * 8}{key[-4:]}")
        return key, key.startswith("pk_")

    def _dispatch(self, request: Request, params: dict[str, Any], idem_key: str | None,
                  entry: dict[str, Any]) -> Response:
        fault = self.faults.take(request.method, request.path)
        if fault is not None:
            entry["fault"] = fault.kind
            if fault.kind == "500":
                raise errors.api_error()
            if fault.kind == "429":
                raise errors.rate_limit_error()
            time.sleep(fault.delay)  # outside the lock: other requests keep flowing
            if fault.then == "fail":
                raise errors.api_error("The request timed out (simulated).")
        api_key, publishable = self._authenticate(request, params)
        try:
            endpoint, args = URLS.bind("", "").match(request.path, method=request.method)
        except MethodNotAllowed:
            raise errors.invalid(f"Unrecognized request URL ({request.method}: "
                                 f"{request.path}).", status=404) from None
        except (NotFound, HTTPException):
            raise errors.invalid(f"Unrecognized request URL ({request.method}: "
                                 f"{request.path}).", status=404) from None
        route = ROUTES[endpoint]
        if publishable and not route.publishable:
            raise errors.auth_error("This API call cannot be made with a publishable API key. "
                                    "Please use a secret API key.")
        account = entry["stripe_account"]
        ctx = Ctx(api_key=api_key, publishable=publishable, request_id=entry["id"],
                  idempotency_key=idem_key,
                  api_version=request.headers.get("Stripe-Version") or DEFAULT_API_VERSION,
                  account=account, host_url=request.host_url)
        # Idempotency keys are scoped per API key and per account, as on Stripe.
        scope = f"{api_key}\n{account}" if account else api_key
        with self.store.lock:
            if account and not connect.usable(self.store, account):
                raise connect.account_invalid(api_key, account)
            view = AccountView(self.store, account)
            if idem_key:
                saved = idempotency.lookup(self.store, scope, idem_key, request.method,
                                           request.path, params)
                if saved is not None:
                    entry["replayed"] = True
                    return _json(saved["body"], saved["status"],
                                 {"Idempotent-Replayed": "true",
                                  "Original-Request": saved["request_id"]})
            try:
                obj = route.handler(view, ctx, params=params, **args)
                body = obj if obj.get("object") == "list" else expanded(
                    view, obj, p.as_list(params, "expand"))
                status = 200
            except errors.StripeError as exc:
                if not (idem_key and exc.replayable):
                    if request.method == "POST":
                        self.store.save()  # a decline still changed the intent
                    raise
                body, status = exc.body(), exc.status
            if idem_key:
                idempotency.save(self.store, scope, idem_key, request.method, request.path,
                                 params, status, body, entry["id"])
            if request.method in ("POST", "DELETE"):
                self.store.save()
            if endpoint == "re_create" and status == 200:
                self._schedule_settle(body["id"])
        return _json(body, status)


def create_app(state_path: str | None = None, webhooks: Iterable[tuple[str, str]] = (),
               api_keys: Iterable[str] | None = None, **options: Any) -> Simulator:
    """Build the simulator WSGI app.

    ``state_path`` None keeps state in memory; a path persists it as JSON and
    reloads it on start. ``webhooks`` are ``(url, whsec_secret)`` pairs that
    survive ``/_sim/reset``. ``api_keys`` None accepts any ``sk_test_``/
    ``pk_test_`` key; a collection accepts only those keys. ``options``:
    ``refund_delay`` (seconds before pending refunds settle; None = only via
    the control API), ``webhook_retry_base``, ``webhook_max_attempts``,
    ``webhook_timeout``.
    """
    return Simulator(state_path, webhooks, api_keys, **options)
