"""`/webhooks/stripe` (the platform's events) and `/webhooks/stripe/connect` (connected
accounts' events, signed with the Connect endpoint's own secret): verify, store by id, answer at
once; a task does the processing."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from app.adapters.stripe_gateway import gateway_for
from app.extensions import csrf, db, limiter
from app.services.payments import events as stripe_events
from app.services.payments.gateway import InvalidSignature

bp = Blueprint("webhooks", __name__)


@bp.post("/stripe", defaults={"connect": False})
@bp.post("/stripe/connect", defaults={"connect": True})
@csrf.exempt
@limiter.exempt
def stripe_webhook(connect: bool):
    payload = request.get_data(cache=False)
    try:
        event = gateway_for(current_app).verify_event(payload, request.headers.get("Stripe-Signature"),
                                                      connect=connect)
    except InvalidSignature:
        # Nothing is stored: an unsigned body must not be able to fill our tables.
        return jsonify(error="invalid signature"), 400
    _, stored = stripe_events.record_event(db.session, event)
    return jsonify(received=True, duplicate=not stored), 200
