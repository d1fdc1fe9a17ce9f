"""``python -m stripe_sim``: serve the simulator (embedded default, manual testing).

Example:
    python -m stripe_sim --port 12111 --state instance/stripe_sim.json \
        --webhook http://127.0.0.1:5000/webhooks/stripe=whsec_dev
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from .app import create_app
from .server import serve


def _webhook(value: str) -> tuple[str, str]:
    url, sep, secret = value.rpartition("=")
    if not sep or not url or not secret.startswith("whsec_"):
        raise argparse.ArgumentTypeError("expected URL=whsec_SECRET")
    return url, secret


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stripe_sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument("--state", default=None, help="JSON state file (default: in memory)")
    parser.add_argument("--webhook", action="append", type=_webhook, default=[],
                        metavar="URL=whsec_SECRET", help="repeatable")
    parser.add_argument("--connect-webhook", action="append", type=_webhook, default=[],
                        metavar="URL=whsec_SECRET",
                        help="a Connect endpoint (connected accounts' events); repeatable")
    parser.add_argument("--seed-account", action="append", default=[], metavar="ACCT_ID",
                        help="an onboarded connected account to create if missing; repeatable")
    parser.add_argument("--refund-delay", type=float, default=float(
        os.environ.get("STRIPE_SIM_REFUND_DELAY", "0.2")),
        help="seconds before a pending refund settles; negative = only via /_sim/")
    parser.add_argument("--webhook-retry-base", type=float, default=1.0)
    parser.add_argument("--webhook-max-attempts", type=int, default=8)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    app = create_app(args.state, args.webhook,
                     refund_delay=None if args.refund_delay < 0 else args.refund_delay,
                     webhook_retry_base=args.webhook_retry_base,
                     webhook_max_attempts=args.webhook_max_attempts,
                     connect_webhooks=args.connect_webhook, seed_accounts=args.seed_account)
    running = serve(app, args.host, args.port, quiet=not args.verbose)
    # One parseable line so a parent process can learn the port when it passed 0.
    print(f"stripe_sim listening on {running.url}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
