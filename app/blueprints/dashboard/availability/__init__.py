from app.blueprints.dashboard.availability import routes  # noqa: F401
