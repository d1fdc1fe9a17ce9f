"""Reminder dispatch: reminders sent per minute, emails delivered, and the time from due to sent.

    .venv/bin/python bench/reminders.py [--rows 10000] [--scheduled 100000] [--rate 10000]
                                        [--window 120] [--consumers 2] [--workers 4] [--profile]

Per database, in a fresh process: the embedded default (SQLite in a temporary folder, the
SqliteHuey queue, one consumer with 2 threads as `make run` starts it) and, with DATABASE_URL
and REDIS_URL, PostgreSQL (a database of its own, created and dropped) + Redis (db 12, a queue
name of its own) with --consumers `huey_consumer wsgi.huey -w 4 -k thread` processes, the
README's production command. Emails go over SMTP to an aiosmtpd sink on loopback.

1. Backlog: --rows reminders all due now; the dispatcher's minute tick is enqueued once per
   consumer. Prints reminders sent and emails delivered per minute until the last is delivered.
2. Steady: the table holds --scheduled reminders; --rate a minute fall due through --window
   seconds, the rest later. The consumers' own periodic dispatcher runs as in production.
   Prints the time from due to the SMTP server's acceptance, p50/p99/max (goal p99 <= 90 s).

--profile runs the send tasks in this process under cProfile instead (one batch of --rows).
Figures only, no asserts; on a shared machine read them as such.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BOOKINGS = 20  # reminders spread over this many bookings of one tenant


def seed(app, rows: int, due, spread: timedelta = timedelta(0), start_key: int = 0):
    """`rows` scheduled reminders, due from `due` evenly over `spread`, on BOOKINGS bookings."""
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Booking, Reminder, ReminderRule

    s = db.session
    booking_ids = list(s.scalars(select(Booking.id).order_by(Booking.id)))
    tenant_id = s.scalar(select(Booking.tenant_id).limit(1))
    rule_id = s.scalar(select(ReminderRule.id).where(ReminderRule.kind == "before_event"))
    batch = []
    for i in range(rows):
        at = due + spread * (i / max(rows, 1))
        batch.append(dict(tenant_id=tenant_id, booking_id=booking_ids[i % len(booking_ids)], rule_id=rule_id,
                          stage_id=None, key=f"bench:{start_key + i}", kind="before_event",
                          local_date=at.date(), local_time=at.time(), timezone="Europe/Berlin",
                          due_at=at, window_ends_at=at + timedelta(days=1), next_attempt_at=at,
                          status="scheduled", attempts=0, last_error="", skip_reason="",
                          created_at=at, updated_at=at))
        if len(batch) == 5000:
            s.execute(insert(Reminder), batch)
            batch = []
    if batch:
        s.execute(insert(Reminder), batch)
    s.commit()


def setup(app) -> None:
    """One tenant and BOOKINGS confirmed bookings two months ahead."""
    import flask_migrate

    from app.extensions import db
    from app.services.accounts import users as accounts
    from app.services.bookings import catalog
    from app.services.bookings import lifecycle as bookings
    from app.services.shared import clock
    from app.web.links import WebLinks

    flask_migrate.upgrade(directory=str(ROOT / "migrations"))
    s = db.session
    user = accounts.signup(s, business_name="Bench Fotografie", slug="bench", timezone="Europe/Berlin",
                           currency="EUR", email_addr="bench@example.com", password="bench-password")
    package = catalog.save_package(s, user.tenant_id, user.id, title="Gold", description="",
                                   price_text="1000")
    for i in range(BOOKINGS):
        bookings.create_booking(
            s, user.tenant_id, bookings.BookingRequest(
                couple_names=f"Zoë & Léo {i}", email=f"couple{i}@example.com",
                event_date=clock.now().date() + timedelta(days=60 + i), venue="Town hall",
                package_id=package.id),
            WebLinks(app), actor="user", actor_user_id=user.id, initial_status="confirmed")
    # Only the bench's rows: the bookings' own planned reminders are months away anyway.
    s.execute(db.text("DELETE FROM reminders"))
    s.commit()


def counts(app) -> tuple[int, int, float]:
    """(reminders sent, their emails accepted by the SMTP server, seconds from the first claim
    to the last acceptance: the consumers' start-up is not counted)."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import OutboundEmail, Reminder

    with app.app_context():
        sent = db.session.scalar(select(func.count(Reminder.id)).where(Reminder.status == "sent"))
        delivered, last = db.session.execute(select(func.count(OutboundEmail.id), func.max(OutboundEmail.sent_at))
                                             .where(OutboundEmail.kind == "reminder_before_event",
                                                    OutboundEmail.status == "sent")).one()
        first = db.session.scalar(select(func.min(Reminder.claimed_at)))
        db.session.remove()
    return sent, delivered, (last - first).total_seconds() if first and last else 0.0


def due_to_sent(app, since) -> list[float]:
    """Seconds from each reminder's due time to its email's acceptance by the SMTP server,
    for reminders due from `since` to now (one not yet delivered counts as not sent yet)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboundEmail, Reminder
    from app.services.shared import clock

    now = clock.now()
    with app.app_context():
        rows = db.session.execute(
            select(Reminder.due_at, OutboundEmail.sent_at)
            .outerjoin(OutboundEmail, OutboundEmail.id == Reminder.email_id)
            .where(Reminder.due_at >= since, Reminder.due_at <= now)).all()
        db.session.remove()
    return [((sent or now) - due).total_seconds() for due, sent in rows]


def run_one(label: str, args) -> None:
    from bench.benchenv import BenchDatabase, SmtpSink, consumer_command, percentile, spawn, stop

    postgres = label == "postgres"
    database = BenchDatabase(os.environ.get("DATABASE_URL") if postgres else None,
                             os.environ.get("REDIS_URL") if postgres else None)
    sink = SmtpSink()
    consumers = []
    try:
        from app import create_app
        from app.services.shared import clock

        app = create_app({"SMTP_URL": sink.url})
        with app.app_context():
            setup(app)
        if args.profile:
            profile(app, args.rows)
            return
        from app.tasks.reminders import dispatch_reminders

        n_consumers = args.consumers if postgres else 1
        workers = args.workers if postgres else 2
        with app.app_context():
            seed(app, args.rows, clock.now())
        env = database.process_env(SMTP_URL=sink.url)
        for i in range(n_consumers):
            consumers.append(spawn(consumer_command(workers), env,
                                   os.path.join(database.folder, f"consumer{i}.log")))
        setting = (f"{database.label}, {n_consumers} consumer process{'es' if n_consumers > 1 else ''}"
                   f" x {workers} threads")
        print(f"{setting}:", flush=True)

        # 1. the backlog
        started = time.perf_counter()
        for _ in range(n_consumers):
            dispatch_reminders()  # the minute tick, as each consumer's scheduler enqueues it
        deadline = started + args.max_seconds
        sent = delivered = 0
        while time.perf_counter() < deadline and delivered < args.rows:
            time.sleep(0.5)
            sent, delivered, elapsed = counts(app)
        per_minute = 60 / max(elapsed, 0.001)
        print(f"  backlog of {args.rows:,} due: {sent * per_minute:,.0f} reminders/min sent, "
              f"{delivered * per_minute:,.0f} emails/min delivered ({delivered:,} in {elapsed:.0f}s from "
              f"the first claim to the last acceptance; the sink counted {sink.accepted:,} in all); "
              f"goal >= 10,000/min", flush=True)

        # 2. steady: --rate a minute fall due through --window while --scheduled rows wait
        due_in_window = int(args.rate * args.window / 60)
        later = max(0, args.scheduled - due_in_window)
        start_at = clock.now() + timedelta(seconds=5)
        with app.app_context():
            seed(app, later, clock.now() + timedelta(days=20), timedelta(days=10), start_key=args.rows)
            seed(app, due_in_window, start_at, timedelta(seconds=args.window),
                 start_key=args.rows + later)
        print(f"  steady: {args.scheduled:,} scheduled, {due_in_window:,} falling due over "
              f"{args.window:.0f}s ({args.rate:,}/min); the consumers' minute dispatcher runs them",
              flush=True)
        end_at = start_at + timedelta(seconds=args.window)
        while clock.now() < end_at + timedelta(seconds=args.drain):
            time.sleep(2)
            if clock.now() > end_at and counts(app)[1] >= args.rows + due_in_window:
                break
        waits = due_to_sent(app, start_at)
        sent, delivered, _ = counts(app)
        print(f"  due to sent (SMTP accepted), {len(waits):,} reminders: p50 {percentile(waits, 0.5):.1f}s, "
              f"p99 {percentile(waits, 0.99):.1f}s, max {max(waits, default=0):.1f}s; goal p99 <= 90 s; "
              f"{args.rows + due_in_window - delivered:,} not delivered at the end", flush=True)
    finally:
        for proc in consumers:
            stop(proc)
        sink.stop()
        database.drop()


def profile(app, rows: int, top: int = 25) -> None:
    """The send tasks in this process under cProfile: where a reminder's time goes."""
    import cProfile
    import io
    import pstats

    from app.extensions import db
    from app.services.reminders import dispatch
    from app.services.shared import clock
    from app.tasks.reminders import SEND_BATCH, send_reminders

    with app.app_context():
        seed(app, rows, clock.now())
        ids = dispatch.claim_due(db.session, limit=rows)
        db.session.remove()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for start in range(0, len(ids), SEND_BATCH):
        send_reminders.call_local(ids[start:start + SEND_BATCH])
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"  {len(ids):,} reminders in one thread under cProfile: {len(ids) / elapsed * 60:,.0f}/min")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top * 4)
    lines = [line for line in out.getvalue().splitlines()
             if "/app/" in line or "smtplib" in line or "email/" in line or "psycopg" in line]
    print("\n".join(lines[:top]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", choices=("sqlite", "postgres"),
                        default=["sqlite", "postgres"] if os.environ.get("DATABASE_URL") else ["sqlite"])
    parser.add_argument("--rows", type=int, default=10_000, help="the backlog, all due now")
    parser.add_argument("--scheduled", type=int, default=100_000, help="rows in the steady phase")
    parser.add_argument("--rate", type=int, default=10_000, help="falling due a minute (steady phase)")
    parser.add_argument("--window", type=float, default=120.0, help="seconds of the steady phase")
    parser.add_argument("--drain", type=float, default=120.0, help="most seconds after the window")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="most seconds for the backlog")
    parser.add_argument("--consumers", type=int, default=2, help="consumer processes (PostgreSQL)")
    parser.add_argument("--workers", type=int, default=4, help="threads per consumer (PostgreSQL)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--one", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args)
        return
    if "postgres" in args.db and not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        parser.error("--db postgres needs DATABASE_URL and REDIS_URL")
    for db in args.db:
        # A fresh process per database: the app, its queue and its database start clean.
        subprocess.run([sys.executable, __file__, "--one", db, *sys.argv[1:]], check=True)


if __name__ == "__main__":
    main()
