"""The payments received page: rows, filters, totals and a formula-safe CSV; the bookings list
exports its filtered rows to CSV the same way. Each tenant sees only its own."""
from __future__ import annotations

import csv
import io

from tests.fixtures.accounts import login
from tests.integration.bookings.helpers import book, future, make_catalog
from tests.integration.invoices.helpers import confirmed_booking
from tests.integration.reports.helpers import record_cash


def rows_of(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_payments_received_lists_filters_totals_and_exports_only_this_tenant(
        app, owner_client, tenant_a, tenant_b):
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    shop_b = make_catalog(app, tenant_b.tenant_id, tenant_b.user_id)
    risky = confirmed_booking(app, tenant_a, shop.package_id, names="=HYPERLINK(\"http://x\")", days=50)
    plain = confirmed_booking(app, tenant_a, shop.other_package_id, names="Robin & Kim", days=70,
                              email="rk@example.com")
    record_cash(app, tenant_a, risky)  # Gold deposit $750.00
    record_cash(app, tenant_a, plain)  # Silver deposit $360.00
    other = confirmed_booking(app, tenant_b, shop_b.package_id, names="Bravo Couple", days=40)
    record_cash(app, tenant_b, other)

    page = owner_client.get("/dashboard/payments/received").get_data(as_text=True)
    assert page.count('data-testid="received-row"') == 2 and "Bravo Couple" not in page
    assert "$1,110.00" in page and 'aria-current="page">Received' in page
    filtered = owner_client.get("/dashboard/payments/received?q=robin").get_data(as_text=True)
    assert filtered.count('data-testid="received-row"') == 1 and "$360.00" in filtered
    assert owner_client.get("/dashboard/payments/received?method=card").get_data(
        as_text=True).count('data-testid="received-row"') == 0

    rows = rows_of(owner_client.get("/dashboard/payments/received.csv"))
    assert sorted(r["amount"] for r in rows) == ["360.00", "750.00"]
    assert {r["couple"] for r in rows} == {"'=HYPERLINK(\"http://x\")", "Robin & Kim"}
    assert {r["method"] for r in rows} == {"Cash"} and {r["currency"] for r in rows} == {"USD"}
    assert len(rows_of(owner_client.get("/dashboard/payments/received.csv?q=robin"))) == 1


def test_bookings_export_follows_the_list_filters_and_is_formula_safe(app, owner_client, tenant_a, tenant_b):
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    shop_b = make_catalog(app, tenant_b.tenant_id, tenant_b.user_id)
    confirmed_booking(app, tenant_a, shop.package_id, names="@SUM(A1:A9)", days=50)
    book(app, tenant_a.tenant_id, shop.other_package_id, future(app, tenant_a.tenant_id, 30),
         email="pending@example.com")
    book(app, tenant_b.tenant_id, shop_b.package_id, future(app, tenant_b.tenant_id, 30), email="b@example.com")

    rows = rows_of(owner_client.get("/dashboard/bookings.csv"))
    assert len(rows) == 2 and "b@example.com" not in {r["email"] for r in rows}
    assert "'@SUM(A1:A9)" in {r["couple_names"] for r in rows}
    assert {r["total"] for r in rows} == {"2500.00", "1200.00"}
    only = rows_of(owner_client.get("/dashboard/bookings.csv?status=pending_deposit"))
    assert [r["email"] for r in only] == ["pending@example.com"]
    page = owner_client.get("/dashboard/bookings?status=pending_deposit").get_data(as_text=True)
    assert 'href="/dashboard/bookings.csv?status=pending_deposit"' in page


def test_another_tenant_cannot_read_the_exports(app, tenant_a, tenant_b):
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    confirmed_booking(app, tenant_a, shop.package_id, names="Alpha Only", days=50)
    web = app.test_client()
    login(web, tenant_b.email)
    assert "Alpha Only" not in web.get("/dashboard/bookings.csv").get_data(as_text=True)
    assert "Alpha Only" not in web.get("/dashboard/payments/received.csv").get_data(as_text=True)
