"""Connect: connected accounts, Account Links and the hosted onboarding stand-in.

Invariants (mirroring Stripe):
- Accounts belong to the platform: only a request without ``Stripe-Account`` creates,
  lists, updates or deletes them; a connected account may retrieve itself.
- A new account cannot take charges: ``charges_enabled`` and ``payouts_enabled`` are
  false and ``requirements.currently_due`` lists what onboarding collects until the
  onboarding page (or ``/_sim/accounts/<id>/onboarding``) completes it.
- An Account Link is single-use and expires after 300 seconds; opening a used or expired
  one redirects to its ``refresh_url``, as Stripe's hosted onboarding does.
- Every change of an account emits ``account.updated`` carrying ``account``; a
  deauthorized account emits ``account.application.deauthorized`` and from then on
  every request with its ``Stripe-Account`` header is refused (403 ``account_invalid``).
"""
from __future__ import annotations

import html
import time
from typing import Any

from . import errors
from . import params as p
from .listing import paginate, public
from .state import Ctx, Store, new_id

ACCOUNT_TYPES = ("standard", "express", "custom")
LINK_TYPES = ("account_onboarding", "account_update")
LINK_TTL_SECONDS = 300
APPLICATION = {"id": "ca_simulatorplatform", "object": "application", "name": "MAIS (simulator)"}
ONBOARDING_DUE = ["business_profile.url", "external_account", "individual.dob.day",
                  "individual.first_name", "individual.last_name", "tos_acceptance.date",
                  "tos_acceptance.ip"]
VERIFICATION_DUE = ["individual.verification.document"]
CREATE_PARAMS = ("type", "country", "email", "default_currency", "business_type",
                 "business_profile", "capabilities", "metadata", "controller", "settings",
                 "expand")


def account_invalid(api_key: str, account: str) -> errors.StripeError:
    return errors.StripeError(
        403, "invalid_request_error",
        f"The provided key '{api_key[:8]}{'*' * 8}{api_key[-4:]}' does not have access to "
        f"account '{account}' (or that account does not exist). Application access may have "
        "been revoked.", code="account_invalid")


def usable(store: Store, account: str) -> bool:
    """Whether a ``Stripe-Account`` header may name this account."""
    acct = store.get("account", account)
    return acct is not None and not acct.get("_deauthorized")


def _requirements(due: list[str]) -> dict[str, Any]:
    return {"alternatives": [], "current_deadline": None, "currently_due": list(due),
            "disabled_reason": "requirements.past_due" if due else None, "errors": [],
            "eventually_due": list(due), "past_due": list(due),
            "pending_verification": []}


def new_account(store: Store, params: dict[str, Any], account_id: str | None = None
                ) -> dict[str, Any]:
    type_ = p.as_str(params, "type", choices=ACCOUNT_TYPES) or "standard"
    currency = (p.as_str(params, "default_currency") or "usd").lower()
    acct = {
        "id": account_id or new_id("acct", 16),
        "object": "account",
        "business_profile": {"name": None, "url": None, "mcc": None,
                             **(params.get("business_profile") or {})},
        "business_type": p.as_str(params, "business_type"),
        "capabilities": {},
        "charges_enabled": False,
        "controller": {"type": "application", "is_controller": True},
        "country": (p.as_str(params, "country") or "US").upper(),
        "created": int(time.time()),
        "default_currency": currency,
        "details_submitted": False,
        "email": p.as_str(params, "email"),
        "metadata": p.merge_metadata({}, params.get("metadata")),
        "payouts_enabled": False,
        "requirements": _requirements(ONBOARDING_DUE),
        "settings": {"dashboard": {"display_name": None, "timezone": "Etc/UTC"},
                     "payouts": {"schedule": {"delay_days": 2, "interval": "daily"}}},
        "tos_acceptance": {"date": None},
        "type": type_,
        "_account": None,  # owned by the platform
    }
    return store.put("account", acct)


def _find(store: Store, ctx: Ctx, id_: str) -> dict[str, Any]:
    acct = store.root.get("account", id_)
    if acct is None or (ctx.account is not None and ctx.account != id_):
        raise account_invalid(ctx.api_key, id_) if ctx.account else errors.resource_missing(
            "account", id_, "account")
    return acct


