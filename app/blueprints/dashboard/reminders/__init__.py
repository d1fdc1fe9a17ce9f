from app.blueprints.dashboard.reminders import routes  # noqa: F401
