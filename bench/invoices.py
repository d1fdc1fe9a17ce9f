"""Invoice PDFs: render time per document (ReportLab, app/adapters/pdf.py) beside Chromium's
print-to-PDF of the same invoice as HTML, and the latency of downloading a stored invoice.

    .venv/bin/python bench/invoices.py [--docs 20] [--downloads 200]

Chromium is measured two ways: a new browser process per document (what the seed note's
Puppeteer code does) and one reused page; it prints bench/invoice.html, the template xhtml2pdf
used to render. Downloads go through the Flask test client against a throwaway SQLite database
(or DATABASE_URL): the stored bytes are served, nothing is rendered.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHROMIUM = os.environ.get("MAIS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def sample_snapshot() -> dict:
    lines = [{"description": "Gold: full day photography", "quantity": 1, "unit_minor": 250000,
              "amount_minor": 250000}]
    lines += [{"description": f"Add-on {i}: album Zoë €¥£", "quantity": 2, "unit_minor": 3050,
               "amount_minor": 6100} for i in range(6)]
    return {
        "version": 1, "kind": "invoice", "number": "ACME-2026-0042", "issued_on": "2026-11-25",
        "currency": "EUR", "locale": "de_DE",
        "tenant": {"name": "Acme Fotografie", "address_lines": ["Hauptstraße 1", "10115 Berlin"],
                   "tax_id": "DE123456789", "email": "hello@acme.example"},
        "customer": {"name": "Zoë & Léo", "email": "couple@example.com"},
        "booking": {"id": 42, "event_date": "2027-06-12", "venue": "Schloss"},
        "schedule": [{"label": "Deposit", "due_date": "2026-11-25", "status": "paid", "amount_minor": 85000},
                     {"label": "Balance", "due_date": "2027-05-29", "status": "due", "amount_minor": 201600}],
        "terms": "Payable within 14 days.", "notes": "Thank you!", "references": {"invoice_number": None},
        "lines": lines, "tax": {"rate_bp": 1900, "rate_text": "19 %", "inclusive": True, "label": "MwSt."},
        "lines_minor": 286600, "subtotal_minor": 240840, "tax_minor": 45760, "total_minor": 286600,
        "payments": [{"received_on": "2026-11-25", "method": "Card", "amount_minor": 85000,
                      "refunded_minor": 0}],
        "paid_minor": 85000, "balance_minor": 201600,
    }


def timed(fn, n: int, clock=time.perf_counter) -> list[float]:
    out = []
    for _ in range(n):
        start = clock()
        fn()
        out.append(clock() - start)
    return out


def report(label: str, seconds: list[float]) -> float:
    ms = [s * 1000 for s in seconds]
    print(f"{label:<44} n={len(ms):<4} median {statistics.median(ms):8.1f} ms   "
          f"mean {statistics.mean(ms):8.1f} ms   max {max(ms):8.1f} ms")
    return statistics.median(ms)


def invoice_html(snapshot: dict) -> str:
    """The invoice as HTML for Chromium, with the same text and font (DejaVu Sans)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined
    from markupsafe import Markup

    from app.services.invoices.pdf import TITLES
    from app.services.shared.money import money_filter

    env = Environment(loader=FileSystemLoader(Path(__file__).parent), autoescape=True,
                      undefined=StrictUndefined)
    env.filters["money"] = money_filter
    return env.get_template("invoice.html").render(
        snap=snapshot, doc={"title": TITLES[snapshot["kind"]], "number": snapshot["number"]},
        money_currency=snapshot["currency"], money_locale=snapshot["locale"],
        font_css=Markup('@font-face { font-family: "MaisSans"; src: local("DejaVu Sans"); }'))


def bench_render(docs: int) -> None:
    from app.services.invoices import pdf as invoice_pdf

    snapshot = sample_snapshot()
    html = invoice_html(snapshot)
    # The first render of a process registers (parses) the fonts; later ones reuse them.
    report("first render in a new process", timed(lambda: invoice_pdf.render(snapshot), 1))
    ours = report("ReportLab render (invoice_pdf.render)", timed(lambda: invoice_pdf.render(snapshot), docs))
    # CPU time says what a render costs when other work shares the machine.
    report("ReportLab render, CPU time", timed(lambda: invoice_pdf.render(snapshot), docs, time.process_time))
    if not os.path.exists(CHROMIUM):
        print(f"Chromium not found at {CHROMIUM}: skipped")
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        def new_process() -> None:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page()
            page.set_content(html)
            page.pdf(format="A4")
            browser.close()

        fresh = report("Chromium print-to-PDF, new process per doc", timed(new_process, max(3, docs // 4)))
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()

        def reused() -> None:
            page.set_content(html)
            page.pdf(format="A4")

        reused()
        warm = report("Chromium print-to-PDF, reused page", timed(reused, docs))
        browser.close()
    print(f"goal: ours <= reused Chromium ({ours:.1f} <= {warm:.1f} ms: {'met' if ours <= warm else 'NOT met'}); "
          f"ours <= 1/20 of a new process ({ours:.1f} <= {fresh / 20:.1f} ms: "
          f"{'met' if ours <= fresh / 20 else 'NOT met'})")


def bench_download(downloads: int) -> None:
    folder = tempfile.mkdtemp(prefix="mais-bench-")
    os.environ.setdefault("MAIS_INSTANCE_PATH", folder)
    os.environ.setdefault("MAIS_HUEY_PATH", os.path.join(folder, "huey.db"))
    import flask_migrate

    from app import create_app
    from app.extensions import db
    from app.queue import huey
    from app.services.accounts import users as accounts
    from app.services.bookings import catalog
    from app.services.bookings import lifecycle as bookings
    from app.services.invoices import issuing as invoices
    from app.services.shared import clock
    from app.web.links import WebLinks

    huey.immediate = False
    huey.enqueue = lambda task: None  # jobs are run by hand below
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        flask_migrate.upgrade()
        user = accounts.signup(db.session, business_name="Acme", slug="acme-bench",
                               timezone="Europe/Berlin", currency="EUR",
                               email_addr="owner@acme-bench.example", password="correct-horse-battery",
                               owner_name="Owner")
        package = catalog.save_package(db.session, user.tenant_id, user.id, title="Gold",
                                       description="", price_text="2500")
        from datetime import timedelta

        request = bookings.BookingRequest(couple_names="Zoë & Léo", email="c@example.com",
                                          event_date=(clock.now() + timedelta(days=90)).date(),
                                          venue="Schloss", package_id=package.id)
        booking = bookings.create_booking(db.session, user.tenant_id, request, WebLinks(app),
                                          actor="user", actor_user_id=user.id,
                                          initial_status="confirmed")
        doc = invoices.invoice_of(db.session, user.tenant_id, booking.id)
        doc_id = doc.id
        invoices.deliver(db.session, doc_id, WebLinks(app))
        db.session.remove()
    client = app.test_client()
    client.post("/auth/login", data={"email": "owner@acme-bench.example",
                                     "password": "correct-horse-battery"})
    url = f"/dashboard/invoices/{doc_id}/pdf"
    assert client.get(url).status_code == 200

    def fetch() -> None:
        response = client.get(url)
        assert response.status_code == 200 and response.data.startswith(b"%PDF")

    with app.app_context():
        backend = db.engine.url.get_backend_name()
    report(f"download stored invoice ({backend}, Flask client)", timed(fetch, downloads))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20)
    parser.add_argument("--downloads", type=int, default=200)
    args = parser.parse_args()
    bench_render(args.docs)
    bench_download(args.downloads)


if __name__ == "__main__":
    main()
