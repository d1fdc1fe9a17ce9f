"""The site's front door: what MAIS is, a favicon, and "email me my link" for couples."""
from __future__ import annotations

from tests.fixtures.portal import post_form, without_csrf
from tests.fixtures.smtp import text_of
from tests.integration.bookings.helpers import book, future, make_catalog


def test_the_site_has_a_favicon(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.data.startswith(b"\x89PNG")


def test_a_couple_without_a_link_gets_one_from_the_front_page(client, app, tenant_a, consumer, inbox):
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id),
         email="lost@example.com")
    inbox.wait_for("lost@example.com", subject="Booking received")
    page = client.get("/").get_data(as_text=True)
    assert "wedding and event vendors" in page and "Email me my link" in page
    sent = post_form(client, "/", {"email": "Lost@Example.com"})
    unknown = post_form(client, "/", {"email": "nobody@example.com"})
    assert sent.status_code == unknown.status_code == 200
    assert without_csrf(sent.get_data(as_text=True)) == without_csrf(
        unknown.get_data(as_text=True).replace("nobody@example.com", "Lost@Example.com"))
    mail = inbox.wait_for("lost@example.com", subject="Your booking links")[0]
    assert "/t/alpha/b/" in text_of(mail)
