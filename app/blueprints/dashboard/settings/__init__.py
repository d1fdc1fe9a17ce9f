from app.blueprints.dashboard.settings import routes  # noqa: F401
