"""Reminder dispatch throughput: due reminders claimed, written to the outbox and sent over SMTP.

    .venv/bin/python bench/reminders.py [--rows 10000 100000] [--seconds 20]

For each size, a throwaway database (SQLite in a temporary folder, or DATABASE_URL) gets that
many scheduled reminders, all due now, and a real Huey consumer (2 worker threads) runs the
periodic dispatcher against an SMTP sink (aiosmtpd) on loopback. Prints reminders sent and emails
delivered per minute, measured over --seconds. The point of the two sizes: claiming stays cheap
when the table is large (the partial scan rides the (status, next_attempt_at) index).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_one(rows: int, seconds: float) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.benchenv import BenchDatabase

    # A database of its own (created and dropped on PostgreSQL), Redis db 12.
    database = BenchDatabase(os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL"))
    try:
        _run(rows, seconds)
    finally:
        database.drop()


def _run(rows: int, seconds: float) -> None:

    from aiosmtpd.controller import Controller

    from tests.fixtures.smtp import Inbox, free_port

    inbox, port = Inbox(), free_port()
    sink = Controller(inbox, hostname="127.0.0.1", port=port)
    sink.start()
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)

    import flask_migrate
    from sqlalchemy import func, insert, select

    from app import create_app
    from app.extensions import db
    from app.models import Booking, OutboundEmail, Reminder, ReminderRule
    from app.queue import huey
    from app.services.accounts import users as accounts
    from app.services.bookings import catalog
    from app.services.bookings import lifecycle as bookings
    from app.services.shared import clock
    from app.tasks.reminders import dispatch_reminders
    from app.web.links import WebLinks

    app = create_app({"TESTING": True, "SMTP_URL": f"smtp://127.0.0.1:{port}"})
    with app.app_context():
        flask_migrate.upgrade()
        s = db.session
        user = accounts.signup(s, business_name="Bench", slug="bench", timezone="Europe/Berlin",
                               currency="EUR", email_addr="bench@example.com", password="bench-password")
        package = catalog.save_package(s, user.tenant_id, user.id, title="Gold", description="",
                                       price_text="1000")
        from datetime import timedelta

        day = clock.now().date() + timedelta(days=60)
        booking = bookings.create_booking(
            s, user.tenant_id, bookings.BookingRequest(couple_names="A & B", email="couple@example.com",
                                                       event_date=day, venue="Town hall", package_id=package.id),
            WebLinks(app), actor="user", actor_user_id=user.id, initial_status="confirmed")
        rule_id = s.scalar(select(ReminderRule.id).where(ReminderRule.tenant_id == user.tenant_id))
        now = clock.now()
        batch = []
        started = time.perf_counter()
        for i in range(rows):
            batch.append(dict(tenant_id=user.tenant_id, booking_id=booking.id, rule_id=rule_id, stage_id=None,
                              key=f"bench:{i}", kind="before_event", local_date=day, local_time=now.time(),
                              timezone="Europe/Berlin", due_at=now, window_ends_at=now + timedelta(days=30),
                              next_attempt_at=now, status="scheduled", attempts=0, last_error="",
                              skip_reason="", created_at=now, updated_at=now))
            if len(batch) == 5000:
                s.execute(insert(Reminder), batch)
                batch = []
        if batch:
            s.execute(insert(Reminder), batch)
        s.commit()
        print(f"  inserted {rows:,} due reminders in {time.perf_counter() - started:.1f}s "
              f"({db.engine.dialect.name})", flush=True)
        booking_id = booking.id
        db.session.remove()

    consumer = huey.create_consumer(workers=2, worker_type="thread", periodic=False,
                                    check_worker_health=False, initial_delay=0.01, max_delay=0.1)
    consumer.start()
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < seconds:
            if huey.pending_count() < 50:
                dispatch_reminders()  # what each consumer's scheduler does every minute
            time.sleep(0.2)
    finally:
        elapsed = time.perf_counter() - started
        consumer.stop(graceful=True)
        sink.stop()
    with app.app_context():
        sent = db.session.scalar(select(func.count(Reminder.id)).where(
            Reminder.booking_id == booking_id, Reminder.status == "sent"))
        delivered = db.session.scalar(select(func.count(OutboundEmail.id)).where(
            OutboundEmail.kind == "reminder_before_event", OutboundEmail.status == "sent"))
    per_minute = 60 / elapsed
    print(f"  {rows:>7,} scheduled rows: {sent * per_minute:,.0f} reminders/min written, "
          f"{delivered * per_minute:,.0f} emails/min delivered to the SMTP sink "
          f"({len(inbox.messages):,} received in {elapsed:.0f}s)", flush=True)
    del Booking


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.seconds)
        return
    print(f"Reminder dispatch, 2 worker threads, {args.seconds:.0f}s per size:")
    for rows in args.rows:
        # A fresh process per size: the app, its queue and its database start clean.
        subprocess.run([sys.executable, __file__, "--one", str(rows), "--seconds", str(args.seconds)],
                       check=True)


if __name__ == "__main__":
    main()
