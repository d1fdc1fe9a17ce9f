"""`make run`'s steps, as a new user runs them: migrate, seed, start; then health and demo login."""
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from app.cli import DEMO_CONNECTED, DEMO_PASSWORD, DEMO_TENANTS
from app.config import PROJECT_ROOT
from tests.fixtures.portal import csrf_from
from tests.fixtures.smtp import free_port


def flask(*args, env):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def wait_healthy(url: str, proc, timeout: float = 30.0) -> dict:
    import json

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "run-embedded exited early"
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                return {"status": response.status, **json.loads(response.read())}
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the portal did not answer /healthz")


@pytest.fixture()
def embedded_env(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "SMTP_URL", "MAIS_HUEY_PATH")}
    env.update(MAIS_INSTANCE_PATH=str(tmp_path), PORT=str(free_port()), STRIPE_SIM_PORT=str(free_port()))
    return env


def test_embedded_default_starts_serves_and_stops_on_ctrl_c(embedded_env):
    env = embedded_env
    assert flask("db", "upgrade", env=env).returncode == 0
    seeded = flask("seed-demo", env=env)
    assert seeded.returncode == 0 and DEMO_TENANTS[0][4] in seeded.stdout and DEMO_PASSWORD in seeded.stdout
    assert flask("seed-demo", env=env).returncode == 0  # running it again keeps the data

    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "run-embedded"],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{env['PORT']}"
    try:
        health = wait_healthy(base, proc)
        assert health["status"] == 200 and health["database"] == "ok"
        assert health["queue"]["backend"] == "SqliteHuey" and health["payments"] == "simulator"

        import http.cookiejar

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        token = csrf_from(opener.open(base + "/auth/login").read().decode())
        from urllib.parse import urlencode

        body = urlencode({"email": DEMO_TENANTS[0][4], "password": DEMO_PASSWORD, "csrf_token": token})
        page = opener.open(base + "/auth/login", data=body.encode()).read().decode()
        assert DEMO_TENANTS[0][1] in page  # redirected to the dashboard of Lumière Photography
        account = opener.open(base + "/dashboard/payments-account").read().decode()
        assert 'data-state="active"' in account and "Charges enabled" in account
        # The connected demo tenants take bookings with a deposit; Bloom is not connected yet.
        assert 'name="package_id"' in opener.open(base + "/t/lumiere/").read().decode()
        assert 'data-testid="opening-soon"' in opener.open(base + "/t/bloom/").read().decode()
        import stripe

        sim = stripe.StripeClient("sk_test_x", base_addresses={
            "api": f"http://127.0.0.1:{env['STRIPE_SIM_PORT']}"})
        assert sim.v1.accounts.retrieve(DEMO_CONNECTED["lumiere"]).charges_enabled
        assert os.path.exists(os.path.join(env["MAIS_INSTANCE_PATH"], "huey.db"))
        assert os.path.exists(os.path.join(env["MAIS_INSTANCE_PATH"], "mais.db"))
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode is not None
    time.sleep(1)
    for port in (env["PORT"], env["STRIPE_SIM_PORT"]):  # web server and simulator are gone too
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
