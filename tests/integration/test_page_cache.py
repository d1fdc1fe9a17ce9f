"""Stored pages (app/web/page_cache.py): served again only while nothing they show has changed.

Each test proves the store was used (its hit count moves) and then that a change made the way
the app makes changes (a form, another process's session, a bulk statement, the clock, a revoked
link) is on the very next page.
"""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from tests.fixtures.portal import csrf_from
from tests.integration.bookings.helpers import book, future, make_catalog


def _hits(app) -> int:
    return app.extensions["page_cache"].hits


def _rename(app, booking_id: int, names: str, *, bulk: str = "") -> None:
    """A change committed by a session of its own, as a queue consumer in another process does."""
    from sqlalchemy.orm import Session

    from app.extensions import db
    from app.models import Booking

    with app.app_context(), Session(db.engine) as other:
        if bulk == "no tenant named":
            other.execute(update(Booking).where(Booking.id == booking_id).values(couple_names=names))
        elif bulk:
            other.execute(update(Booking).where(Booking.tenant_id == int(bulk), Booking.id == booking_id)
                          .values(couple_names=names))
        else:
            other.scalar(select(Booking).where(Booking.id == booking_id)).couple_names = names
        other.commit()


def test_a_stored_page_is_served_until_any_process_commits_a_change_to_the_tenant(app, owner_client, tenant_a):
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id, 30))
    url = f"/dashboard/bookings/{booking_id}"
    owner_client.get(url)  # the session's first page after login gets a new CSRF secret: not stored
    assert "Alex &amp; Sam" in owner_client.get(url).get_data(as_text=True)
    hits = _hits(app)
    assert "Alex &amp; Sam" in owner_client.get(url).get_data(as_text=True)
    assert _hits(app) == hits + 1

    _rename(app, booking_id, "Robin & Kim")  # an ORM change in another session
    assert "Robin &amp; Kim" in owner_client.get(url).get_data(as_text=True)

    _rename(app, booking_id, "Jo & Lee", bulk=str(tenant_a.tenant_id))  # UPDATE ... WHERE tenant_id = A
    assert "Jo &amp; Lee" in owner_client.get(url).get_data(as_text=True)

    _rename(app, booking_id, "Max & Ana", bulk="no tenant named")  # moves every tenant's revision
    assert "Max &amp; Ana" in owner_client.get(url).get_data(as_text=True)
    hits = _hits(app)
    assert "Max &amp; Ana" in owner_client.get(url).get_data(as_text=True)
    assert _hits(app) == hits + 1


def test_another_tenants_change_keeps_this_tenants_pages_and_a_form_post_shows_at_once(
        app, owner_client, tenant_a, tenant_b):
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    shop_b = make_catalog(app, tenant_b.tenant_id, tenant_b.user_id)
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id, 30))
    other = book(app, tenant_b.tenant_id, shop_b.package_id, future(app, tenant_b.tenant_id, 30))
    url = f"/dashboard/bookings/{booking_id}"
    owner_client.get(url)
    owner_client.get(url)
    _rename(app, other, "Somebody Else", bulk=str(tenant_b.tenant_id))
    hits = _hits(app)
    owner_client.get(url)
    assert _hits(app) == hits + 1, "B's change left A's stored page in place"

    edit = f"/dashboard/bookings/{booking_id}/edit"
    form = owner_client.get(edit).get_data(as_text=True)
    response = owner_client.post(edit, data={
        "csrf_token": csrf_from(form), "couple_names": "Edited & Names", "email": "couple@example.com",
        "event_date": future(app, tenant_a.tenant_id, 30).isoformat(), "venue": "Rose Garden"},
        follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Booking saved." in page and "Edited &amp; Names" in page
    # The page with the flash message was not stored: the next view has the name, not the flash.
    again = owner_client.get(url).get_data(as_text=True)
    assert "Edited &amp; Names" in again and "Booking saved." not in again


def test_a_stored_page_carries_each_readers_own_csrf_token(app, tenant_a, owner_client):
    from tests.fixtures.accounts import login

    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id, 30))
    url = f"/dashboard/bookings/{booking_id}"
    owner_client.get(url)
    second_client = app.test_client()
    login(second_client, tenant_a.email)  # the same owner on a second device: a session of its own
    second_client.get(url)
    first = csrf_from(owner_client.get(url).get_data(as_text=True))
    hits = _hits(app)
    page = second_client.get(url).get_data(as_text=True)
    assert _hits(app) == hits + 1
    token = csrf_from(page)
    assert token and token != first
    # The token works for the second device's session: a status change is accepted.
    response = second_client.post(f"{url}/status", data={"csrf_token": token, "to": "confirmed"},
                                  follow_redirects=True)
    assert response.status_code == 200 and "is now" in response.get_data(as_text=True)


def test_pages_are_drawn_again_when_the_minute_turns(app, owner_client, tenant_a):
    from app.services.shared import clock

    clock.freeze(clock.now().replace(second=10))
    owner_client.get("/dashboard/calendar")
    owner_client.get("/dashboard/calendar")
    hits = _hits(app)
    owner_client.get("/dashboard/calendar")
    assert _hits(app) == hits + 1
    clock.advance(timedelta(seconds=55))
    owner_client.get("/dashboard/calendar")
    assert _hits(app) == hits + 1, "a new minute: drawn again, not served"


