"""Web-side wiring for payments: the app's Stripe gateway and the signed checkout references.

A checkout link is a low-risk, stateless link (it can only take money for the stage it names),
so it is an itsdangerous signature over (tenant, stage) rather than a stored token: it works
from the booking flow, the portal and emails alike, and never expires.
"""
from __future__ import annotations

from flask import Flask
from itsdangerous import BadData, URLSafeSerializer

from app.adapters.stripe_gateway import StripeGateway
from app.services.errors import NotFound

REF_SALT = "mais-checkout-stage"


def gateway_for(app: Flask) -> StripeGateway:
    """One gateway per app and Stripe settings (tests point STRIPE_API_BASE elsewhere)."""
    c = app.config
    key = tuple(sorted((k, str(v)) for k, v in c.items() if k.startswith("STRIPE_")))
    cached = app.extensions.get("mais_stripe_gateway")
    if cached is None or cached[0] != key:
        cached = (key, StripeGateway.from_config(c))
        app.extensions["mais_stripe_gateway"] = cached
    return cached[1]


def _serializer(app: Flask) -> URLSafeSerializer:
    return URLSafeSerializer(app.config["SECRET_KEY"], salt=REF_SALT)


def stage_ref(app: Flask, tenant_id: int, stage_id: int) -> str:
    return _serializer(app).dumps([tenant_id, stage_id])


def read_stage_ref(app: Flask, tenant_id: int, ref: str) -> int:
    """The stage id in `ref`, or NotFound for a bad signature or another tenant's stage."""
    try:
        ref_tenant, stage_id = _serializer(app).loads(ref)
    except (BadData, ValueError, TypeError):
        raise NotFound() from None
    if ref_tenant != tenant_id or not isinstance(stage_id, int):
        raise NotFound()
    return stage_id
