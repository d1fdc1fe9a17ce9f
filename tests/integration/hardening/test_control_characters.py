"""Control characters in any form are refused with a form error and change nothing."""
from __future__ import annotations

import importlib
import pkgutil

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from tests.fixtures.portal import post_form
from tests.integration.bookings.conftest import shop  # noqa: F401
from tests.integration.bookings.helpers import booking_form, future

MESSAGE = "Remove the invisible control characters"


def _bookings(db_session) -> int:
    from app.models import Booking

    return db_session.scalar(select(func.count(Booking.id)))


@pytest.mark.parametrize("field,value", [
    ("couple_names", "Alex\x00 & Sam"), ("notes", "Bring\x00 flowers"), ("venue", "Rose\x07 Garden"),
    ("couple_names", "Alex\t& Sam"), ("couple_names", "Alex\n& Sam"), ("notes", "esc \x1b[31m"),
    ("phone", "+1\x7f555"), ("email", "a\x00@example.com"),
])
def test_public_booking_refuses_control_characters_with_a_form_error(client, app, shop, tenant_a,  # noqa: F811
                                                                     db_session, field, value):
    day = future(app, tenant_a.tenant_id)
    response = post_form(client, "/t/alpha/", booking_form(shop.package_id, day, **{field: value}))
    assert response.status_code == 400
    assert MESSAGE in response.get_data(as_text=True)
    assert _bookings(db_session) == 0


def test_notes_keep_tabs_and_line_breaks(client, app, shop, tenant_a, db_session):  # noqa: F811
    day = future(app, tenant_a.tenant_id)
    response = post_form(client, "/t/alpha/", booking_form(shop.package_id, day,
                                                           notes="First\tline\r\nsecond line"))
    assert response.status_code == 302
    assert _bookings(db_session) == 1


def test_dashboard_settings_refuse_nul_and_keep_the_old_values(owner_client, db_session, tenant_a):
    from app.models import Tenant

    response = post_form(owner_client, "/dashboard/settings", {
        "name": "New\x00 name", "timezone": "Europe/Berlin", "currency": "EUR", "locale": "de_DE",
        "address": "Street 1", "tax_id": "", "contact_email": "shop@example.com"})
    assert response.status_code == 400 and MESSAGE in response.get_data(as_text=True)
    tenant = db_session.get(Tenant, tenant_a.tenant_id)
    assert tenant.name == "Alpha" and tenant.timezone == "America/New_York"


def test_signup_with_a_nul_in_the_business_name_is_refused(client, db_session):
    from app.models import Tenant

    response = post_form(client, "/auth/signup", {
        "business_name": "Gold\x00en", "slug": "golden", "owner_name": "Ana",
        "email": "ana@golden.example", "password": "a-long-password", "timezone": "Europe/Lisbon",
        "currency": "EUR"})
    assert response.status_code == 400 and MESSAGE in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count(Tenant.id))) == 0


@pytest.mark.parametrize("url", ["/t/alpha%00/", "/auth/login?next=/%00/evil.com", "/t/alpha/?x=%00",
                                 "/dashboard/bookings?q=a%00b", "/t/alpha/availability?event_date=2030-01-01%00"])
def test_nul_in_an_address_is_a_400(owner_client, tenant_a, url):
    response = owner_client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


def test_every_form_of_the_portal_checks_control_characters():
    """A form added later that derives from FlaskForm directly would skip the check."""
    import app.blueprints as blueprints
    from app.blueprints.forms_common import Form

    for module in pkgutil.walk_packages(blueprints.__path__, "app.blueprints."):
        importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [c for c in subclasses(FlaskForm) if c.__module__.startswith("app.")]
    assert len(ours) > 15
    assert [c.__qualname__ for c in ours if not issubclass(c, Form)] == []
