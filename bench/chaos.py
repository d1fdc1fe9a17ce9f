"""Chaos run: the production stack under load and repeated faults, then a reconciliation that
proves nothing was lost or done twice.

    .venv/bin/python bench/chaos.py [--seconds 300] [--kills 60] [--seed 18]
    make chaos

Needs PostgreSQL (DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres: a
database of its own is created there and dropped at the end) and Redis (REDIS_URL, default
redis://127.0.0.1:6379/8: the run uses that db number only). Runs as separate processes:
gunicorn (the README's production command, 2 workers), two `huey_consumer wsgi.huey` processes,
the Stripe simulator (`python -m stripe_sim`), and an aiosmtpd sink in this process.

Load, for --seconds: couples book (capacity 2 a day, few dates: they collide), pay deposits and
balances through gunicorn's checkout page and the simulator (some cards decline, then pay),
reschedule and cancel by their emailed links (cancellations refund under the policy); owners
refund part of what was paid; reminders fall due throughout the run (seeded bookings whose
reminders are moved into the run); invoices, receipts and credit notes are issued; webhooks
arrive from the simulator (retried when gunicorn fails) and are replayed, duplicated and out of
order, by this script.

Faults, on a schedule drawn from --seed: SIGKILL of a consumer (--kills times), restarted at
once; FLUSHDB of the run's Redis db half-way (a dedicated Redis would take FLUSHALL; this
machine's Redis is shared); 10 % of Stripe calls answer 500, 429 or time out; one gunicorn
worker killed. Then the faults stop, the sweepers run (their thresholds are shortened by the
environment so that "after 10 minutes" happens within the run) and the run compares the
database with the simulator's and the SMTP sink's records. Exit status 1 when a loss or
duplicate counter is not zero. Traffic goes to 127.0.0.1 only; every loop is bounded.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's app/ and stripe_sim/, whatever the venv points at
BIN = Path(sys.executable).parent
LINK = re.compile(r"https?://\S+/t/[a-z0-9-]+/b/([A-Za-z0-9_-]{43})(/reschedule|/cancel)?")
SECRET_RE = re.compile(r'data-client-secret="([^"]+)"')
# A duplicate delivery is inside the documented window when a consumer was killed this close to
# the moment the server accepted the first copy: after the end of the data went out and before
# our commit recorded the 250 (SMTP's own duplicate window, RFC 1047, plus one commit; both take
# milliseconds, the bound leaves room for a loaded machine). Any other duplicate is a bug.
DUPLICATE_WINDOW = 0.5
TENANTS = (("chaos-lumiere", "Lumière Photography", "USD", "America/New_York"),
           ("chaos-berlin", "Berliner Hochzeiten", "EUR", "Europe/Berlin"))
# Each tenant is paid into its own connected account (direct charges), onboarded in the simulator.
ACCOUNTS = {"chaos-lumiere": "acct_1ChaosLumiere0", "chaos-berlin": "acct_1ChaosBerlin00"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def seed_vendor(s, slug: str, name: str, currency: str, tz: str, capacity_per_day: int) -> dict:
    """A vendor (owner, one package) paid into its connected account, which the simulator was
    started with (ACCOUNTS); bench/load.py seeds its vendor with this too."""
    from app.services.accounts import users as accounts
    from app.services.bookings import availability, catalog
    from app.services.connect import accounts as connect_accounts
    from app.services.payments.gateway import ConnectedAccount

    user = accounts.signup(s, business_name=name, slug=slug, timezone=tz, currency=currency,
                           email_addr=f"owner@{slug}.example", password="chaos-password-123",
                           owner_name="Owner")
    package = catalog.save_package(s, user.tenant_id, user.id, title="Full day coverage",
                                   description="", price_text="2500.00")
    connect_accounts.attach_account(s, user.tenant_id, ConnectedAccount(
        ACCOUNTS[slug], charges_enabled=True, payouts_enabled=True, details_submitted=True))
    availability.update_rules(s, user.tenant_id, user.id, {
        "capacity_per_day": capacity_per_day, "min_notice_days": 1, "horizon_days": 730,
        "hold_minutes": 30, "reschedule_cutoff_days": 14})
    return {"id": user.tenant_id, "user_id": user.id, "slug": slug, "account": ACCOUNTS[slug],
            "package_id": package.id}


# -- the SMTP sink ----------------------------------------------------------------------------------

class Sink:
    """Records every accepted message: Message-ID, recipient, subject and acceptance time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: list[tuple[str, str, str, float]] = []

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy

        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.accepted.append((str(msg["Message-ID"]), str(msg["To"]), str(msg["Subject"]),
                                  time.time()))
        return "250 Message accepted"


# -- processes --------------------------------------------------------------------------------------