def test_a_revoked_link_is_refused_even_when_its_page_was_stored(app, tenant_a):
    from app.extensions import db
    from app.services.shared import tokens

    url = _manage_link(app, tenant_a)
    couple = app.test_client()
    assert couple.get(url).status_code == 200
    hits = _hits(app)
    assert couple.get(url).status_code == 200
    assert _hits(app) == hits + 1
    with app.app_context():
        booking_id = tokens.peek(db.session, "booking_manage", url.rsplit("/", 1)[1]).subject_id
        tokens.revoke(db.session, tenant_a.tenant_id, ("booking_manage",), booking_id)
        db.session.commit()
        db.session.remove()
    assert couple.get(url).status_code == 410


def test_with_the_store_off_nothing_is_stored(app, owner_client):
    app.config["PAGE_CACHE"] = False
    try:
        hits, misses = _hits(app), app.extensions["page_cache"].misses
        owner_client.get("/dashboard/calendar")
        owner_client.get("/dashboard/calendar")
        assert (_hits(app), app.extensions["page_cache"].misses) == (hits, misses)
    finally:
        app.config["PAGE_CACHE"] = True


def _manage_link(app, tenant_a) -> str:
    from app.extensions import db
    from app.services.shared import tokens

    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id, 30))
    with app.app_context():
        raw = tokens.issue(db.session, tenant_a.tenant_id, "booking_manage", booking_id)
        db.session.commit()
        db.session.remove()
    return f"/t/alpha/b/{raw}"


def test_visitors_without_a_session_share_a_stored_page_each_with_a_csrf_token_of_their_own(app, tenant_a):
    url = _manage_link(app, tenant_a)  # the couple's page, opened on a phone, then on a laptop
    first = app.test_client().get(url)
    hits = _hits(app)
    second = app.test_client().get(url)
    assert first.status_code == second.status_code == 200 and _hits(app) == hits + 1
    assert "Set-Cookie" in second.headers  # the new visitor's session, with its CSRF secret
    token = _htmx_token(second.get_data(as_text=True))
    assert token and token != _htmx_token(first.get_data(as_text=True))


def _htmx_token(html: str) -> str:
    """The CSRF token every page gives htmx (base.html's hx-headers)."""
    return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)


def test_a_page_that_shows_a_flash_message_is_not_stored(app, owner_client, tenant_a):
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id, 30))
    url = f"/dashboard/bookings/{booking_id}"
    response = owner_client.post(f"{url}/status", data={
        "csrf_token": csrf_from(owner_client.get(url).get_data(as_text=True)), "to": "bogus"})
    assert response.status_code == 302
    assert "cannot become" in owner_client.get(url).get_data(as_text=True)
    assert "cannot become" not in owner_client.get(url).get_data(as_text=True)
    assert "cannot become" not in owner_client.get(url).get_data(as_text=True)


def test_a_link_that_expires_while_its_page_is_stored_is_refused_from_its_expiry(app, tenant_a):
    """A stored portal page is served without asking for the link again only until the link's
    expiry; a page is keyed by the minute, so the clock is set to expire the link mid-minute."""
    from app.extensions import db
    from app.models import ActionToken
    from app.services.shared import clock, tokens

    clock.freeze(clock.now().replace(second=5, microsecond=0))
    url = _manage_link(app, tenant_a)
    with app.app_context():
        token = db.session.scalar(select(ActionToken).where(
            ActionToken.token_hash == tokens.hash_token(url.rsplit("/", 1)[1])))
        expires_at = token.expires_at
        db.session.remove()
    couple = app.test_client()
    couple.get(url)
    clock.freeze(expires_at.replace(second=0) + timedelta(seconds=1))  # the minute it expires in
    assert expires_at.second == 5  # issued at :05, a week ago in this clock
    hits = _hits(app)
    assert couple.get(url).status_code == 200  # drawn and stored, valid until :05
    assert couple.get(url).status_code == 200 and _hits(app) == hits + 1
    clock.freeze(expires_at + timedelta(microseconds=1))
    assert couple.get(url).status_code == 410


def _revisions(app) -> dict[int, int]:
    from app.extensions import db
    from app.models import PageRevision

    with app.app_context():
        found = dict(db.session.execute(select(PageRevision.scope_id, PageRevision.revision)).all())
        db.session.remove()
    return found


def test_a_tenants_payments_refunds_and_invoices_leave_other_tenants_stored_pages_alone(
        app, client, tenant_a, tenant_b, payments_sim):
    """The money jobs name the tenant in their by-id statements: otherwise each would move scope
    0, and every tenant's stored pages would be drawn again after any tenant's payment."""
    from app.services.shared.revisions import ALL_TENANTS
    from tests.integration.invoices.helpers import deliver_all
    from tests.integration.payments.helpers import events_for, new_booking, process_stored, signed_post, stages
    from tests.integration.refunds.helpers import parts, pay_stage, request_refund, run_part

    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    make_catalog(app, tenant_b.tenant_id, tenant_b.user_id)
    booking_id = new_booking(app, tenant_a, shop.package_id, days=120)
    before = _revisions(app)

    # The checkout page claims and releases the stage; the return records the payment.
    pi = pay_stage(app, client, payments_sim, tenant_a, stages(app, booking_id)[0]["id"])
    event = events_for(payments_sim, pi, "payment_intent.succeeded")[0]
    assert signed_post(client, app.config["STRIPE_WEBHOOK_SECRET"], event).status_code == 200
    assert process_stored(app, event["id"]) == "processed"
    request_refund(app, tenant_a, booking_id, 10_000)
    assert run_part(app, parts(app, booking_id)[0]["id"]) in ("processing", "succeeded")
    assert "sent" in deliver_all(app)  # the invoice the deposit issued, emailed

    after = _revisions(app)
    assert after[tenant_a.tenant_id] != before[tenant_a.tenant_id]
    assert after[tenant_b.tenant_id] == before[tenant_b.tenant_id]
    assert after.get(ALL_TENANTS) == before.get(ALL_TENANTS)
