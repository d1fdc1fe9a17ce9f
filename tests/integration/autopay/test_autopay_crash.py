"""A real consumer process SIGKILLed in the middle of an off-session charge: the charge is
retaken with the same idempotency key and each stage is charged exactly once.

The simulator holds the charge request (a "timeout" fault that still executes it, like Stripe
charging while the worker dies before it hears back); the consumer is killed while it waits, so
Stripe has the money and our database knows nothing. A new consumer retakes the stale try."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.integration.autopay.helpers import (
    charges,
    mandate,
    off_session_creates,
    pay_deposit_with_autopay,
    wait_until,
)
from tests.integration.payments.helpers import new_booking, payments_of, stages, vendor

ROOT = Path(__file__).resolve().parents[3]
STALE_SECONDS = 2


class ConsumerProcess:
    """`huey_consumer wsgi.huey`, as production runs it, on the test's database and queue."""

    def __init__(self, sim_url: str, smtp_url: str) -> None:
        self.env = {**os.environ, "STRIPE_API_BASE": sim_url, "STRIPE_SECRET_KEY": "sk_test_simulator",
                    "SMTP_URL": smtp_url, "AUTOPAY_CLAIM_STALE_SECONDS": str(STALE_SECONDS),
                    "STRIPE_RETRY_BACKOFF_SECONDS": "0.02", "STRIPE_NETWORK_RETRIES": "0",
                    "STRIPE_TIMEOUT_SECONDS": "30"}
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "huey.bin.huey_consumer", "wsgi.huey", "-w", "2", "-k", "thread",
             "-d", "0.05", "-n"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, "the consumer is not running"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


@pytest.fixture()
def worker(app, payments_sim, smtp_server):
    running = ConsumerProcess(payments_sim.url, smtp_server.url)
    running.start()
    yield running
    running.stop()


def _due_now(app, charge_id: int) -> None:
    """The stage's charge moment has come (the consumer process runs on the real clock)."""
    from app.extensions import db
    from app.models import AutopayCharge
    from app.services.shared import clock

    with app.app_context():
        db.session.execute(update(AutopayCharge).where(AutopayCharge.id == charge_id)
                           .values(next_attempt_at=clock.now() - timedelta(seconds=1)))
        db.session.commit()
        db.session.remove()


def _charges_at_stripe(sim, account, stage_id: int) -> list:
    listed = vendor(sim, account).v1.payment_intents.list(params={"limit": 100}).data
    return [pi for pi in listed if pi.metadata.to_dict().get("stage_id") == str(stage_id)
            and pi.status == "succeeded"]


@pytest.mark.parametrize("then", ["answer", "fail"])
def test_sigkill_during_the_off_session_charge_charges_each_stage_once(
        app, client, plan_shop, tenant_a, payments_sim, worker, then):
    from app.tasks.autopay import charge_autopay, sweep_autopay

    booking_id = new_booking(app, tenant_a, plan_shop.package_id, days=200)
    pay_deposit_with_autopay(app, client, payments_sim, tenant_a, booking_id)
    wait_until(lambda: (mandate(app, booking_id) or {}).get("status") == "active",
               "autopay turning on (in the consumer process)")
    second = stages(app, booking_id)[1]
    charge = charges(app, booking_id)[0]
    _due_now(app, charge["id"])

    # Stripe holds the request 4 s; "answer": it then charges anyway, "fail": it never does.
    payments_sim.control.fail_next("timeout", 1, path_prefix="/v1/payment_intents",
                                   method="POST", delay=4.0, then=then)
    charge_autopay(charge["id"])
    wait_until(lambda: off_session_creates(payments_sim), "the off-session charge reaching Stripe")
    assert charges(app, booking_id)[0]["status"] == "charging"
    worker.kill()
    wait_until(lambda: all(c["status"] is not None for c in off_session_creates(payments_sim)),
               "the simulator finishing (or dropping) the request it held")
    assert charges(app, booking_id)[0]["status"] == "charging"
    assert len(payments_of(app, booking_id)) == 1  # only the deposit: nothing recorded
    assert len(_charges_at_stripe(payments_sim, tenant_a, second["id"])) == (
        1 if then == "answer" else 0)

    worker.start()
    time.sleep(STALE_SECONDS + 0.5)  # the claim of the dead worker goes stale
    sweep_autopay()  # what the minute sweeper does
    wait_until(lambda: charges(app, booking_id)[0]["status"] == "paid",
               "the retaken try recording the payment", timeout=60)

    row = charges(app, booking_id)[0]
    assert row["attempts"] == 1  # the same try, so the same idempotency key
    keys = [c["idempotency_key"] for c in off_session_creates(payments_sim)]
    assert set(keys) == {f"stage-{second['id']}-autopay-1"}
    assert len(_charges_at_stripe(payments_sim, tenant_a, second["id"])) == 1
    card_payments = [p for p in payments_of(app, booking_id) if p["method"] == "card"]
    assert len(card_payments) == 2 and card_payments[1]["intent"] == row["intent"]
    assert stages(app, booking_id)[1]["status"] == "paid"
