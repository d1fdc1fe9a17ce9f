"""Huey tasks, one module per feature: each takes ids, opens an app context, calls one service
and re-raises on failure. `registry` maps every `Job` a service can name to its task; importing
this package fails if one is missing. Jobs are enqueued after their transaction commits; if the
queue is unreachable then, the rows are still there and the periodic sweepers enqueue them later.
"""
from app.tasks import (  # noqa: F401
    accounts,
    autopay,
    bookings,
    email,
    invoices,
    notifications,
    payments,
    refunds,
    reminders,
)
from app.tasks.registry import check_registry, install_job_hooks  # noqa: F401

check_registry()
