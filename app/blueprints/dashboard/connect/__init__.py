from app.blueprints.dashboard.connect import routes  # noqa: F401
