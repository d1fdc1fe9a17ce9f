"""Couples through the real flows under load: per step, requests, errors and p50/p95/p99.

    .venv/bin/python bench/load.py [--couples 50] [--seconds 300] [--workers N]

Needs PostgreSQL (DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres: a
database of its own is created there and dropped at the end) and Redis (REDIS_URL, default
redis://127.0.0.1:6379/0: the run uses db 12 and a queue name of its own, see benchenv).
Runs, as separate processes: gunicorn with the README's production settings (gunicorn.conf.py,
started as bench/pages.py starts it), two `huey_consumer wsgi.huey -w 4 -k thread` (the
README's command), the Stripe simulator (started as bench/chaos.py starts it), and an SMTP sink
in this process. The app runs with the embedded default's cookie settings (plain HTTP here) and
rate limits off (every couple comes from 127.0.0.1).

Each of --couples threads repeats, until --seconds are up, what a couple's browser does:
open the public booking page, check the date (the htmx availability fragment), book (the form
POSTed with its CSRF token), open the deposit checkout, pay as Stripe.js would (confirm the
PaymentIntent with pm_card_visa at the simulator, with the page's client secret and
publishable key, on the vendor's account), come back to the return page, follow its link to the
portal, and download a document (a PDF) from there. Every request has a timeout; every loop is
bounded. Figures only: the goal for errors is 0, latencies are what this machine gave.
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import threading
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STEPS = ("booking page", "availability (htmx)", "book (POST)", "deposit checkout",
         "confirm at Stripe (sim)", "payment return", "portal", "document PDF")
CHECKOUT = re.compile(r'data-publishable-key="([^"]+)" data-client-secret="([^"]+)"\s+'
                      r'data-return-url="[^"]*" data-stripe-account="([^"]*)"')
TO_BOOKING = re.compile(r'href="(/t/[^"]+/pay/[^"]+/booking)"')
DOCUMENT = re.compile(r'href="(/t/[^"]+/b/[^"]+/documents/\d+)"')
TIMEOUT = 30
DAYS_AHEAD = 60, 700  # event dates drawn from this range, 50 bookings a day: no collisions


class Figures:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: dict[str, str] = {}
        self.journeys = 0

    def timed(self, step: str, call, expect=lambda r: r.status_code < 400):
        started = time.perf_counter()
        try:
            response = call()
        except Exception as exc:  # noqa: BLE001 (an error of this step; the couple starts over)
            self.record(step, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
            raise StepFailed(step) from exc
        ok = expect(response)
        self.record(step, time.perf_counter() - started,
                    None if ok else f"HTTP {response.status_code}: {response.text[:200]!r}")
        if not ok:
            raise StepFailed(step)
        return response

    def record(self, step: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latency[step].append(seconds * 1000)
            if error is not None:
                self.errors[step] += 1
                self.samples.setdefault(step, error)


class StepFailed(Exception):
    pass


def journey(http, base: str, sim_url: str, tenant: dict, rng, figures: Figures, n: int) -> None:
    from tests.fixtures.portal import CSRF_RE, TERMS_DIGEST_RE

    slug = tenant["slug"]
    day = (date.today() + timedelta(days=rng.randrange(*DAYS_AHEAD))).isoformat()
    page = figures.timed("booking page", lambda: http.get(
        f"{base}/t/{slug}/", params={"package_id": tenant["package_id"], "event_date": day},
        timeout=TIMEOUT))
    csrf = CSRF_RE.search(page.text)
    digest = TERMS_DIGEST_RE.search(page.text)
    figures.timed("availability (htmx)", lambda: http.get(
        f"{base}/t/{slug}/availability", params={"event_date": day},
        headers={"HX-Request": "true", "HX-Current-URL": page.url}, timeout=TIMEOUT),
        lambda r: r.status_code == 200 and 'data-available="yes"' in r.text)
    form = {"csrf_token": (csrf.group(1) or csrf.group(2)) if csrf else "",
            "terms_digest": digest.group(1) if digest else "", "package_id": str(tenant["package_id"]),
            "couple_names": f"Zoë & Léo {n}", "email": f"couple{n}@load.example", "phone": "",
            "event_date": day, "start_time": "", "venue": "Schloss Élysée", "notes": "",
            "accept_terms": "y"}
    booked = figures.timed("book (POST)", lambda: http.post(
        f"{base}/t/{slug}/", data=form, allow_redirects=False, timeout=TIMEOUT),
        lambda r: r.status_code == 302 and "/pay/" in r.headers.get("Location", ""))
    checkout_url = base + booked.headers["Location"] if booked.headers["Location"].startswith("/") \
        else booked.headers["Location"]
    checkout = figures.timed("deposit checkout", lambda: http.get(checkout_url, timeout=TIMEOUT),
                             lambda r: r.status_code == 200 and CHECKOUT.search(r.text) is not None)
    key, client_secret, account = CHECKOUT.search(checkout.text).groups()
    intent = client_secret.split("_secret_")[0]
    headers = {"Authorization": f"Bearer {key}", **({"Stripe-Account": account} if account else {})}
    figures.timed("confirm at Stripe (sim)", lambda: http.post(
        f"{sim_url}/v1/payment_intents/{intent}/confirm", headers=headers, timeout=TIMEOUT,
        data={"payment_method": "pm_card_visa", "client_secret": client_secret,
              "return_url": f"{checkout_url}/return"}),
        lambda r: r.status_code == 200 and r.json().get("status") == "succeeded")
    returned = figures.timed("payment return", lambda: http.get(
        f"{checkout_url}/return", timeout=TIMEOUT, params={
            "payment_intent": intent, "payment_intent_client_secret": client_secret,
            "redirect_status": "succeeded"}),
        lambda r: r.status_code == 200 and TO_BOOKING.search(r.text) is not None)
    portal_url = base + TO_BOOKING.search(returned.text).group(1)
    document = None
    for _ in range(20):  # the documents are issued by a task: look again, at most 20 times
        portal = figures.timed("portal", lambda url=portal_url: http.get(url, timeout=TIMEOUT),
                               lambda r: r.status_code == 200 and "/b/" in r.url)
        portal_url = portal.url  # the fresh manage link it redirected to; reused from now on
        document = DOCUMENT.search(portal.text)
        if document:
            break
        time.sleep(0.5)
    if document is None:
        figures.record("document PDF", 0.0, "no document on the portal after 20 looks")
        raise StepFailed("document PDF")
    figures.timed("document PDF", lambda: http.get(base + document.group(1), timeout=TIMEOUT),
                  lambda r: r.status_code == 200 and r.content.startswith(b"%PDF"))
    with figures.lock:
        figures.journeys += 1


def couple(index: int, base: str, sim_url: str, tenant: dict, deadline: float, figures: Figures) -> None:
    import random

    import requests

    rng = random.Random(index)
    n = 0
    while time.monotonic() < deadline and n < 10_000:
        n += 1
        with requests.Session() as http:  # a new couple each time: a browser of their own
            try:
                journey(http, base, sim_url, tenant, rng, figures, index * 10_000 + n)
            except StepFailed:
                time.sleep(0.5)


def seed_tenant(app) -> dict:
    """A vendor that takes card payments (connected in the simulator) with ample capacity."""
    from app.extensions import db
    from bench.chaos import TENANTS, seed_vendor

    with app.app_context():
        tenant = seed_vendor(db.session, *TENANTS[0], capacity_per_day=50)
        db.session.remove()
    return tenant


def report(figures: Figures, seconds: float, couples: int) -> None:
    from bench.benchenv import percentile

    print(f"\n{couples} couples for {seconds:.0f}s: {figures.journeys:,} journeys completed "
          f"({figures.journeys / seconds * 60:,.0f}/min)")
    print(f"{'step':<26}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    every: list[float] = []
    for step in STEPS:
        values = figures.latency.get(step, [])
        every += values
        print(f"{step:<26}{len(values):9,d}{figures.errors.get(step, 0):8d}{percentile(values, 0.5):9.0f}"
              f"{percentile(values, 0.95):9.0f}{percentile(values, 0.99):9.0f}")
    errors = sum(figures.errors.values())
    print(f"{'total':<26}{len(every):9,d}{errors:8d}{percentile(every, 0.5):9.0f}"
          f"{percentile(every, 0.95):9.0f}{percentile(every, 0.99):9.0f}   "
          f"({len(every) / seconds:,.1f} requests/s; goal: 0 errors)")
    for step, sample in figures.samples.items():
        print(f"  first error at {step}: {sample}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--couples", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py)")
    parser.add_argument("--database-url", default=os.environ.get(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()

    from bench.benchenv import (
        BenchDatabase,
        SmtpSink,
        consumer_command,
        free_port,
        gunicorn_command,
        spawn,
        start,
        stop,
    )
    from bench.chaos import Stack

    database = BenchDatabase(args.database_url, args.redis_url)
    sink = SmtpSink()
    procs, sim = [], None
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        webhook_secret, connect_secret = (f"whsec_{secrets.token_hex(16)}" for _ in range(2))
        env = database.process_env(
            SECRET_KEY=secrets.token_hex(32), SMTP_URL=sink.url, BASE_URL=base, PORT=str(port),
            STRIPE_WEBHOOK_SECRET=webhook_secret, STRIPE_CONNECT_WEBHOOK_SECRET=connect_secret,
            RATELIMIT_ENABLED="0", PYTHONPATH=str(ROOT))
        sim = Stack(env, Path(database.folder), port, consumers=0)
        env["STRIPE_API_BASE"] = sim_url = sim.start_sim(f"{base}/webhooks/stripe", webhook_secret,
                                                         connect_secret)
        os.environ.update(env)  # this process seeds the tenant with the same settings
        import flask_migrate

        from app import create_app

        app = create_app()
        with app.app_context():
            flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        tenant = seed_tenant(app)
        procs.append(start(gunicorn_command(port, workers=args.workers), env, f"{base}/healthz"))
        for i in range(2):
            procs.append(spawn(consumer_command(4), env, os.path.join(database.folder, f"consumer{i}.log")))
        print(f"PostgreSQL + Redis: gunicorn ({args.workers or 'gunicorn.conf.py'} workers), 2 consumers "
              f"x 4 threads, the Stripe simulator; {args.couples} couples for {args.seconds:.0f}s", flush=True)
        figures = Figures()
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [threading.Thread(target=couple, args=(i, base, sim_url, tenant, deadline, figures))
                   for i in range(args.couples)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(args.seconds + 600)
        report(figures, time.monotonic() - started, args.couples)
        print(f"  emails accepted by the SMTP sink during the run: {sink.accepted:,}", flush=True)
    finally:
        for proc in procs:
            stop(proc)
        if sim is not None:
            sim.stop()
        sink.stop()
        database.drop()


if __name__ == "__main__":
    main()
