"""A real `huey_consumer`-like process whose worker dies by SIGKILL between Stripe's refund
answer and our commit: the crash window the refund design must survive. Test use only."""
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from app.services.refunds import processing as refund_processing


def die(part_id, refund):
    print(f"killing myself after Stripe made {refund.id} for part {part_id}", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


refund_processing.after_stripe_call = die

import wsgi  # noqa: E402  (the app and the Huey instance, as huey_consumer loads them)

print("consumer up", flush=True)
wsgi.huey.create_consumer(workers=1, worker_type="thread", periodic=False, initial_delay=0.05,
                          max_delay=0.2).run()
