"""Invoice numbers under concurrency: the counter row orders issuers, no gaps, no duplicates."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from tests.integration.invoices.helpers import documents, pending_booking


@pytest.mark.postgres
def test_twenty_concurrent_issuances_get_twenty_consecutive_numbers(app, tenant_a, shop):
    from app.extensions import db
    from app.services.invoices import issuing as invoices

    booking_ids = [pending_booking(app, tenant_a, shop.package_id, days=30 + i) for i in range(20)]
    barrier = threading.Barrier(len(booking_ids))
    errors: list[BaseException] = []

    def issue(booking_id: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                invoices.issue_invoice(db.session, tenant_a.tenant_id, booking_id,
                                       actor_user_id=tenant_a.user_id)
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(b,)) for b in booking_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    issued = documents(app)
    year = datetime.now(UTC).year
    assert sorted(d["seq"] for d in issued) == list(range(1, 21))
    assert sorted(d["number"] for d in issued) == [f"ALPHA-{year}-{n:04d}" for n in range(1, 21)]
    assert sorted(d["booking_id"] for d in issued) == sorted(booking_ids)


def test_concurrent_issuances_on_any_database_never_duplicate_a_number(app, tenant_a, shop):
    """SQLite serialises writers (BEGIN IMMEDIATE); the same guarantee must hold there."""
    from app.extensions import db
    from app.services.invoices import issuing as invoices

    booking_ids = [pending_booking(app, tenant_a, shop.package_id, days=30 + i) for i in range(6)]
    barrier = threading.Barrier(len(booking_ids))

    def issue(booking_id: int) -> None:
        with app.app_context():
            barrier.wait()
            invoices.issue_invoice(db.session, tenant_a.tenant_id, booking_id,
                                   actor_user_id=tenant_a.user_id)
            db.session.remove()

    threads = [threading.Thread(target=issue, args=(b,)) for b in booking_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(d["seq"] for d in documents(app)) == list(range(1, 7))
