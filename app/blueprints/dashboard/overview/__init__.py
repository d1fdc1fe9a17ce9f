from app.blueprints.dashboard.overview import routes  # noqa: F401
