from app.blueprints.dashboard.bookings import routes  # noqa: F401
