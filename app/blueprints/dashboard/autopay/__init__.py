from app.blueprints.dashboard.autopay import routes  # noqa: F401
