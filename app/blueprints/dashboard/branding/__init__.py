from app.blueprints.dashboard.branding import routes  # noqa: F401
