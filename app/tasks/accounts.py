"""Account jobs that run off the request: password reset emails, and purging old tokens."""
from __future__ import annotations

from huey import crontab

from app.queue import huey
from app.services.accounts import users
from app.services.shared import tokens
from app.tasks.context import app_session
from app.web.links import WebLinks


@huey.task()
def send_password_reset(email_addr: str) -> None:
    # Runs off the request so the reply cannot reveal, even by timing, whether the email exists.
    with app_session() as (app, session):
        users.request_password_reset(session, email_addr, WebLinks(app))


@huey.periodic_task(crontab(minute="17", hour="3"))
def purge_tokens() -> int:
    with app_session() as (_, session):
        return tokens.purge(session)
