"""Dashboard: the Payments account page (connecting the tenant's own Stripe account through
Stripe's onboarding, its status and what to do next, the balance and payouts, the platform fee
statement) and the links back from Stripe."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.adapters.stripe_gateway import gateway_for
from app.blueprints.dashboard.scope import bp, owner_required
from app.blueprints.forms_common import PlainForm
from app.extensions import db, htmx
from app.services.connect import accounts as connect_accounts
from app.services.connect import disputes as connect_disputes
from app.services.connect import fees as connect_fees
from app.services.connect import payouts as connect_payouts
from app.web.transactions import writes


def _month(text: str | None) -> tuple[date, datetime, datetime]:
    """The statement month from `?month=YYYY-MM` (this month otherwise), as UTC bounds."""
    try:
        first = date.fromisoformat(f"{text}-01") if text else None
    except ValueError:
        first = None
    first = first or datetime.now(UTC).date().replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, datetime(first.year, first.month, 1, tzinfo=UTC), \
        datetime(following.year, following.month, 1, tzinfo=UTC)


@bp.get("/payments-account")
def payments_account():
    tenant = g.tenant
    month, start, end = _month(request.args.get("month"))
    return render_template(
        "dashboard/connect/account.html", tenant=tenant, status=connect_accounts.status_of(tenant),
        statement=connect_fees.monthly_statement(db.session, tenant.id, start, end), month=month,
        fee_policy=connect_fees.FeePolicy.from_config(current_app.config),
        disputes=connect_disputes.open_disputes(db.session, tenant.id), form=PlainForm())


@bp.get("/payments-account/money")
def payments_account_money():
    """The balance and recent payouts, fetched from Stripe (cached for a minute): a fragment for
    htmx, a page of its own otherwise."""
    tenant = g.tenant
    movement = connect_payouts.money_movement(db.session, tenant.id, gateway_for(current_app))
    zone = ZoneInfo(tenant.timezone)
    template = "dashboard/connect/_money.html" if htmx else "dashboard/connect/money.html"
    return render_template(template, movement=movement,
                           arrival=lambda ts: datetime.fromtimestamp(ts, zone).strftime("%a %d %b %Y"))


def _onboarding_redirect():
    link = connect_accounts.start_onboarding(
        db.session, g.tenant.id, gateway_for(current_app),
        refresh_url=url_for("dashboard.payments_account_refresh", _external=True),
        return_url=url_for("dashboard.payments_account_return", _external=True),
        actor_user_id=current_user.id)
    return redirect(link, code=303)


@bp.post("/payments-account/connect")
@owner_required
def payments_account_connect():
    if not PlainForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(url_for("dashboard.payments_account"))
    return _onboarding_redirect()


@bp.get("/payments-account/refresh")
@writes
@owner_required
def payments_account_refresh():
    """Stripe's refresh_url: the onboarding link expired or was used; make a fresh one."""
    return _onboarding_redirect()


@bp.get("/payments-account/return")
@writes
def payments_account_return():
    """Stripe's return_url: the owner left onboarding (finished or not); ask Stripe where it
    stands rather than trusting the redirect."""
    tenant = connect_accounts.refresh_status(db.session, g.tenant.id, gateway_for(current_app))
    status = connect_accounts.status_of(tenant)
    flash("Your Stripe account can take payments." if status.charges_enabled
          else "Stripe still needs some details: see below.",
          "success" if status.charges_enabled else "info")
    return redirect(url_for("dashboard.payments_account"))


@bp.get("/payments-account/stripe-dashboard")
def payments_account_stripe_dashboard():
    status = connect_accounts.status_of(g.tenant)
    if not status.account_id:
        return redirect(url_for("dashboard.payments_account"))
    return redirect(gateway_for(current_app).dashboard_link(status.account_id))
