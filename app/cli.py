"""Operator commands: `flask --app wsgi seed-demo`, `flask --app wsgi run-embedded`."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click
from flask import Flask, current_app

from app.extensions import db

DEMO_PASSWORD = "demo-password-1"
DEMO_TENANTS = (
    # slug, business, timezone, currency, owner email
    ("lumiere", "Lumière Photography", "America/New_York", "USD", "owner@lumiere.example"),
    ("sakura", "Sakura Events", "Asia/Tokyo", "JPY", "owner@sakura.example"),
)


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(run_embedded)


@click.command("seed-demo")
def seed_demo() -> None:
    """Create the demo tenants and owners once; print their logins."""
    from app.services import accounts, tenants

    for slug, name, tz, currency, owner in DEMO_TENANTS:
        if not tenants.email_taken(db.session, owner):
            accounts.signup(db.session, business_name=name, slug=slug, timezone=tz,
                            currency=currency, email_addr=owner, password=DEMO_PASSWORD,
                            owner_name="Demo Owner")
    base = current_app.config["BASE_URL"]
    click.echo("\nDemo logins (password for both: %s):" % DEMO_PASSWORD)
    for slug, name, *_, owner in DEMO_TENANTS:
        click.echo(f"  {name:<22} {owner:<26} public page {base}/t/{slug}/")
    click.echo(f"Log in at {base}/auth/login ; emails appear at {base}/dev/mailbox\n")


@click.command("run-embedded")
@click.option("--port", default=None, type=int, help="Web port (default PORT or 5000).")
def run_embedded(port: int | None) -> None:
    """Start the web server, a Huey consumer and the Stripe simulator; Ctrl-C stops all three."""
    config = current_app.config
    port = port or config["PORT"]
    env = dict(os.environ, PORT=str(port))
    sim_port = env.setdefault("STRIPE_SIM_PORT", "5010")
    webhook = f"http://127.0.0.1:{port}/webhooks/stripe={config['STRIPE_WEBHOOK_SECRET']}"
    python = sys.executable
    commands = []
    if config["PAYMENTS_MODE"] == "simulator":
        commands.append([python, "-m", "stripe_sim", "--host", "127.0.0.1", "--port", sim_port,
                         "--state", os.path.join(config["INSTANCE_PATH"], "stripe_sim.json"),
                         "--webhook", webhook])
    commands.append([python, "-m", "huey.bin.huey_consumer", "wsgi.huey", "-w", "2", "-k", "thread"])
    commands.append([python, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1",
                     "--port", str(port), "--no-reload"])
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
