"""Operator commands: `flask --app wsgi seed-demo`, `run-embedded`, `money-check`."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.config import PROJECT_ROOT, simulator_port
from app.extensions import db

DEMO_PASSWORD = "demo-password-1"
DEMO_TENANTS = (
    # slug, business, timezone, currency, owner email
    ("lumiere", "Lumière Photography", "America/New_York", "USD", "owner@lumiere.example"),
    ("sakura", "Sakura Events", "Asia/Tokyo", "JPY", "owner@sakura.example"),
    ("bloom", "Bloom Florals", "Europe/Paris", "EUR", "owner@bloom.example"),
)
# Demo tenants whose Stripe account is already connected in the simulator (`run-embedded` creates
# these accounts there, onboarded); Bloom is left unconnected to show that state.
DEMO_CONNECTED = {"lumiere": "acct_1DemoLumiere00", "sakura": "acct_1DemoSakura000"}
DEMO_CATALOG = {
    # slug: ([(package, description, price)], [(add-on, price, package index or None)])
    "lumiere": ([("Full day", "Getting ready to first dance, 10 hours, online gallery.", "3200.00"),
                 ("Ceremony", "Ceremony and portraits, 3 hours.", "1450.00")],
                [("Printed album", "450.00", None), ("Second photographer", "600.00", 0)]),
    "sakura": ([("Garden ceremony", "Venue styling and coordination for up to 60 guests.", "480000"),
                ("Intimate dinner", "Private dining room for up to 20 guests.", "220000")],
               [("Flower arch", "35000", None), ("Kimono dressing", "60000", 0)]),
    "bloom": ([("Bridal flowers", "Bouquet, buttonholes and ceremony arrangements.", "1800.00")],
              [("Table centrepieces", "300.00", None)]),
}


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(run_embedded)
    app.cli.add_command(money_check)


@click.command("money-check")
@with_appcontext
def money_check() -> None:
    """List tenants and amounts the currency rules refuse; exit 1 when there are any."""
    from app.services.accounts import currency_review

    findings = currency_review.review(db.session)
    for f in findings:
        click.echo(f"tenant {f.tenant_id} ({f.slug}): {f.problem}")
    if findings:
        sys.exit(1)
    click.echo("Every tenant's currency and open amounts follow Stripe's currency rules.")


@click.command("seed-demo")
def seed_demo() -> None:
    """Create the demo tenants and owners once; print their logins."""
    from app.services.accounts import tenants
    from app.services.accounts import users as accounts

    for slug, name, tz, currency, owner in DEMO_TENANTS:
        if not tenants.email_taken(db.session, owner):
            accounts.signup(db.session, business_name=name, slug=slug, timezone=tz,
                            currency=currency, email_addr=owner, password=DEMO_PASSWORD,
                            owner_name="Demo Owner")
        seed_demo_catalog(slug)
        if slug in DEMO_CONNECTED and current_app.config["PAYMENTS_MODE"] == "simulator":
            connect_demo_tenant(slug, DEMO_CONNECTED[slug])
    base = current_app.config["BASE_URL"]
    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    for slug, name, *_, owner in DEMO_TENANTS:
        click.echo(f"  {name:<22} {owner:<26} public page {base}/t/{slug}/")
    click.echo(f"Log in at {base}/auth/login ; emails appear at {base}/dev/mailbox\n")


def connect_demo_tenant(slug: str, account_id: str) -> None:
    """Give a demo tenant its simulator account, onboarded (once; a reconnect is left alone)."""
    from app.services.accounts import tenants
    from app.services.connect import accounts as connect_accounts
    from app.services.payments.gateway import ConnectedAccount

    tenant = tenants.get_by_slug(db.session, slug)
    if tenant.stripe_account_id:
        return
    connect_accounts.attach_account(db.session, tenant.id, ConnectedAccount(
        account_id, charges_enabled=True, payouts_enabled=True, details_submitted=True))


def seed_demo_catalog(slug: str) -> None:
    """Give a demo tenant packages and add-ons once, so its public page is bookable."""
    from app.services.accounts import tenants
    from app.services.accounts.users import team
    from app.services.bookings import catalog

    tenant = tenants.get_by_slug(db.session, slug)
    if catalog.packages(db.session, tenant.id):
        return
    owner_id = team(db.session, tenant.id)[0].id
    packages, add_ons = DEMO_CATALOG[slug]
    created = [catalog.save_package(db.session, tenant.id, owner_id, title=title, description=text,
                                    price_text=price) for title, text, price in packages]
    for title, price, index in add_ons:
        catalog.save_add_on(db.session, tenant.id, owner_id, title=title, description="", price_text=price,
                            package_id=None if index is None else created[index].id)


@click.command("run-embedded")
@click.option("--port", default=None, type=int, help="Web port (default PORT or 5000).")
def run_embedded(port: int | None) -> None:
    """Start the web server, a Huey consumer and the Stripe simulator; Ctrl-C stops all three."""
    config = current_app.config
    port = port or config["PORT"]
    env = dict(os.environ, PORT=str(port))
    sim_port = env.setdefault("STRIPE_SIM_PORT", str(simulator_port(os.environ, port)))
    webhook = f"http://127.0.0.1:{port}/webhooks/stripe={config['STRIPE_WEBHOOK_SECRET']}"
    connect_webhook = (f"http://127.0.0.1:{port}/webhooks/stripe/connect="
                       f"{config['STRIPE_CONNECT_WEBHOOK_SECRET']}")
    python = sys.executable
    commands = []
    if config["PAYMENTS_MODE"] == "simulator":
        commands.append([python, "-m", "stripe_sim", "--host", "127.0.0.1", "--port", sim_port,
                         "--state", os.path.join(config["INSTANCE_PATH"], "stripe_sim.json"),
                         "--webhook", webhook, "--connect-webhook", connect_webhook,
                         *[arg for account in DEMO_CONNECTED.values()
                           for arg in ("--seed-account", account)]])
    commands.append([python, "-m", "huey.bin.huey_consumer", "wsgi.huey", "-w", "2", "-k", "thread"])
    # The production server and settings (gunicorn.conf.py), on loopback: not Flask's dev server.
    commands.append([python, "-m", "gunicorn", "-c", str(PROJECT_ROOT / "gunicorn.conf.py"),
                     "-b", f"127.0.0.1:{port}", "wsgi:app"])
    procs = [subprocess.Popen(c, env=env) for c in commands]
    click.echo(f"MAIS is running at http://127.0.0.1:{port}/ (Ctrl-C stops it)")
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        click.echo("a component stopped; shutting down", err=True)
    except KeyboardInterrupt:
        pass
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
