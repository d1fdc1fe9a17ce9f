"""Security headers on every response; token pages add `Referrer-Policy: no-referrer`."""
from __future__ import annotations

from functools import wraps

from flask import Flask, current_app, g


def no_referrer(view):
    """Mark a view whose URL holds a token: the browser must not send it on to anyone."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        g.no_referrer = True
        return view(*args, **kwargs)

    return wrapped


_csp_cache: dict[str, str] = {}


def content_security_policy(app: Flask) -> str:
    """Built once per Stripe API base (the simulator's URL may change at runtime, in tests)."""
    sim = app.config.get("STRIPE_API_BASE") or ""
    policy = _csp_cache.get(sim)
    if policy is None:
        policy = _csp_cache[sim] = _build_policy(sim)
    return policy


def _build_policy(sim: str) -> str:
    stripe_js = "https://js.stripe.com"
    script = f"'self' {stripe_js} {sim}".strip()
    connect = f"'self' https://api.stripe.com {sim}".strip()
    return "; ".join([
        "default-src 'self'",
        f"script-src {script}",
        f"connect-src {connect}",
        f"frame-src {stripe_js} https://hooks.stripe.com",
        "img-src 'self' data:",
        # htmx injects its indicator styles; no inline script is allowed.
        "style-src 'self' 'unsafe-inline'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        # The Payments account form redirects to Stripe's hosted onboarding (Account Links).
        f"form-action 'self' https://connect.stripe.com {sim}".strip(),
        "object-src 'none'",
    ])


def register(app: Flask) -> None:
    @app.after_request
    def add_headers(response):
        response.headers.setdefault("Content-Security-Policy", content_security_policy(current_app))
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = (
            "no-referrer" if g.get("no_referrer") else "strict-origin-when-cross-origin"
        )
        if current_app.config["MAIS_ENV"] == "production":
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        return response
