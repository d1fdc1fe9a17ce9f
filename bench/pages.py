"""Page throughput under gunicorn, beside a trivial Flask + SQLite page measured in the same run.

    .venv/bin/python bench/pages.py [--db sqlite postgres] [--tenants 100] [--bookings 1000]
                                    [--seconds 8] [--connections 16] [--profile]

Seeds N tenants x M bookings (bench/dataset.py) into a throwaway SQLite database (the embedded
default) or, with DATABASE_URL, a PostgreSQL database created and dropped here (REDIS_URL: db 12).
Starts the production command (gunicorn with gunicorn.conf.py) and the trivial page
(bench/trivial.py) with the same settings, then loads each page for --seconds with wrk
(-t2 -c16; a Python load generator if wrk is absent: `apt-get install wrk`). Prints req/s, p50,
p99 and each page's share of the trivial page (measured before and after, averaged).
Goals: share >= 50 % and p99 <= 4 x p50. Pages are served as in production, with the page cache
(app/web/page_cache.py); --no-page-cache draws every request (a first view's cost). --profile
prints the top functions of each page (cProfile, in-process) instead of loading it over HTTP.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchenv import BenchDatabase, free_port, gunicorn_command, load, start, stop  # noqa: E402


def pages_of(t, day: str) -> list[tuple[str, str, bool]]:
    """(label, path, needs login) for the pages of the issue and the couple's portal."""
    return [
        ("public booking page", f"/t/{t.slug}/", False),
        ("availability check", f"/t/{t.slug}/availability?event_date={day}", False),
        ("dashboard overview", "/dashboard/", True),
        ("bookings list", "/dashboard/bookings", True),
        ("booking detail", f"/dashboard/bookings/{t.booking_id}", True),
        ("calendar", "/dashboard/calendar", True),
        ("invoice register", "/dashboard/invoices", True),
        ("portal: manage booking", f"/t/{t.slug}/b/{t.manage_token}", False),
        ("portal: reschedule", f"/t/{t.slug}/b/{t.manage_token}/reschedule", False),
    ]


def login_cookie(base: str, email: str, password: str) -> str:
    import requests

    from tests.fixtures.portal import csrf_from

    with requests.Session() as http:
        token = csrf_from(http.get(base + "/auth/login", timeout=30).text)
        response = http.post(base + "/auth/login", data={"email": email, "password": password,
                                                         "csrf_token": token}, timeout=30)
        response.raise_for_status()
        return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def profile(app, pages, email: str, password: str, top: int = 12, args_sort: str = "cumulative") -> None:
    import cProfile
    import io
    import pstats

    from tests.fixtures.portal import csrf_from

    client = app.test_client()
    token = csrf_from(client.get("/auth/login").get_data(as_text=True))
    client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token})
    for label, path, _ in pages:
        for _ in range(5):
            client.get(path)
        started = time.perf_counter()
        for _ in range(50):
            client.get(path)
        plain = (time.perf_counter() - started) * 20
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(50):
            assert client.get(path).status_code == 200, path
        profiler.disable()
        print(f"\n== {label} {path}: {plain:.1f} ms per request in-process "
              f"({(time.perf_counter() - started) * 20:.1f} ms profiled)")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args_sort).print_stats(top * 3)
        lines = [line for line in out.getvalue().splitlines() if "/app/" in line or "/templates/" in line
                 or "sqlalchemy" in line or "jinja2" in line or "babel" in line]
        print("\n".join(lines[:top]))


