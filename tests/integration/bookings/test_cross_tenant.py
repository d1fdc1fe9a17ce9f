"""Every dashboard route of the bookings issue, asked by tenant A with tenant B's ids: 404, nothing changed."""
from __future__ import annotations

import pytest

from tests.fixtures.portal import csrf_from
from tests.integration.bookings.helpers import book, future

# (method, url template, form data); {booking}, {package}, {add_on}, {blackout} are tenant B's ids.
ROUTES = [
    ("GET", "/dashboard/bookings/{booking}", {}),
    ("GET", "/dashboard/bookings/{booking}/edit", {}),
    ("POST", "/dashboard/bookings/{booking}/edit", {"couple_names": "Hijack", "email": "h@example.com",
                                                    "venue": "X", "event_date": "2030-01-01"}),
    ("POST", "/dashboard/bookings/{booking}/status", {"to": "canceled"}),
    ("GET", "/dashboard/catalog/packages/{package}", {}),
    ("GET", "/dashboard/catalog/packages/{package}/edit", {}),
    ("POST", "/dashboard/catalog/packages/{package}/edit", {"title": "Hijack", "price": "1"}),
    ("POST", "/dashboard/catalog/packages/{package}/active", {"active": "0"}),
    ("GET", "/dashboard/catalog/add-ons/{add_on}", {}),
    ("GET", "/dashboard/catalog/add-ons/{add_on}/edit", {}),
    ("POST", "/dashboard/catalog/add-ons/{add_on}/edit", {"title": "Hijack", "price": "1"}),
    ("POST", "/dashboard/catalog/add-ons/{add_on}/active", {"active": "0"}),
    ("POST", "/dashboard/availability/blackouts/{blackout}/delete", {}),
]


def _snapshot(app, tenant_id):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import AddOn, AuditEvent, BlackoutDate, Booking, Package

    with app.app_context():
        rows = []
        for model in (Booking, Package, AddOn, BlackoutDate):
            for obj in db.session.scalars(select(model).where(model.tenant_id == tenant_id).order_by(model.id)):
                rows.append({c.name: getattr(obj, c.name) for c in model.__table__.columns})
        audit = db.session.scalars(select(AuditEvent.id).where(AuditEvent.tenant_id == tenant_id)).all()
        db.session.remove()
    return rows, len(audit)


@pytest.fixture()
def b_ids(app, tenant_b, shop_b):
    from app.extensions import db
    from app.services.bookings import availability

    booking = book(app, tenant_b.tenant_id, shop_b.package_id, future(app, tenant_b.tenant_id))
    with app.app_context():
        blackout = availability.add_blackout(db.session, tenant_b.tenant_id, tenant_b.user_id,
                                             future(app, tenant_b.tenant_id, 90)).id
        db.session.remove()
    return {"booking": booking, "package": shop_b.package_id, "add_on": shop_b.add_on_id, "blackout": blackout}


@pytest.mark.parametrize("method,template,data", ROUTES, ids=[f"{m} {t}" for m, t, _ in ROUTES])
def test_tenant_a_gets_404_for_tenant_b_ids(method, template, data, app, owner_client, tenant_b, b_ids):
    before = _snapshot(app, tenant_b.tenant_id)
    url = template.format(**b_ids)
    if method == "GET":
        response = owner_client.get(url)
    else:
        csrf = csrf_from(owner_client.get("/dashboard/catalog").get_data(as_text=True))
        response = owner_client.post(url, data={**data, "csrf_token": csrf})
    assert response.status_code == 404, response.get_data(as_text=True)[:300]
    assert _snapshot(app, tenant_b.tenant_id) == before


def test_tenant_b_rows_are_invisible_in_lists_and_calendar(app, owner_client, tenant_b, b_ids):
    from app.extensions import db
    from app.models import Booking

    with app.app_context():
        b = db.session.get(Booking, b_ids["booking"])
        day, names = b.event_date, b.couple_names
    assert f"/dashboard/bookings/{b_ids['booking']}" not in owner_client.get("/dashboard/bookings").get_data(
        as_text=True)
    assert names not in owner_client.get(f"/dashboard/calendar?month={day:%Y-%m}").get_data(as_text=True)
    catalog = owner_client.get("/dashboard/catalog").get_data(as_text=True)
    assert f"package-{b_ids['package']}" not in catalog
    assert day.isoformat() not in owner_client.get("/dashboard/availability").get_data(as_text=True)


def test_add_on_for_another_tenants_package_is_a_form_error(app, owner_client, tenant_a, b_ids):
    csrf = csrf_from(owner_client.get("/dashboard/catalog").get_data(as_text=True))
    response = owner_client.post("/dashboard/catalog/add-ons", data={
        "title": "Sneaky", "price": "1", "package_id": str(b_ids["package"]), "csrf_token": csrf})
    assert response.status_code == 400
    assert "Choose one of your packages" in response.get_data(as_text=True)
