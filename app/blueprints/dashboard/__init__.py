"""The dashboard blueprint (`routes.bp`) and the feature modules that add routes to it."""
from app.blueprints.dashboard import availability, bookings, catalog, payments, reminders  # noqa: F401
