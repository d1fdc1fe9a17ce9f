"""Blueprints, one package per audience."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.blueprints.auth.routes import bp as auth
    from app.blueprints.dashboard.scope import bp as dashboard
    from app.blueprints.pay.routes import bp as pay
    from app.blueprints.portal.routes import bp as portal
    from app.blueprints.public.booking import bp as booking
    from app.blueprints.public.calendar_feed import bp as calendar_feed
    from app.blueprints.public.routes import bp as public
    from app.blueprints.webhooks.routes import bp as webhooks

    app.register_blueprint(public)
    app.register_blueprint(booking)
    app.register_blueprint(calendar_feed)
    app.register_blueprint(portal)
    app.register_blueprint(pay)
    app.register_blueprint(webhooks, url_prefix="/webhooks")
    app.register_blueprint(auth, url_prefix="/auth")
    app.register_blueprint(dashboard, url_prefix="/dashboard")
    if app.config["DEV_MAILBOX"]:
        from app.blueprints.dev.routes import bp as dev

        app.register_blueprint(dev, url_prefix="/dev")
