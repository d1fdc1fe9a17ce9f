"""The couple's automatic payments, behind the manage link: the saved card and the coming
charges (on the booking page), saving a new card (Stripe's SetupIntent on the card page) and
switching autopay off."""
from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, url_for

from app.adapters.stripe_gateway import gateway_for
from app.blueprints.forms_common import PlainForm
from app.blueprints.pay.routes import stripe_js_url
from app.blueprints.portal.routes import _booking, bp
from app.extensions import db, limiter
from app.services.autopay import couple as autopay_view
from app.services.autopay import enrolment as autopay
from app.services.shared.errors import InvalidTransition
from app.web.security import no_referrer
from app.web.transactions import writes


@bp.get("/b/<token>/autopay/card")
@no_referrer
@limiter.limit("30 per hour")
@writes
def autopay_card(token: str):
    """Save a card for the remaining payments (turns autopay on, or changes its card)."""
    booking = _booking(token, "manage")
    view = autopay_view.view_for(db.session, g.tenant, booking)
    setup = None
    refusal = ""
    try:
        setup = autopay.start_card_change(db.session, g.tenant.id, booking.id,
                                          gateway_for(current_app))
    except InvalidTransition as exc:
        refusal = exc.message
    return render_template(
        "portal/autopay_card.html", tenant=g.tenant, booking=booking, token=token, view=view,
        setup=setup, refusal=refusal, stripe_js=stripe_js_url(),
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        return_url=url_for(".autopay_card_return", token=token, _external=True)), (
        409 if refusal else 200)


@bp.get("/b/<token>/autopay/card/return")
@no_referrer
@writes
def autopay_card_return(token: str):
    booking = _booking(token, "manage")
    setup_id = request.args.get("setup_intent", "")
    try:
        autopay.finish_card_change(db.session, g.tenant.id, booking.id, setup_id,
                                   gateway_for(current_app))
    except InvalidTransition as exc:
        return render_template("portal/autopay_card.html", tenant=g.tenant, booking=booking,
                               token=token, setup=None, refusal=exc.message,
                               view=autopay_view.view_for(db.session, g.tenant, booking),
                               stripe_js="", publishable_key="", return_url=""), 409
    return redirect(url_for(".manage", token=token, done="autopay_on") + "#autopay", code=303)


@bp.post("/b/<token>/autopay/off")
@no_referrer
@limiter.limit("30 per hour")
def autopay_off(token: str):
    booking = _booking(token, "manage")
    if not PlainForm().validate_on_submit():
        return redirect(url_for(".manage", token=token), code=303)
    autopay.switch_off(db.session, g.tenant.id, booking.id, by="couple")
    return redirect(url_for(".manage", token=token, done="autopay_off") + "#autopay", code=303)
