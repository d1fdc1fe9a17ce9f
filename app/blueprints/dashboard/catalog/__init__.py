from app.blueprints.dashboard.catalog import routes  # noqa: F401
