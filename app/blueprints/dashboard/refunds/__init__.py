from app.blueprints.dashboard.refunds import routes  # noqa: F401
