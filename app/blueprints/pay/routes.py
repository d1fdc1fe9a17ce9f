"""The couple's payment pages under /t/<slug>/: a stage's checkout (Payment Element), the page
Stripe returns to, and the portal's "Pay balance" choice."""
from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from app.adapters.stripe_gateway import gateway_for
from app.blueprints.forms_common import PlainForm
from app.blueprints.tenant_scope import scope_to_tenant
from app.extensions import db, htmx, limiter
from app.services.autopay import couple as autopay_view
from app.services.autopay import enrolment as autopay
from app.services.bookings import actions as booking_links
from app.services.bookings import emails as booking_emails
from app.services.connect.fees import FeePolicy
from app.services.invoices import issuing as invoices
from app.services.payments import checkout
from app.services.payments import stages as payment_stages
from app.services.shared.errors import InvalidLink
from app.web.links import current_links, read_stage_ref, stage_ref
from app.web.security import no_referrer
from app.web.transactions import writes

bp = Blueprint("pay", __name__, url_prefix="/t/<slug>")
scope_to_tenant(bp)


def stripe_js_url() -> str:
    base = current_app.config.get("STRIPE_API_BASE") or ""
    if current_app.config["PAYMENTS_MODE"] == "simulator" and base:
        return base.rstrip("/") + "/js/v3/"
    return "https://js.stripe.com/v3/"


@bp.get("/pay/<ref>")
@writes
def checkout_page(ref: str):
    stage_id = read_stage_ref(current_app, g.tenant.id, ref)
    pay_all = request.args.get("scope") == "all"
    view = checkout.open_checkout(db.session, g.tenant.id, stage_id, gateway_for(current_app),
                                  current_links(), pay_all=pay_all,
                                  fees=FeePolicy.from_config(current_app.config))
    is_open = view.state == "open"
    return render_template(
        "pay/checkout.html", tenant=g.tenant, view=view, ref=ref, pay_all=pay_all,
        offer=autopay.offer_for(db.session, g.tenant, view.booking, view.stage, view.intent_id,
                                pay_all) if is_open else None,
        saved_card=autopay_view.saved_card_for_checkout(db.session, g.tenant.id, view.stage.id,
                                                        view.intent_id) if is_open else None,
        form=PlainForm(),
        booking_money=payment_stages.booking_money(db.session, g.tenant.id, view.booking.id),
        terms=invoices.terms_of(db.session, g.tenant.id, view.booking.id),
        shown=booking_emails.describe(view.booking, g.tenant),
        stripe_js=stripe_js_url(), publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        return_url=url_for(".payment_return", ref=ref, _external=True))


@bp.post("/pay/<ref>/autopay")
@limiter.limit("30 per hour")
def autopay_choice(ref: str):
    """The deposit's "pay the rest automatically" box, ticked or unticked (htmx on change)."""
    stage_id = read_stage_ref(current_app, g.tenant.id, ref)
    form = PlainForm()
    if not form.validate_on_submit():
        return "", 400
    chosen = request.form.get("autopay") == "1"
    offer = autopay.choose_at_checkout(db.session, g.tenant.id, stage_id, chosen,
                                       gateway_for(current_app))
    if not htmx:
        return redirect(url_for(".checkout_page", ref=ref), code=303)
    return render_template("pay/_autopay_status.html", offer=offer)


@bp.get("/pay/<ref>/booking")
@limiter.limit("30 per hour")
def open_booking(ref: str):
    """One tap from a payment page to the couple's booking: a fresh manage link (the payment
    link is signed for this booking's stage, so whoever holds it may see the booking)."""
    stage_id = read_stage_ref(current_app, g.tenant.id, ref)
    stage = payment_stages.get_stage(db.session, g.tenant.id, stage_id)
    fresh = booking_links.fresh_manage_link(db.session, g.tenant.id, stage.booking_id)
    return redirect(url_for("portal.manage", token=fresh), code=303)


@bp.get("/pay/<ref>/return")
@writes
def payment_return(ref: str):
    stage_id = read_stage_ref(current_app, g.tenant.id, ref)
    result = checkout.payment_return(db.session, g.tenant.id, stage_id,
                                     request.args.get("payment_intent", ""),
                                     gateway_for(current_app), current_links())
    money = payment_stages.booking_money(db.session, g.tenant.id, result.booking.id)
    next_ref = stage_ref(current_app, g.tenant.id, money.next_stage.id) if money.next_stage else None
    return render_template(
        "pay/return.html", tenant=g.tenant, result=result, booking=result.booking, ref=ref,
        next_ref=next_ref,
        money=money,
        shown=booking_emails.describe(result.booking, g.tenant))


@bp.get("/b/<token>/pay")
@no_referrer
@writes
def pay_balance(token: str):
    """From the portal: the next stage due, to pay alone or with everything outstanding."""
    try:
        booking = booking_links.booking_for_link(db.session, g.tenant.id, token, "manage")
    except InvalidLink:
        from app.blueprints.portal.routes import fresh_link_error

        raise fresh_link_error() from None
    money = payment_stages.booking_money(db.session, g.tenant.id, booking.id)
    if money.next_stage is not None and request.args.get("go") in ("next", "all"):
        target = url_for(".checkout_page", ref=stage_ref(current_app, g.tenant.id, money.next_stage.id),
                         scope="all" if request.args["go"] == "all" else None)
        return redirect(target)
    return render_template(
        "pay/balance.html", tenant=g.tenant, booking=booking, money=money, token=token,
        payable=booking.status in checkout.PAYABLE,
        shown=booking_emails.describe(booking, g.tenant))
