"""The dashboard's first page says what needs attention, for this tenant only."""
from __future__ import annotations

import re

from tests.integration.bookings.helpers import book, future, make_catalog


def test_overview_lists_upcoming_events_and_what_is_owed(app, owner_client, tenant_a, tenant_b):
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    shop_b = make_catalog(app, tenant_b.tenant_id, tenant_b.user_id)
    book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id, 30))  # awaiting deposit
    book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id, 40), email="c2@example.com",
         actor="user", actor_user_id=tenant_a.user_id, initial_status="confirmed")
    book(app, tenant_b.tenant_id, shop_b.package_id, future(app, tenant_b.tenant_id, 35), email="b@example.com")
    page = owner_client.get("/dashboard/").get_data(as_text=True)
    assert "1 booking awaiting a deposit" in page
    assert "$5,000.00 outstanding" in page  # two Gold bookings of $2,500, nothing paid yet
    assert len(re.findall(r'href="/dashboard/bookings/\d+"', page)) == 2  # B's booking is not listed
    assert "Nothing needs your attention" not in page


def test_an_empty_tenant_is_told_nothing_needs_attention(owner_client):
    page = owner_client.get("/dashboard/").get_data(as_text=True)
    assert "Nothing needs your attention" in page and "/t/alpha/" in page


def test_overview_runs_a_fixed_number_of_queries(app, tenant_a):
    from sqlalchemy import event

    from app.extensions import db
    from app.services.bookings import overview

    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)

    def statements() -> int:
        seen = []
        with app.app_context():
            listener = lambda *args: seen.append(1)  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                overview.overview(db.session, tenant_a.tenant_id)
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
                db.session.remove()
        return len(seen)

    book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id, 30))
    few = statements()
    for days in range(31, 38):
        book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id, days),
             email=f"c{days}@example.com")
    assert statements() == few
