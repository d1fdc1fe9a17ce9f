"""State survives a restart with a state file; the CLI serves the simulator."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import stripe

from stripe_sim import SimControl, create_app, serve
from tests.fixtures.stripe_sim import make_client

from .helpers import paid_intent


def test_state_file_survives_restart(tmp_path: Path) -> None:
    state = tmp_path / "sim.json"
    first = serve(create_app(str(state), refund_delay=None))
    try:
        client = make_client("sk_test_persist", first.url)
        pi = paid_intent(client, 7000, metadata={"booking_id": "9"})
        refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 2000},
                                          options={"idempotency_key": "refund-row-1"})
    finally:
        first.stop()
    assert json.loads(state.read_text())["objects"]["payment_intent"][pi.id]["amount"] == 7000

    second = serve(create_app(str(state), refund_delay=0.05))
    try:
        client = make_client("sk_test_persist", second.url)
        again = client.v1.payment_intents.retrieve(pi.id)
        assert (again.status, again.metadata["booking_id"]) == ("succeeded", "9")
        replay = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 2000},
                                          options={"idempotency_key": "refund-row-1"})
        assert replay.id == refund.id
        assert client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 2000
        # The pending refund is settled by the restarted simulator's timer.
        for _ in range(100):
            if client.v1.refunds.retrieve(refund.id).status == "succeeded":
                break
            time.sleep(0.01)
        assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    finally:
        second.stop()


def test_cli_serves_on_a_free_port(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "stripe_sim", "--port", "0", "--state",
         str(tmp_path / "cli.json"), "--webhook", "http://127.0.0.1:9/hook=whsec_cli"],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[3])
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("stripe_sim listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1].strip()
        client = make_client("sk_test_cli", url)
        pi = client.v1.payment_intents.create(params={"amount": 5000, "currency": "eur"})
        assert isinstance(pi, stripe.PaymentIntent) and pi.currency == "eur"

        hooks = SimControl(url).webhooks()
        assert [(h["url"], h["secret"], h["configured"]) for h in hooks] == [
            ("http://127.0.0.1:9/hook", "whsec_cli", True)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
    assert (tmp_path / "cli.json").exists()
