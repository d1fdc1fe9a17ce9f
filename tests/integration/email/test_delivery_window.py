"""A send is recorded the moment the SMTP server accepts the data, not after the session ends:
a worker killed while saying goodbye has already recorded it, so the sweeper does not send it
again (the duplicate window is the commit after the 250, milliseconds wide)."""
from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

from aiosmtpd.controller import Controller

from tests.fixtures.smtp import Inbox, free_port
from tests.integration.email.test_outbox_delivery import queue_one, status_of


class SlowGoodbye(Inbox):
    """Accepts messages at once and answers QUIT only when released (at most 10 s)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.goodbye_answered = False

    async def handle_QUIT(self, server, session, envelope):
        for _ in range(100):
            if self.release.is_set():
                break
            await asyncio.sleep(0.1)
        self.goodbye_answered = True
        return "221 Bye"


def test_a_send_is_recorded_at_the_servers_250_before_the_session_closes(app, db_session, tenant_a):
    from app.adapters.smtp import SmtpTransport
    from app.extensions import db
    from app.services.email import outbox
    from app.tasks.email import delivery_policy

    handler = SlowGoodbye()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    outcome: list[str] = []
    try:
        email_id = queue_one(app, tenant_a.tenant_id)

        def deliver() -> None:
            with app.app_context():
                outcome.append(outbox.deliver(db.session, email_id,
                                              SmtpTransport(f"smtp://127.0.0.1:{port}"),
                                              delivery_policy(app)))
                db.session.remove()

        worker = threading.Thread(target=deliver)
        worker.start()
        deadline = time.monotonic() + 10
        while not handler.messages and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(handler.messages) == 1
        # The server stored it before answering 250; our commit follows that answer.
        while status_of(db_session, email_id).status != "sent" and time.monotonic() < deadline:
            time.sleep(0.01)
        # The session is still open (QUIT unanswered): a kill now must not lead to a resend.
        assert status_of(db_session, email_id).status == "sent"
        with app.app_context():
            assert email_id not in outbox.sweep(db.session, stuck_after=timedelta(0))
            db.session.remove()
        # Recorded although the server has not answered a goodbye (the transport keeps its
        # connection for the next message, or is still waiting for the 221).
        assert not handler.goodbye_answered
        handler.release.set()
        worker.join(15)
    finally:
        handler.release.set()
        controller.stop()
    assert outcome == ["sent"]
    assert len(handler.messages) == 1
    assert status_of(db_session, email_id).status == "sent"
