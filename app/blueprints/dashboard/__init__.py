"""The dashboard blueprint (`scope.bp`), one folder per feature (routes.py + forms.py), each
adding its routes to the blueprint when imported here."""
from app.blueprints.dashboard import (  # noqa: F401
    autopay,
    availability,
    bookings,
    branding,
    catalog,
    connect,
    invoices,
    overview,
    payments,
    refunds,
    reminders,
    settings,
)