class Stack:
    def __init__(self, env: dict[str, str], folder: Path, gunicorn_port: int, consumers: int) -> None:
        self.env, self.folder, self.port = env, folder, gunicorn_port
        self.consumers: list[subprocess.Popen | None] = [None] * consumers
        self.gunicorn: subprocess.Popen | None = None
        self.sim: subprocess.Popen | None = None
        self.lock = threading.Lock()

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        out = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        return subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def start_sim(self, webhook_url: str, secret: str, connect_secret: str) -> str:
        self.sim = subprocess.Popen(
            [sys.executable, "-m", "stripe_sim", "--port", "0", "--refund-delay", "0.5",
             "--webhook", f"{webhook_url}={secret}",
             "--connect-webhook", f"{webhook_url}/connect={connect_secret}",
             *[arg for account in ACCOUNTS.values() for arg in ("--seed-account", account)],
             "--webhook-retry-base", "0.5", "--webhook-max-attempts", "10"],
            cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=open(self.folder / "sim.log", "ab"))
        line = self.sim.stdout.readline().decode()
        if "listening on" not in line:
            raise RuntimeError(f"the simulator did not start: {line!r}")
        return line.rsplit(" ", 1)[-1].strip()

    def start_gunicorn(self) -> None:
        self.gunicorn = self._spawn("gunicorn", [
            str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{self.port}", "-c",
            "gunicorn.conf.py", "--timeout", "30", "wsgi:app"])

    def start_consumer(self, index: int) -> None:
        with self.lock:
            self.consumers[index] = self._spawn(f"consumer{index}", [
                str(BIN / "huey_consumer"), "wsgi.huey", "-w", "4", "-k", "thread", "-d", "0.05",
                "-m", "0.5"])

    def kill_consumer(self, index: int) -> None:
        with self.lock:
            proc = self.consumers[index]
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)

    def gunicorn_workers(self) -> list[int]:
        if self.gunicorn is None:
            return []
        path = Path(f"/proc/{self.gunicorn.pid}/task/{self.gunicorn.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        procs = [p for p in [*self.consumers, self.gunicorn, self.sim] if p is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


# -- the run ----------------------------------------------------------------------------------------

class Chaos:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.folder = Path(tempfile.mkdtemp(prefix="mais-chaos-"))
        self.figures: Counter = Counter()
        self.kill_times: list[float] = []
        self.flushes = 0
        self.gunicorn_kills = 0
        self.replayed = 0
        self.stop_load = threading.Event()
        self.sink = Sink()
        self.ledger_lock = threading.Lock()
        self.customers: list[dict] = []  # bookings made by the load, for the owners' refunds

    # -- set-up -------------------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        admin = self.args.database_url.replace("postgresql+psycopg://", "postgresql://")
        parts = urlsplit(admin)
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        self.database = f"mais_chaos_{os.getpid()}_{secrets.token_hex(3)}"
        redis_parts = urlsplit(self.args.redis_url)
        if not redis_parts.path.strip("/"):
            raise SystemExit("REDIS_URL must name a db number of the run's own, e.g. /8")
        self.redis_url = self.args.redis_url
        self.gunicorn_port, self.smtp_port = free_port(), free_port()
        self.webhook_secret = "whsec_" + secrets.token_hex(16)
        self.connect_webhook_secret = "whsec_" + secrets.token_hex(16)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "MAIS_"))}
        env.update({
            "MAIS_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": urlunsplit(parts._replace(path=f"/{self.database}")),
            "REDIS_URL": self.redis_url, "MAIS_QUEUE_NAME": f"mais-chaos-{os.getpid()}",
            "MAIS_INSTANCE_PATH": str(self.folder / "instance"),
            "SMTP_URL": f"smtp://127.0.0.1:{self.smtp_port}",
            "BASE_URL": f"http://127.0.0.1:{self.gunicorn_port}",
            "STRIPE_SECRET_KEY": "sk_test_chaos", "STRIPE_PUBLISHABLE_KEY": "pk_test_chaos",
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            "STRIPE_CONNECT_WEBHOOK_SECRET": self.connect_webhook_secret,
            "RATELIMIT_ENABLED": "0",  # every simulated couple comes from 127.0.0.1
            # A timeout fault answers after 2.5 s: the client gives up first (the charge or
            # refund still happens at "Stripe", the dangerous case the keys must absorb).
            "STRIPE_TIMEOUT_SECONDS": "1.5",
            "EMAIL_RETRY_BASE_SECONDS": "1", "REFUND_RETRY_BASE_SECONDS": "1",
            "REFUND_MAX_ATTEMPTS": "10",
            # "After 10 minutes" within the run: the sweepers take stuck work back sooner.
            "EMAIL_STUCK_AFTER_SECONDS": "20", "EMAIL_SWEEP_GRACE_SECONDS": "10",
            "REFUND_STUCK_AFTER_SECONDS": "20",
            "REFUND_RECHECK_AFTER_SECONDS": "10", "REMINDER_STUCK_AFTER_SECONDS": "20",
            "STRIPE_EVENT_STUCK_AFTER_SECONDS": "20", "DOCUMENT_LOST_AFTER_SECONDS": "20",
            "PYTHONPATH": str(ROOT),
        })
        return env

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')

    def drop_database(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def flush_redis(self) -> None:
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()  # the run's own db only

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        env = self.environment()
        self.create_database()
        self.flush_redis()
        import logging

        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.smtp = Controller(self.sink, hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()
        self.stack = Stack(env, self.folder, self.gunicorn_port, self.args.consumers)
        self.sim_url = self.stack.start_sim(f"{env['BASE_URL']}/webhooks/stripe", self.webhook_secret,
                                            self.connect_webhook_secret)
        env["STRIPE_API_BASE"] = self.sim_url
        os.environ.update(env)  # this process is the owners' dashboard and the couples' browser
        from stripe_sim import SimControl

        self.control = SimControl(self.sim_url)
        from app import create_app

        self.app = create_app()
        with self.app.app_context():
            import flask_migrate

            flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        self.seed()
        self.stack.start_gunicorn()
        for index in range(self.args.consumers):
            self.stack.start_consumer(index)
        self.wait_for_web()

    def wait_for_web(self) -> None:
        import requests

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer within 60 s; see " + str(self.folder))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.gunicorn_port}"

    def seed(self) -> None:
        """Two tenants (capacity 2 a day), and bookings whose reminders fall due in the run."""
        from sqlalchemy import select, update

        from app.extensions import db
        from app.models import Booking, Reminder
        from app.services.bookings import availability
        from app.services.bookings import lifecycle as bookings
        from app.services.shared import clock
        from app.web.links import WebLinks

        self.tenants = []
        links = WebLinks(self.app)
        with self.app.app_context():
            s = db.session
            for slug, name, currency, tz in TENANTS:
                self.tenants.append(seed_vendor(s, slug, name, currency, tz, capacity_per_day=2))
            count = self.args.reminder_bookings
            for i in range(count):
                tenant = self.tenants[i % len(self.tenants)]
                request = bookings.BookingRequest(
                    couple_names=f"Seeded couple {i}", email=f"seeded{i}@couples.example",
                    event_date=availability.local_today(s, tenant["id"]) + timedelta(days=300 + i // 4),
                    venue="Hall", package_id=tenant["package_id"])
                bookings.create_booking(s, tenant["id"], request, links, actor="user",
                                        actor_user_id=tenant["user_id"], initial_status="confirmed")
            seeded = list(s.scalars(select(Booking.id).where(Booking.email.like("seeded%"))))
            ids = list(s.scalars(select(Reminder.id).where(Reminder.booking_id.in_(seeded),
                                                           Reminder.status == "scheduled")))
            now = clock.now()
            for rid in ids:  # "the clock set so that they fall in the run"
                due = now + timedelta(seconds=self.rng.uniform(5, self.args.seconds))
                s.execute(update(Reminder).where(Reminder.id == rid).values(
                    due_at=due, next_attempt_at=due, window_ends_at=due + timedelta(days=2)))
            s.commit()
            s.remove()
        self.figures["reminders seeded"] = len(ids)
        log(f"seeded {len(self.tenants)} tenants, {count} confirmed bookings, {len(ids)} reminders")

    # -- load ---------------------------------------------------------------------------------------

    def couple(self, index: int) -> None:
        import requests

        rng = random.Random(self.args.seed * 1000 + index)
        http = requests.Session()
        journey = 0
        while not self.stop_load.is_set() and journey < 10_000:
            journey += 1
            try:
                self.journey(rng, http, f"c{index}-{journey}")
            except Exception as exc:  # noqa: BLE001 (counted and shown: the load keeps going)
                self.count("driver errors")
                if self.figures["driver errors"] <= 5:
                    log(f"couple {index}: {type(exc).__name__}: {exc}")

    def count(self, name: str, n: int = 1) -> None:
        with self.ledger_lock:
            self.figures[name] += n

    def journey(self, rng: random.Random, http, name: str) -> None:
        from app.extensions import db
        from app.models import PaymentStage
        from app.services.bookings import availability
        from app.services.bookings import lifecycle as bookings
        from app.services.shared.errors import DomainError
        from app.web.links import WebLinks

        tenant = rng.choice(self.tenants)
        links = WebLinks(self.app)
        address = f"{name}@couples.example"
        with self.app.app_context():
            today = availability.local_today(db.session, tenant["id"])
            day = today + timedelta(days=40 + self.pick_day(rng))
            request = bookings.BookingRequest(couple_names=f"Couple {name}", email=address,
                                              event_date=day, venue="Garden",
                                              package_id=tenant["package_id"])
            try:
                booking = bookings.create_booking(db.session, tenant["id"], request, links)
                booking_id = booking.id
                self.count("bookings made")
            except DomainError:
                self.count("bookings refused (date taken)")
                return
            finally:
                db.session.remove()
        for kind in ("deposit", "balance"):
            if kind == "balance" and (rng.random() < 0.35 or not self.deposit_recorded(booking_id)):
                break
            with self.app.app_context():
                stage = db.session.query(PaymentStage).filter_by(booking_id=booking_id, kind=kind).first()
                stage_id = stage.id if stage else None
                db.session.remove()
            if stage_id is None or not self.pay(rng, http, tenant, stage_id):
                break
        roll = rng.random()
        if roll < 0.2:
            self.reschedule(rng, tenant, address, today)
        elif roll < 0.35:
            self.cancel(tenant, address)
        elif roll < 0.6:
            self.owner_refund(rng, tenant, booking_id)

    def pick_day(self, rng: random.Random) -> int:
        """A third of the couples want one of a few popular dates (they collide); the others
        spread over two years, so the load does not end in a calendar with no free date."""
        if rng.random() < 0.33:
            return rng.randrange(self.args.dates)
        return rng.randrange(self.args.dates, 650)

    def deposit_recorded(self, booking_id: int, timeout: float = 20.0) -> bool:
        """The couple comes back for the balance once the deposit shows as paid."""
        from app.extensions import db
        from app.models import PaymentStage

        deadline = time.monotonic() + timeout
        while not self.stop_load.is_set() and time.monotonic() < deadline:
            with self.app.app_context():
                paid = db.session.query(PaymentStage).filter_by(
                    booking_id=booking_id, kind="deposit", status="paid").count()
                db.session.remove()
            if paid:
                return True
            time.sleep(0.5)
        return False

    def pay(self, rng: random.Random, http, tenant: dict, stage_id: int) -> bool:
        """The couple opens the checkout page (gunicorn creates the intent at the simulator),
        confirms the card there (as Stripe.js would), and usually comes back to the return page."""
        import stripe

        from app.web.links import stage_ref

        ref = stage_ref(self.app, tenant["id"], stage_id)
        page = f"{self.base}/t/{tenant['slug']}/pay/{ref}"
        cards = ["pm_card_visa"]
        if rng.random() < 0.12:
            cards.insert(0, rng.choice(["pm_card_chargeDeclined",
                                        "pm_card_chargeDeclinedInsufficientFunds"]))
        elif rng.random() < 0.04:
            cards = ["pm_card_refundFail"]  # paid; its refunds will fail at Stripe
        client = stripe.StripeClient("sk_test_couple", base_addresses={"api": self.sim_url},
                                     max_network_retries=3,
                                     http_client=stripe.RequestsClient(timeout=5))
        for card in cards:
            intent = None
            for _ in range(4):  # a killed web worker or a Stripe fault: the couple reloads
                try:
                    response = http.get(page, timeout=15)
                except Exception:  # noqa: BLE001
                    self.count("page loads failed (retried)")
                    continue
                found = SECRET_RE.search(response.text)
                if found:
                    intent = found.group(1).split("_secret_")[0]
                    break
                if response.status_code < 400 and "paid" in response.text.lower():
                    return True
                self.count(f"checkout pages answered {response.status_code} (reloaded)")
                if response.status_code == 409:
                    (self.folder / "checkout-409.html").write_text(response.text)
            if intent is None:
                self.count("payments abandoned")
                return False
            try:
                # Stripe.js confirms on the vendor's account (direct charges).
                client.v1.payment_intents.confirm(intent, params={"payment_method": card},
                                                  options={"stripe_account": tenant["account"]})
            except stripe.CardError:
                self.count("cards declined")
                continue
            except stripe.StripeError:
                self.count("confirmations lost (Stripe fault)")
            self.count("payments confirmed")
            if rng.random() < 0.7:
                try:
                    http.get(f"{page}/return", params={"payment_intent": intent}, timeout=15)
                except Exception:  # noqa: BLE001 (the webhook records it)
                    self.count("return pages failed")
            return True
        return False

    def latest_link(self, address: str, kind: str) -> str | None:
        from sqlalchemy import select

        from app.extensions import db
        from app.models import OutboundEmail

        with self.app.app_context():
            bodies = db.session.scalars(select(OutboundEmail.text_body).where(
                OutboundEmail.to_addr == address, OutboundEmail.kind.like("booking_%"))
                .order_by(OutboundEmail.id.desc()).limit(1)).all()
            db.session.remove()
        for body in bodies:
            for token, suffix in LINK.findall(body):
                if suffix == f"/{kind}":
                    return token
        return None

    def reschedule(self, rng: random.Random, tenant: dict, address: str, today) -> None:
        from app.extensions import db
        from app.services.bookings import actions
        from app.services.shared.errors import DomainError
        from app.web.links import WebLinks

        token = self.latest_link(address, "reschedule")
        if token is None:
            return
        with self.app.app_context():
            try:
                actions.reschedule_by_link(db.session, tenant["id"], token,
                                           today + timedelta(days=40 + self.pick_day(rng)),
                                           WebLinks(self.app))
                self.count("reschedules")
            except DomainError:
                self.count("reschedules refused")
            finally:
                db.session.remove()

    def cancel(self, tenant: dict, address: str) -> None:
        from app.extensions import db
        from app.services.bookings import actions
        from app.services.shared.errors import DomainError
        from app.web.links import WebLinks

        token = self.latest_link(address, "cancel")
        if token is None:
            return
        with self.app.app_context():
            try:
                actions.cancel_by_link(db.session, tenant["id"], token, WebLinks(self.app))
                self.count("cancellations")
            except DomainError:
                self.count("cancellations refused")
            finally:
                db.session.remove()

    def owner_refund(self, rng: random.Random, tenant: dict, booking_id: int) -> None:
        from app.extensions import db
        from app.services.refunds import requests as refunds
        from app.services.shared.errors import DomainError
        from app.web.links import WebLinks

        with self.app.app_context():
            try:
                left = refunds.refundable_minor(db.session, tenant["id"], booking_id)
                if left <= 0:
                    return
                amount = max(1, int(left * rng.choice([0.1, 0.25, 0.5, 1.0])))
                refunds.request_refund(db.session, tenant["id"], booking_id, amount,
                                       "requested_by_customer", "", WebLinks(self.app),
                                       actor_user_id=tenant["user_id"])
                self.count("owner refunds")
            except DomainError:
                self.count("owner refunds refused")
            finally:
                db.session.remove()

    # -- faults -------------------------------------------------------------------------------------

    def faults(self, started: float) -> None:
        """Kills, one FLUSHDB half-way, one gunicorn worker a third of the way in."""
        seconds, kills = self.args.seconds, self.args.kills
        gap = seconds / (kills + 1)
        plan = sorted(min(seconds - 1, max(1.0, gap * (i + 1) + self.rng.uniform(-0.4, 0.4) * gap))
                      for i in range(kills))
        events = [(t, "kill") for t in plan] + [(seconds / 2, "flush"), (seconds / 3, "gunicorn")]
        for at, what in sorted(events):
            if self.stop_load.wait(max(0.0, started + at - time.monotonic())):
                break
            if what == "kill":
                index = self.rng.randrange(self.args.consumers)
                self.kill_times.append(time.time())
                self.stack.kill_consumer(index)
                self.stack.start_consumer(index)
            elif what == "flush":
                self.flush_redis()
                self.flushes += 1
                log("FLUSHDB of the run's Redis db")
            else:
                workers = self.stack.gunicorn_workers()
                if workers:
                    os.kill(self.rng.choice(workers), signal.SIGKILL)
                    self.gunicorn_kills += 1
                    log("killed a gunicorn worker")

    def replay_webhooks(self) -> None:
        """Stripe delivers at least once and in any order: send recent events again, shuffled."""
        import requests
        import stripe

        from stripe_sim.webhooks import sign

        client = stripe.StripeClient("sk_test_replay", base_addresses={"api": self.sim_url},
                                     max_network_retries=3)
        rng = random.Random(self.args.seed + 7)
        rounds = 0
        while not self.stop_load.wait(rng.uniform(0.5, 1.5)) and rounds < 100_000:
            rounds += 1
            account = rng.choice(list(ACCOUNTS.values()))
            try:
                events = client.v1.events.list(params={"limit": 30},
                                               options={"stripe_account": account}).to_dict()["data"]
            except stripe.StripeError:
                continue
            picked = rng.sample(events, min(len(events), rng.randint(1, 4)))
            rng.shuffle(picked)
            for event in picked:
                event.setdefault("account", account)  # as Stripe delivers Connect events
                body = json.dumps(event)
                try:
                    requests.post(f"{self.base}/webhooks/stripe/connect", data=body, timeout=10, headers={
                        "Stripe-Signature": sign(body, self.connect_webhook_secret),
                        "Content-Type": "application/json"})
                    self.replayed += 1
                except requests.RequestException:
                    pass

    def load(self) -> None:
        self.control.fail_rate(500, 0.04, path_prefix="/v1/", seed=self.args.seed)
        self.control.fail_rate(429, 0.03, path_prefix="/v1/")
        self.control.fail_rate("timeout", 0.03, path_prefix="/v1/", delay=2.5, then="answer")
        started = time.monotonic()
        self.t0 = time.time()
        workers = [threading.Thread(target=self.couple, args=(i,), daemon=True)
                   for i in range(self.args.couples)]
        workers.append(threading.Thread(target=self.replay_webhooks, daemon=True))
        faults = threading.Thread(target=self.faults, args=(started,), daemon=True)
        for t in [*workers, faults]:
            t.start()
        log(f"load and faults for {self.args.seconds:.0f} s")
        deadline = started + self.args.seconds
        while time.monotonic() < deadline:
            time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
        self.stop_load.set()
        faults.join(30)
        for t in workers:
            t.join(60)
        self.stripe_faults = self.control.faults_injected()
        self.stripe_calls = len(self.control.requests("/v1/"))
        self.control.clear_faults()
        for index, proc in enumerate(self.stack.consumers):  # every consumer up for the drain
            if proc is None or proc.poll() is not None:
                self.stack.start_consumer(index)

    # -- drain --------------------------------------------------------------------------------------

    def unfinished(self) -> dict[str, int]:
        from sqlalchemy import func, select

        from app.extensions import db
        from app.models import (
            Document,
            OutboundEmail,
            PaymentStage,
            RefundPart,
            RefundRequest,
            Reminder,
            StripeEvent,
        )
        from app.services.invoices import credit_notes
        from app.services.shared import clock

        now = clock.now()
        with self.app.app_context():
            s = db.session
            n = {
                "payments in flight": s.scalar(select(func.count()).where(PaymentStage.status == "processing")),
                "stripe events unprocessed": s.scalar(select(func.count()).where(
                    StripeEvent.status.in_(("received", "failed")))),
                "refund parts unfinished": s.scalar(select(func.count()).where(
                    RefundPart.status.in_(("pending", "processing")))),
                "refund requests unfinished": s.scalar(select(func.count()).where(
                    RefundRequest.status.in_(("pending", "processing")))),
                "emails unsent": s.scalar(select(func.count()).where(
                    OutboundEmail.status.in_(("pending", "sending", "failed")))),
                "reminders unsent": s.scalar(select(func.count()).where(
                    Reminder.status.in_(("sending", "failed")) | (
                        (Reminder.status == "scheduled") & (Reminder.due_at <= now)))),
                "documents unfinished": s.scalar(select(func.count()).where(
                    Document.pdf_sha256.is_(None) | (Document.sent_at.is_(None) & (Document.kind != "receipt")))),
                "credit notes missing": len(credit_notes.parts_without_credit_note(s)),
            }
            s.remove()
        return n

    def drain(self) -> None:
        """The sweepers' time: enqueue every sweeper every few seconds until nothing is left."""
        from app.tasks.bookings import release_expired_holds
        from app.tasks.email import sweep_outbox
        from app.tasks.invoices import sweep_documents
        from app.tasks.payments import reconcile_processing_payments, sweep_stripe_events
        from app.tasks.refunds import sweep_refunds
        from app.tasks.reminders import dispatch_reminders

        sweepers = (sweep_stripe_events, reconcile_processing_payments, sweep_refunds,
                    sweep_documents, dispatch_reminders, sweep_outbox, release_expired_holds)
        from app.queue import huey

        deadline = time.monotonic() + self.args.drain
        quiet = 0
        left: dict[str, int] = {}
        while time.monotonic() < deadline:
            # Like the minute crontab, but as soon as the queue is nearly empty: sweeping into a
            # backlog would only queue the same rows again.
            if huey.pending_count() < 20:
                for sweeper in sweepers:
                    sweeper()
            self.control.wait_for_webhooks(timeout=2)
            time.sleep(3)
            left = self.unfinished()
            quiet = quiet + 1 if not any(left.values()) else 0
            if quiet >= 2:
                break
        self.drain_left = left
        log(f"drained: {left}; queue length {huey.pending_count()}")

    # -- the reckoning ------------------------------------------------------------------------------

    def reckon(self) -> dict[str, int]:
        import stripe
        from sqlalchemy import select

        from app.extensions import db
        from app.models import (
            Booking,
            CheckoutIntent,
            Document,
            DocumentCounter,
            OutboundEmail,
            Payment,
            RefundPart,
            RefundRequest,
            Reminder,
        )

        client = stripe.StripeClient("sk_test_audit", base_addresses={"api": self.sim_url},
                                     max_network_retries=3)
        intents, refunds = [], []
        for account in ACCOUNTS.values():  # every charge and refund lives on a vendor's account
            options = {"stripe_account": account}
            intents += [pi.to_dict() for pi in client.v1.payment_intents.list(
                params={"limit": 100}, options=options).auto_paging_iter()]
            refunds += [r.to_dict() for r in client.v1.refunds.list(
                params={"limit": 100}, options=options).auto_paging_iter()]
        with self.app.app_context():
            s = db.session
            bookings = s.scalars(select(Booking)).all()
            payments = s.scalars(select(Payment).where(Payment.method == "card")).all()
            checkout = {c.stripe_id: c for c in s.scalars(select(CheckoutIntent))}
            parts = s.scalars(select(RefundPart)).all()
            requests_n = len(s.scalars(select(RefundRequest.id)).all())
            emails = s.scalars(select(OutboundEmail)).all()
            reminders = Counter(s.scalars(select(Reminder.status)))
            documents = s.execute(select(Document.tenant_id, Document.kind, Document.series,
                                         Document.seq)).all()
            counters = {(c.tenant_id, c.kind, c.series): c.last_number
                        for c in s.scalars(select(DocumentCounter))}
            booking_totals = {b.id: b.total_minor for b in bookings}
            booking_status = Counter(b.status for b in bookings)
            s.remove()
        figures: dict[str, int] = {}
        # Charges: one succeeded intent per stage, every one recorded once, none above the total.
        succeeded = [pi for pi in intents if pi["status"] == "succeeded"]
        per_stage: Counter = Counter()
        per_booking: Counter = Counter()
        unknown_charges = 0
        for pi in succeeded:
            row = checkout.get(pi["id"])
            if row is None:
                unknown_charges += 1
                continue
            for stage_id in row.stage_ids:
                per_stage[stage_id] += 1
            per_booking[row.booking_id] += pi["amount"]
        recorded = {p.stripe_payment_intent_id: p for p in payments}
        figures["double charges"] = sum(n - 1 for n in per_stage.values() if n > 1) + sum(
            1 for b, paid in per_booking.items() if paid > booking_totals.get(b, 0))
        # Refunds: one Stripe refund per part, none above what was captured.
        live_refunds = [r for r in refunds if r["status"] not in ("failed", "canceled")]
        per_part = Counter(r["metadata"].get("refund_part_id") for r in live_refunds)
        figures["double refunds"] = sum(n - 1 for n in per_part.values() if n > 1)
        refunded_at_stripe: Counter = Counter()
        for r in live_refunds:
            refunded_at_stripe[r["payment_intent"]] += r["amount"]
        amounts = {pi["id"]: pi["amount"] for pi in succeeded}
        figures["refunds above captured"] = sum(
            1 for pi_id, total in refunded_at_stripe.items() if total > amounts.get(pi_id, 0)) + sum(
            1 for p in payments if p.refunded_minor + p.refund_pending_minor > p.amount_minor)
        # Reconciliation: our rows against the simulator's.
        succeeded_refunds = {r["id"]: r for r in refunds if r["status"] == "succeeded"}
        ours_succeeded = {p.stripe_refund_id: p for p in parts if p.status == "succeeded"}
        diff = len(set(recorded) ^ {pi["id"] for pi in succeeded}) + unknown_charges
        diff += sum(1 for pi_id, p in recorded.items() if pi_id in amounts and amounts[pi_id] != p.amount_minor)
        diff += len(set(succeeded_refunds) ^ set(ours_succeeded))
        diff += sum(1 for rid, p in ours_succeeded.items()
                    if rid in succeeded_refunds and succeeded_refunds[rid]["amount"] != p.amount_minor)
        stripe_refunded: Counter = Counter()
        for r in succeeded_refunds.values():
            stripe_refunded[r["payment_intent"]] += r["amount"]
        diff += sum(1 for p in payments if p.refunded_minor != stripe_refunded.get(p.stripe_payment_intent_id, 0))
        figures["reconciliation differences"] = diff
        # Emails: everything sent was received, duplicates only inside the documented window.
        with self.sink.lock:
            accepted = list(self.sink.accepted)
        copies: dict[str, list[float]] = defaultdict(list)
        for message_id, _, _, at in accepted:
            copies[message_id].append(at)
        duplicates_inside = duplicates_beyond = 0
        for times in copies.values():
            extra = len(times) - 1
            if extra and any(abs(k - min(times)) <= DUPLICATE_WINDOW for k in self.kill_times):
                duplicates_inside += extra
            else:
                duplicates_beyond += extra
                if extra:
                    nearest = min((k - min(times) for k in self.kill_times), key=abs, default=None)
                    log(f"duplicate beyond the window: copies at {[round(t - self.t0, 3) for t in times]}"
                        f" s into the run; nearest kill {nearest and round(nearest, 3)} s after the first")
        figures["duplicate emails beyond the Message-ID window"] = duplicates_beyond
        sent = [e for e in emails if e.status == "sent"]
        received = {m.strip("<>").split(".", 1)[0] for m in copies}
        figures["emails recorded sent but never received"] = len(
            {f"outbox-{e.id}" for e in sent} - received)
        # From the server's acceptance of the copy we recorded to our record of it.
        windows = sorted(
            (e.sent_at.timestamp() - max(t for t in copies[mid] if t <= e.sent_at.timestamp() + 1))
            * 1000 for e in sent for mid in [f"<outbox-{e.id}.{e.tenant_id}@127.0.0.1>"]
            if mid in copies)
        # Invoice numbers: per series, 1..n with no gap or duplicate, n = the counter.
        series: dict[tuple, list[int]] = defaultdict(list)
        for tenant_id, kind, name, seq in documents:
            series[(tenant_id, kind, name)].append(seq)
        gaps = 0
        for key, seqs in series.items():
            gaps += len(seqs) - len(set(seqs))
            gaps += len(set(range(1, counters.get(key, 0) + 1)) ^ set(seqs))
        figures["invoice number gaps or duplicates"] = gaps
        lost = self.unfinished()
        figures["lost work"] = sum(lost.values())
        self.report = {
            "counts": {
                "bookings": len(bookings), "bookings by status": dict(booking_status),
                "payments (card)": len(payments), "refund requests": requests_n,
                "refund parts": len(parts), "emails sent": len(sent),
                "emails received by the sink": len(accepted),
                "duplicate emails inside the window": duplicates_inside,
                "reminders": dict(reminders), "documents": len(documents),
                "consumer kills": len(self.kill_times), "redis flushes": self.flushes,
                "gunicorn workers killed": self.gunicorn_kills,
                "stripe calls": self.stripe_calls, "stripe faults": dict(self.stripe_faults),
                "webhooks replayed": self.replayed,
                "send-to-record window ms (p50/p99/max)": [
                    round(windows[len(windows) // 2], 1) if windows else 0,
                    round(windows[int(len(windows) * 0.99)], 1) if windows else 0,
                    round(windows[-1], 1) if windows else 0],
                **dict(self.figures)},
            "lost work by kind": lost,
            "zero goals": figures,
        }
        return figures

    def print_report(self) -> None:
        counts = self.report["counts"]
        width = max(len(k) for k in [*counts, *self.report["zero goals"], *self.report["lost work by kind"]])
        print("\n== chaos run: what happened ==")
        for key, value in counts.items():
            print(f"  {key:<{width}}  {value}")
        calls, faults = counts["stripe calls"], sum(counts["stripe faults"].values())
        print(f"  {'stripe fault share':<{width}}  {faults / calls:.1%}" if calls else "")
        print("== lost work by kind ==")
        for key, value in self.report["lost work by kind"].items():
            print(f"  {key:<{width}}  {value}")
        print("== must be zero ==")
        for key, value in self.report["zero goals"].items():
            print(f"  {key:<{width}}  {value}{'' if value == 0 else '   <-- NOT ZERO'}")

    def close(self) -> None:
        self.stop_load.set()
        if hasattr(self, "stack"):
            self.stack.stop()
        if hasattr(self, "smtp"):
            self.smtp.stop()
        if hasattr(self, "database"):
            try:
                from app.extensions import db

                with self.app.app_context():
                    db.engine.dispose()
            except Exception:  # noqa: BLE001 (the app may not have started)
                pass
            if not self.args.keep:
                self.drop_database()
        if hasattr(self, "redis_url"):
            self.flush_redis()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300, help="load and faults (default 300)")
    parser.add_argument("--kills", type=int, default=60, help="consumer SIGKILLs (default 60)")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--couples", type=int, default=6, help="concurrent couples (threads)")
    parser.add_argument("--dates", type=int, default=10, help="popular dates a third of couples want")
    parser.add_argument("--reminder-bookings", type=int, default=600,
                        help="confirmed bookings whose reminders fall due in the run")
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--drain", type=float, default=600, help="most seconds for the sweepers")
    parser.add_argument("--keep", action="store_true", help="keep the database for inspection")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--database-url", default=os.environ.get(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get("CHAOS_REDIS_URL",
                                                              "redis://127.0.0.1:6379/8"))
    args = parser.parse_args(argv)
    run = Chaos(args)
    try:
        run.start()
        run.load()
        run.drain()
        goals = run.reckon()
    finally:
        run.close()
    run.print_report()
    log(f"process logs in {run.folder}")
    if args.json:
        Path(args.json).write_text(json.dumps(run.report, indent=2, default=str))
    return 0 if not any(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
