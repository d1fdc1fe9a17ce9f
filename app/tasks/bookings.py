"""Booking jobs: fresh links by email, and releasing date holds whose deposit never came."""
from __future__ import annotations

from huey import crontab

from app.queue import huey
from app.services.bookings import actions, lifecycle
from app.tasks.context import app_session
from app.web.links import WebLinks


@huey.task()
def send_booking_links(tenant_id: int, email_addr: str) -> int:
    # Off the request, like password reset: the reply cannot reveal whether the address booked.
    with app_session() as (app, session):
        return actions.send_fresh_links(session, tenant_id, email_addr, WebLinks(app))


@huey.task()
def send_booking_links_anywhere(email_addr: str) -> int:
    with app_session() as (app, session):
        return actions.send_fresh_links_anywhere(session, email_addr, WebLinks(app))


@huey.periodic_task(crontab(minute="*"))
def release_expired_holds() -> int:
    with app_session() as (_, session):
        return lifecycle.release_expired_holds(session)