def _platform_only(ctx: Ctx, what: str) -> None:
    if ctx.account:
        raise errors.permission_error(f"Only the platform can {what}; this request was made "
                                      f"on behalf of {ctx.account}.")


def create(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, CREATE_PARAMS)
    _platform_only(ctx, "create connected accounts")
    if not params.get("type") and not params.get("controller"):
        raise errors.invalid("You must specify either `type` or `controller` when creating "
                             "an account.", param="type")
    acct = new_account(store, params)
    store.emit(ctx, "account.created", public(acct))  # the platform's own event
    return acct


def retrieve(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("expand",))
    return _find(store, ctx, id_)


def retrieve_current(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    """``GET /v1/account``: the account the request is made as."""
    if ctx.account:
        return retrieve(store, ctx, ctx.account, params)
    return {"id": "acct_simulatorplatform", "object": "account", "type": "standard",
            "charges_enabled": True, "payouts_enabled": True, "details_submitted": True,
            "country": "US", "default_currency": "usd", "email": None, "metadata": {}}


def update(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("email", "metadata", "business_profile", "settings", "expand"))
    _platform_only(ctx, "update connected accounts")
    acct = _find(store, ctx, id_)
    previous: dict[str, Any] = {}
    if "email" in params:
        previous["email"] = acct["email"]
        acct["email"] = p.as_str(params, "email")
    if "metadata" in params:
        previous["metadata"] = acct["metadata"]
        acct["metadata"] = p.merge_metadata(acct["metadata"], params.get("metadata"))
    if isinstance(params.get("business_profile"), dict):
        previous["business_profile"] = dict(acct["business_profile"])
        acct["business_profile"].update(params["business_profile"])
    store.emit(Ctx(api_key=ctx.api_key, request_id=ctx.request_id, account=acct["id"]),
               "account.updated", public(acct), previous)
    return acct


def delete(store: Store, ctx: Ctx, id_: str, params: dict[str, Any]) -> dict[str, Any]:
    _platform_only(ctx, "delete connected accounts")
    acct = _find(store, ctx, id_)
    acct["_deauthorized"] = True
    acct["_deleted"] = True
    return {"id": acct["id"], "object": "account", "deleted": True}


def list_(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("created", "limit", "starting_after", "ending_before", "expand"))
    _platform_only(ctx, "list connected accounts")
    items = [a for a in store.root.all("account") if not a.get("_deleted")]
    return paginate(items, params, "/v1/accounts", None)


# -- Account Links and the hosted onboarding stand-in -----------------------------------

def create_link(store: Store, ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    p.check_known(params, ("account", "refresh_url", "return_url", "type", "collect",
                           "collection_options", "expand"))
    _platform_only(ctx, "create account links")
    account_id = p.as_str(params, "account", required=True) or ""
    type_ = p.as_str(params, "type", required=True, choices=LINK_TYPES)
    refresh_url = p.as_str(params, "refresh_url", required=True) or ""
    return_url = p.as_str(params, "return_url", required=True) or ""
    for name, url in (("refresh_url", refresh_url), ("return_url", return_url)):
        if not url.startswith(("http://", "https://")):
            raise errors.invalid("Not a valid URL", param=name)
    acct = _find(store, ctx, account_id)
    if acct.get("_deauthorized"):
        raise account_invalid(ctx.api_key, account_id)
    link_id = new_id("acctlink", 16)
    now = int(time.time())
    link = {"id": link_id, "object": "account_link", "created": now,
            "expires_at": now + LINK_TTL_SECONDS,
            "url": f"{ctx.host_url.rstrip('/')}/connect/onboarding/{link_id}",
            "_target": account_id, "_type": type_, "_refresh_url": refresh_url,
            "_return_url": return_url, "_used": False}
    store.put("account_link", link)
    # Stripe's answer has no id; ours keeps it private so the page can find the link.
    return {k: v for k, v in link.items() if k != "id"}


def complete_onboarding(store: Store, account_id: str, outcome: str) -> dict[str, Any]:
    """Onboarding finished: ``complete`` enables charges and payouts; ``requirements_due``
    submits the details but leaves an identity document due, so charges stay disabled."""
    acct = store.get("account", account_id)
    if acct is None:
        raise errors.resource_missing("account", account_id, "account")
    previous = {k: acct[k] for k in ("charges_enabled", "payouts_enabled",
                                     "details_submitted", "requirements")}
    if outcome == "complete":
        due: list[str] = []
        capability = "active"
    elif outcome == "requirements_due":
        due = list(VERIFICATION_DUE)
        capability = "inactive"
    else:
        raise ValueError("outcome must be complete or requirements_due")
    acct.update(details_submitted=True, charges_enabled=not due, payouts_enabled=not due,
                requirements=_requirements(due),
                capabilities={"card_payments": capability, "transfers": capability},
                tos_acceptance={"date": int(time.time())})
    store.emit(Ctx(account=account_id), "account.updated", public(acct), previous)
    return acct


def deauthorize(store: Store, account_id: str) -> dict[str, Any]:
    """The vendor disconnects the platform in its Stripe dashboard."""
    acct = store.get("account", account_id)
    if acct is None:
        raise errors.resource_missing("account", account_id, "account")
    acct["_deauthorized"] = True
    return store.emit(Ctx(account=account_id), "account.application.deauthorized",
                      dict(APPLICATION))


def seed_account(store: Store, account_id: str, email: str | None = None,
                 currency: str = "usd") -> dict[str, Any]:
    """A connected account with onboarding done, created once under a chosen id (the
    embedded run's demo tenants); an existing one is left as it is."""
    acct = store.get("account", account_id)
    if acct is not None:
        return acct
    acct = new_account(store, {"type": "standard", "email": email,
                               "default_currency": currency}, account_id)
    return complete_onboarding(store, account_id, "complete")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}
button{{display:block;width:100%;margin:.75rem 0;padding:.8rem;font-size:1rem}}</style>
</head><body>{body}</body></html>"""


def onboarding_page(store: Store, link_id: str) -> tuple[int, str, str | None]:
    """(status, html, redirect) for GET of the hosted onboarding stand-in."""
    link = store.get("account_link", link_id)
    if link is None:
        return 404, PAGE.format(title="Link not found", body="<h1>This link is not valid.</h1>"), None
    if link["_used"] or link["expires_at"] < time.time():
        return 302, "", link["_refresh_url"]
    acct = store.get("account", link["_target"])
    assert acct is not None
    due = ", ".join(acct["requirements"]["currently_due"]) or "nothing"
    body = (f"<h1>Stripe onboarding (simulator)</h1>"
            f"<p>Account <code data-testid='account-id'>{html.escape(acct['id'])}</code> "
            f"for {html.escape(acct.get('email') or 'a vendor')}.</p>"
            f"<p>Stripe would now collect: {html.escape(due)}.</p>"
            f"<form method='post'><button name='outcome' value='complete'>"
            f"Complete onboarding</button>"
            f"<button name='outcome' value='requirements_due'>Submit, leaving identity "
            f"verification due</button></form>")
    return 200, PAGE.format(title="Stripe onboarding (simulator)", body=body), None


def submit_onboarding(store: Store, link_id: str, outcome: str) -> str:
    """POST of the stand-in page: apply the outcome once and go to the link's return_url."""
    link = store.require("account_link", link_id)
    if link["_used"] or link["expires_at"] < time.time():
        return link["_refresh_url"]
    link["_used"] = True
    complete_onboarding(store, link["_target"], outcome)
    return link["_return_url"]


def dashboard_page(store: Store, account_id: str) -> tuple[int, str]:
    """Stand-in for the vendor's own Stripe dashboard (Standard accounts log in there)."""
    acct = store.get("account", account_id)
    if acct is None:
        return 404, PAGE.format(title="Not found", body="<h1>No such account.</h1>")
    payments = [c for c in store.all("charge") if c.get("_account") == account_id]
    rows = "".join(f"<li>{html.escape(c['id'])}: {c['amount']} {html.escape(c['currency'])} "
                   f"({html.escape(c['status'])}), application fee "
                   f"{c.get('application_fee_amount') or 0}</li>" for c in payments)
    body = (f"<h1>Stripe dashboard (simulator)</h1><p>Account {html.escape(account_id)}</p>"
            f"<h2>Payments</h2><ul>{rows or '<li>none yet</li>'}</ul>")
    return 200, PAGE.format(title="Stripe dashboard (simulator)", body=body)
