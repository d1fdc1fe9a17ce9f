from app.blueprints.dashboard.payments import routes  # noqa: F401
