"""The vendor's daily digest: a periodic task; each digest is an outbox row like any email."""
from __future__ import annotations

from huey import crontab

from app.queue import huey
from app.services.notifications import vendor
from app.tasks.context import app_session
from app.web.links import WebLinks


@huey.periodic_task(crontab(minute="5"))
def send_digests() -> int:
    """Hourly, so each tenant's morning comes round whatever its time zone."""
    with app_session() as (app, session):
        return vendor.send_digests(session, login_url=WebLinks(app).login())