def run_one(db: str, args) -> None:
    database = BenchDatabase(os.environ.get("DATABASE_URL") if db == "postgres" else None,
                             os.environ.get("REDIS_URL") if db == "postgres" else None)
    procs = []
    try:
        import flask_migrate

        from app import create_app
        from app.services.shared import clock
        from bench import dataset

        app = create_app({"RATELIMIT_STORAGE_URI": "memory://", "PAGE_CACHE": not args.no_page_cache})
        with app.app_context():
            flask_migrate.upgrade()
            seeded = dataset.seed(app, args.tenants, args.bookings)
        database.flush_queue()
        print(f"{database.label}: seeded {args.tenants} tenants x {args.bookings:,} bookings in "
              f"{seeded.seconds:.0f}s", flush=True)
        tenant = seeded.tenants[len(seeded.tenants) // 2]
        day = (clock.now().date().replace(day=1)).isoformat()
        pages = pages_of(tenant, day)
        if args.profile:
            profile(app, pages, tenant.owner_email, dataset.PASSWORD)
            return

        trivial_db = os.path.join(database.folder, "trivial.db")
        os.environ["TRIVIAL_DB"] = trivial_db
        import bench.trivial  # noqa: F401  (creates its table once, before the workers start)

        web_port, trivial_port = free_port(), free_port()
        # Rate limits stay on (memory storage per worker, as the embedded default), but every
        # page here is a GET, which no limit counts.
        env = database.process_env(PORT=str(web_port), RATELIMIT_STORAGE_URI="memory://",
                                   PAGE_CACHE="0" if args.no_page_cache else "1")
        procs.append(start(gunicorn_command(web_port, workers=args.workers), env,
                           f"http://127.0.0.1:{web_port}/healthz"))
        procs.append(start(gunicorn_command(trivial_port, "bench.trivial:app", workers=args.workers),
                           database.process_env(TRIVIAL_DB=trivial_db), f"http://127.0.0.1:{trivial_port}/"))
        base = f"http://127.0.0.1:{web_port}"
        cookie = login_cookie(base, tenant.owner_email, dataset.PASSWORD)

        def measure(url, headers=None):
            load(url, min(2.0, args.seconds), args.connections, headers)  # warm every worker
            return load(url, args.seconds, args.connections, headers)

        trivial_url = f"http://127.0.0.1:{trivial_port}/"
        before = measure(trivial_url)
        results = [(label, measure(base + path, {"Cookie": cookie} if auth else None))
                   for label, path, auth in pages]
        after = measure(trivial_url)
        yardstick = (before.rate + after.rate) / 2
        print(f"\n{database.label}, gunicorn ({args.workers or 'gunicorn.conf.py'} workers), "
              f"{args.connections} connections, {args.seconds:.0f}s per page, page cache "
              f"{'off (every view drawn)' if args.no_page_cache else 'on'}; shared machine, "
              f"so read the shares, not the absolute figures")
        print(f"{'page':<26}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'p99/p50':>9}{'share':>8}{'errors':>8}")
        print(f"{'trivial page (before)':<26}{before.rate:8.0f}{before.p50_ms:9.1f}{before.p99_ms:9.1f}"
              f"{before.p99_ms / max(before.p50_ms, 0.01):9.1f}{'':>8}{before.errors:8d}")
        for label, r in results:
            share = r.rate / yardstick if yardstick else 0.0
            flag = "" if share >= 0.5 and r.p99_ms <= 4 * r.p50_ms and not r.errors else "  <- below goal"
            print(f"{label:<26}{r.rate:8.0f}{r.p50_ms:9.1f}{r.p99_ms:9.1f}{r.p99_ms / max(r.p50_ms, 0.01):9.1f}"
                  f"{share:8.0%}{r.errors:8d}{flag}")
        print(f"{'trivial page (after)':<26}{after.rate:8.0f}{after.p50_ms:9.1f}{after.p99_ms:9.1f}"
              f"{after.p99_ms / max(after.p50_ms, 0.01):9.1f}{'':>8}{after.errors:8d}", flush=True)
    finally:
        for proc in procs:
            stop(proc)
        database.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", choices=("sqlite", "postgres"),
                        default=["sqlite", "postgres"] if os.environ.get("DATABASE_URL") else ["sqlite"])
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-page-cache", action="store_true",
                        help="PAGE_CACHE=0: every request draws its page (the first view's cost)")
    parser.add_argument("--one", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args)
        return
    if "postgres" in args.db and not os.environ.get("DATABASE_URL"):
        parser.error("--db postgres needs DATABASE_URL (and REDIS_URL)")
    for db in args.db:
        # A fresh process per database: the app and its queue read the environment at import.
        subprocess.run([sys.executable, __file__, "--one", db, *sys.argv[1:]], check=True, timeout=3600)


if __name__ == "__main__":
    main()
