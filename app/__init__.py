"""The MAIS portal: `create_app` wires config, extensions, blueprints, errors and the CLI."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    from app import cli, errors
    from app.blueprints import register_blueprints
    from app.config import load_config
    from app.extensions import csrf, db, htmx, limiter, login_manager, migrate
    from app.logsafety import install_log_redaction
    from app.postgres import ping_idle_connections, read_without_transactions
    from app.queue import bind_app
    from app.sqlite import serialize_writes
    from app.tasks import install_job_hooks
    from app.web import branding, filters, input_guard, page_cache, proxies, security, transactions

    settings = load_config()
    settings.update(config or {})
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=settings["INSTANCE_PATH"],
    )
    app.config.update(settings)
    install_log_redaction()

    db.init_app(app)
    transactions.register(app)  # first: before any hook queries the database
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    htmx.init_app(app)

    register_blueprints(app)
    errors.register(app)
    security.register(app)
    input_guard.register(app)
    filters.register(app)
    branding.register(app)
    page_cache.register(app)
    cli.register(app)
    proxies.install(app)

    with app.app_context():
        serialize_writes(db.engine)
        ping_idle_connections(db.engine, app.config["DATABASE_PING_AFTER_SECONDS"])
        read_without_transactions(db.engine)
    install_job_hooks()
    bind_app(app)
    return app
