"""`/webhooks/stripe` (the platform's events) and `/webhooks/stripe/connect` (connected
accounts' events, signed with the Connect endpoint's own secret): verify, store by id, answer at
once; a task does the processing."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from app.adapters.stripe_gateway import gateway_for
from app.extensions import csrf, db, limiter
from app.services.payments import events as stripe_events
from app.services.payments.gateway import InvalidSignature, MalformedEvent

bp = Blueprint("webhooks", __name__)


@bp.post("/stripe", defaults={"connect": False})
@bp.post("/stripe/connect", defaults={"connect": True})
@csrf.exempt
@limiter.exempt
def stripe_webhook(connect: bool):
    # The size first, before reading or verifying anything (chunked bodies stop at the limit).
    limit = current_app.config["STRIPE_WEBHOOK_MAX_BYTES"]
    if (request.content_length or 0) > limit:
        return jsonify(error="body too large"), 413
    request.max_content_length = limit
    payload = request.get_data(cache=False)
    try:
        body = gateway_for(current_app).verify_event(payload, request.headers.get("Stripe-Signature"),
                                                     connect=connect)
        event = stripe_events.check_event(body)
    except InvalidSignature:
        # Nothing is stored: an unsigned body must not be able to fill our tables.
        return jsonify(error="invalid signature"), 400
    except MalformedEvent as exc:
        return jsonify(error=exc.message), 400
    _, stored = stripe_events.record_event(db.session, event)
    return jsonify(received=True, duplicate=not stored), 200
