"""What the HTTP benchmarks share: a throwaway database, servers started as in production, and a
bounded load generator (wrk when installed, else a small Python one).

The environment is set before `app` is imported (its Huey instance reads it at import time).
PostgreSQL: a database of its own, created and dropped. Redis: db 12 and a queue name of its own.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_REDIS_DB = "12"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BenchDatabase:
    """SQLite in a temporary folder (the embedded default), or a fresh PostgreSQL database."""

    def __init__(self, postgres_url: str | None, redis_url: str | None) -> None:
        self.folder = tempfile.mkdtemp(prefix="mais-bench-")
        self.admin_url = self.name = None
        self.env = {"MAIS_ENV": "development", "MAIS_INSTANCE_PATH": self.folder,
                    "MAIS_HUEY_PATH": os.path.join(self.folder, "huey.db"),
                    "MAIS_QUEUE_NAME": f"mais-bench-{os.getpid()}"}
        if postgres_url:
            import psycopg

            parts = urlsplit(postgres_url)
            self.admin_url = urlunsplit(parts._replace(path="/postgres"))
            self.name = f"mais_bench_{os.getpid()}_{secrets.token_hex(3)}"
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            self.env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{self.name}"))
        self.redis_url = None
        if redis_url:
            self.redis_url = urlunsplit(urlsplit(redis_url)._replace(path=f"/{BENCH_REDIS_DB}"))
            self.env["REDIS_URL"] = self.redis_url
        self.label = "PostgreSQL" if postgres_url else "SQLite"
        for name in ("DATABASE_URL", "REDIS_URL", "SMTP_URL", "STRIPE_SECRET_KEY", "BASE_URL",
                     "SECRET_KEY", "STRIPE_API_BASE", "STRIPE_SIM_PORT"):
            os.environ.pop(name, None)
        os.environ.update(self.env)

    def process_env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, **self.env, **extra}

    def flush_queue(self) -> None:
        if self.redis_url:
            import redis

            redis.Redis.from_url(self.redis_url).flushdb()

    def drop(self) -> None:
        self.flush_queue()
        if self.name:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        shutil.rmtree(self.folder, ignore_errors=True)


def start(command: list[str], env: dict[str, str], health_url: str, timeout: float = 60.0,
          cwd: Path = ROOT) -> subprocess.Popen:
    """Start a server in its own process group and wait until `health_url` answers."""
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{command[:4]} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(health_url, timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"{health_url} did not answer within {timeout:.0f}s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def gunicorn_command(port: int, app: str = "wsgi:app", workers: int | None = None) -> list[str]:
    """The README's production command (gunicorn.conf.py settings), on loopback."""
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
               "-b", f"127.0.0.1:{port}", app]
    return command + (["-w", str(workers)] if workers else [])


def consumer_command(workers: int = 4) -> list[str]:
    """The README's production consumer (`huey_consumer wsgi.huey -w 4 -k thread`)."""
    return [sys.executable, "-m", "huey.bin.huey_consumer", "wsgi.huey", "-w", str(workers), "-k", "thread"]


def spawn(command: list[str], env: dict[str, str], log_path: str, cwd: Path = ROOT) -> subprocess.Popen:
    """Start a process that has no health URL (a consumer) in its own process group; `stop`
    ends it. Its output goes to `log_path`."""
    with open(log_path, "ab") as out:
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


class SmtpSink:
    """An aiosmtpd server on loopback that counts what it accepts and keeps the last message
    to each address (the load script follows the links in them)."""

    def __init__(self) -> None:
        import logging

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.accepted = 0
        self.last_to: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.accepted += 1
            for address in envelope.rcpt_tos:
                self.last_to[address.lower()] = envelope.content
        return "250 Message accepted"

    def stop(self) -> None:
        self.controller.stop()


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


_WRK_LATENCY = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def load(url: str, seconds: float, connections: int, headers: dict[str, str] | None = None,
         threads: int = 2) -> LoadResult:
    """GET `url` from `connections` keep-alive connections for `seconds`."""
    if shutil.which("wrk"):
        return _wrk(url, seconds, connections, headers or {}, threads)
    return _python_load(url, seconds, connections, headers or {})


def _wrk(url, seconds, connections, headers, threads) -> LoadResult:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, int(seconds))}s", "--latency",
               "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    latency = {p: float(v) * _UNITS[u] for p, v, u in _WRK_LATENCY.findall(out)}
    total = int(re.search(r"(\d+) requests in ([\d.]+)(m?s|m)", out).group(1))
    duration = re.search(r"requests in ([\d.]+)(ms|s|m)", out)
    secs = float(duration.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[duration.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    errors += sum(int(x) for x in socket_errors.groups()) if socket_errors else 0
    return LoadResult(total, errors, secs, latency.get("50", 0.0), latency.get("99", 0.0))


def _python_load(url, seconds, connections, headers) -> LoadResult:
    """Fallback without wrk: one thread per connection (the client competes for the CPU more)."""
    import http.client

    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine = []
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status < 400
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                ok = False
            mine.append(time.perf_counter() - started)
            if not ok:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    workers = [threading.Thread(target=client) for _ in range(connections)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    ms = sorted(x * 1000 for x in latencies) or [0.0]
    return LoadResult(len(latencies), errors[0], time.monotonic() - started, statistics.median(ms),
                      ms[min(len(ms) - 1, int(len(ms) * 0.99))])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]
