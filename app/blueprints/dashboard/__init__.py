"""The dashboard blueprint (`routes.bp`) and the feature modules that add routes to it."""
from app.blueprints.dashboard import (  # noqa: F401
    availability,
    bookings,
    catalog,
    invoices,
    payments,
    refunds,  # noqa: F401
    reminders,
)
