"""Webhook intake throughput: verify the signature and store the event, as /webhooks/stripe does.

    .venv/bin/python bench/webhooks.py [--events 2000] [--http]

Uses a throwaway SQLite database (or DATABASE_URL) in a temporary instance folder. Prints events
per second for verify + store through the service (and, with --http, through the Flask test
client, which adds routing and JSON). Nothing is processed: the queue is not running.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--http", action="store_true", help="also measure through the Flask route")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="mais-bench-")
    os.environ.setdefault("MAIS_INSTANCE_PATH", folder)
    os.environ.setdefault("MAIS_HUEY_PATH", os.path.join(folder, "huey.db"))
    os.environ.pop("STRIPE_SECRET_KEY", None)

    import flask_migrate

    from app import create_app
    from app.adapters.stripe_gateway import gateway_for
    from app.extensions import db
    from app.services.payments import events as stripe_events
    from stripe_sim.webhooks import sign

    app = create_app({"TESTING": True})
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    with app.app_context():
        flask_migrate.upgrade()
    gateway = gateway_for(app)

    def body(n: int, run: str) -> tuple[bytes, str]:
        event = {"id": f"evt_bench_{run}_{n:08d}", "object": "event", "type": "payment_intent.succeeded",
                 "created": int(time.time()), "data": {"object": {
                     "id": f"pi_bench_{n}", "object": "payment_intent", "amount": 75000,
                     "currency": "usd", "status": "succeeded", "metadata": {"tenant_id": "1"}}}}
        payload = json.dumps(event)
        return payload.encode(), sign(payload, secret)

    from app.queue import huey

    huey.immediate = False
    enqueue = huey.enqueue
    huey.enqueue = lambda task: None  # measure intake only: the queue is not part of it

    bodies = [body(n, "svc") for n in range(args.events)]
    with app.app_context():
        started = time.perf_counter()
        for payload, header in bodies:
            event = gateway.verify_event(payload, header)
            stripe_events.record_event(db.session, event)
        elapsed = time.perf_counter() - started
        db.session.remove()
    backend = app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0]
    print(f"verify + store ({backend}): {args.events} events in {elapsed:.2f}s = "
          f"{args.events / elapsed:,.0f} events/s")

    if args.http:
        client = app.test_client()
        bodies = [body(n, "http") for n in range(args.events)]
        started = time.perf_counter()
        for payload, header in bodies:
            response = client.post("/webhooks/stripe", data=payload,
                                   headers={"Stripe-Signature": header}, content_type="application/json")
            assert response.status_code == 200, response.status_code
        elapsed = time.perf_counter() - started
        print(f"POST /webhooks/stripe ({backend}): {args.events} events in {elapsed:.2f}s = "
              f"{args.events / elapsed:,.0f} events/s")
    huey.enqueue = enqueue


if __name__ == "__main__":
    main()
