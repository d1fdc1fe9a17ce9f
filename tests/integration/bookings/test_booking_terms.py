"""Terms before paying: the couple sees the total, deposit, schedule and cancellation policy,
accepts them, and exactly those terms are frozen with the booking as a numbered document."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.fixtures.portal import TERMS_DIGEST_RE, csrf_from, post_form
from tests.fixtures.smtp import text_of
from tests.integration.bookings.helpers import booking_form, future


def _terms_page(client, **query) -> str:
    return client.get("/t/alpha/", query_string=query).get_data(as_text=True)


def _documents(app, kind: str):
    from app.extensions import db
    from app.models import Document

    with app.app_context():
        rows = db.session.scalars(select(Document).where(Document.kind == kind)
                                  .order_by(Document.id)).all()
        found = [(d.number, d.booking_id, d.total_minor, dict(d.snapshot)) for d in rows]
        db.session.remove()
    return found


def test_the_page_shows_total_deposit_schedule_and_policy_for_the_chosen_package(client, shop, app,
                                                                                tenant_a):
    day = future(app, tenant_a.tenant_id, days=120)
    html = _terms_page(client, package_id=shop.other_package_id, event_date=day.isoformat(),
                       add_on_ids=[shop.add_on_id, shop.package_add_on_id])
    terms = html[html.index('data-testid="terms"'):]
    assert "$1,599.50" in terms  # 1,200 + 300.50 + 99
    assert "$479.85" in terms  # the 30 % deposit, then the balance
    assert "$1,119.65" in terms
    assert "The deposit is not refundable; if you cancel, of the rest you get 100% back until 90 days" in terms
    assert TERMS_DIGEST_RE.search(html).group(1)


def test_add_ons_of_another_package_are_not_offered_for_the_chosen_one(client, shop, app, tenant_a):
    gold = _terms_page(client, package_id=shop.package_id)
    silver = _terms_page(client, package_id=shop.other_package_id)
    assert "Drone" not in gold and "Album" in gold
    assert "Drone" in silver and "Album" in silver
    swap = client.get("/t/alpha/terms", query_string={"package_id": shop.package_id,
                                                      "add_on_ids": [shop.package_add_on_id]},
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-swap-oob="true"' in swap and "Drone" not in swap and "$2,500.00" in swap


def test_booking_without_accepting_the_terms_is_refused_and_writes_nothing(client, shop, app, tenant_a):
    from app.models import Booking

    data = booking_form(shop.package_id, future(app, tenant_a.tenant_id))
    data.pop("accept_terms")
    response = post_form(client, "/t/alpha/", data)
    assert response.status_code == 400
    assert "Tick the box to accept the terms." in response.get_data(as_text=True)
    with app.app_context():
        from app.extensions import db

        assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_terms_that_changed_after_they_were_shown_must_be_accepted_again(client, shop, app, tenant_a):
    from app.extensions import db
    from app.models import Booking
    from app.services.bookings import catalog

    day = future(app, tenant_a.tenant_id)
    html = _terms_page(client, package_id=shop.package_id, event_date=day.isoformat())
    shown = TERMS_DIGEST_RE.search(html).group(1)
    with app.app_context():  # the vendor raises the price while the couple reads
        catalog.save_package(db.session, tenant_a.tenant_id, tenant_a.user_id, title="Gold",
                             description="Full day", price_text="2600", package_id=shop.package_id)
    response = client.post("/t/alpha/", data={**booking_form(shop.package_id, day),
                                              "terms_digest": shown, "csrf_token": csrf_from(html)})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "The price or the terms changed" in page
    assert "$2,600.00" in page and TERMS_DIGEST_RE.search(page).group(1) != shown
    with app.app_context():
        assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_accepted_terms_are_frozen_as_a_numbered_document_and_emailed(client, shop, app, tenant_a,
                                                                      consumer, inbox):
    day = future(app, tenant_a.tenant_id, days=120)
    response = post_form(client, "/t/alpha/", booking_form(
        shop.other_package_id, day, add_on_ids=[str(shop.add_on_id)], email="terms@example.com"))
    assert response.status_code == 302
    [(number, booking_id, total, snap)] = _documents(app, "terms")
    assert re.fullmatch(r"ALPHA-T-\d{4}-0001", number) and total == 150050
    assert [s["amount_minor"] for s in snap["schedule"]] == [45015, 105035]
    assert snap["acceptance"]["by"] == "Alex & Sam <terms@example.com>"
    assert snap["policy_text"].startswith("The deposit is not refundable")

    from app.extensions import db
    from app.services.payments import stages as payment_stages

    with app.app_context():  # the stages the booking got are the ones accepted
        stages = payment_stages.stages_for(db.session, tenant_a.tenant_id, booking_id)
        assert [(s.amount_minor, s.due_date.isoformat()) for s in stages] == [
            (s["amount_minor"], s["due_date"]) for s in snap["schedule"]]
        db.session.remove()

    body = text_of(inbox.wait_for("terms@example.com", subject="Booking received")[0])
    assert f"The terms you accepted ({number})" in body and "Total: $1,500.50" in body
    download = re.search(r"https?://\S+/t/alpha/documents/\S+", body).group(0)
    pdf = client.get(download[download.index("/t/alpha/"):])
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert f'filename="{number}.pdf"' in pdf.headers["Content-Disposition"]


def test_the_pay_page_shows_the_accepted_terms_paid_and_left_and_links_to_the_booking(client, shop, payments_sim,
                                                                                      app, tenant_a):
    day = future(app, tenant_a.tenant_id)
    response = post_form(client, "/t/alpha/", booking_form(shop.package_id, day))
    checkout = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="pay-terms"' in checkout and "ALPHA-T-" in checkout
    assert 'data-testid="left-to-pay"><strong>$2,500.00' in checkout
    to_booking = re.search(r'data-testid="to-booking" href="([^"]+)"', checkout).group(1)
    portal = client.get(to_booking)
    assert portal.status_code == 303 and "/t/alpha/b/" in portal.headers["Location"]
    assert "Your booking" in client.get(portal.headers["Location"]).get_data(as_text=True)
