"""The short chaos run (bench/chaos.py): a minute of load on the production stack with ten
consumer kills, a Redis flush, Stripe faults and a killed web worker, then nothing lost or done
twice. PostgreSQL + Redis only: it is the production stack's test."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.environment import ENV, TEST_REDIS_DB

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not (ENV.postgres and ENV.redis_url),
                    reason="the chaos run needs PostgreSQL and Redis (DATABASE_URL and REDIS_URL)")
def test_a_short_chaos_run_loses_nothing_and_doubles_nothing(tmp_path):
    # The run creates and drops a database of its own, and uses the next Redis db number
    # (it flushes that db half-way through).
    redis_url = ENV.redis_url.rsplit("/", 1)[0] + f"/{(int(TEST_REDIS_DB) + 1) % 16}"
    figures = tmp_path / "chaos.json"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "chaos.py"), "--seconds", "40", "--kills", "10",
         "--reminder-bookings", "30", "--couples", "4", "--drain", "150",
         "--database-url", ENV.admin_url, "--redis-url", redis_url, "--json", str(figures)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    report = result.stdout[-6000:] + result.stderr[-3000:]
    assert figures.exists(), report
    data = json.loads(figures.read_text())
    counts = data["counts"]
    assert counts["consumer kills"] >= 10 and counts["redis flushes"] == 1, report
    assert counts["gunicorn workers killed"] == 1 and sum(counts["stripe faults"].values()) > 0, report
    assert counts["bookings made"] > 0 and counts["payments (card)"] > 0, report
    assert counts["reminders"].get("sent", 0) >= 30 and counts["emails sent"] > 0, report
    assert data["zero goals"] == dict.fromkeys(data["zero goals"], 0), report
    assert result.returncode == 0, report
