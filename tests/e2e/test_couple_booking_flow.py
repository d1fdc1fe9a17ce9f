"""A couple on a phone: book, follow the emailed link, reschedule, old link dies, cancel, date is free."""
from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect

from tests.fixtures.smtp import text_of
from tests.integration.bookings.helpers import book, links_in, local_today, make_catalog


def test_couple_books_reschedules_and_cancels_on_a_phone(app, live_server, consumer, inbox, phone_page,
                                                         tenant_a, payments_sim):
    from app.extensions import db
    from app.services.bookings import availability

    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    in_two_months = local_today(app, tenant_a.tenant_id) + timedelta(days=60)
    day = date(in_two_months.year, in_two_months.month, 10)
    taken, new_day = day + timedelta(days=2), day + timedelta(days=3)
    book(app, tenant_a.tenant_id, shop.package_id, taken, email="others@example.com", initial_status="confirmed")
    page = phone_page
    address = "phone.couple@example.com"

    # 1. Book on the public page; htmx reports availability as the date changes.
    page.goto(f"{live_server}/t/alpha/")
    page.get_by_role("radio", name="Silver").check()
    page.get_by_role("checkbox", name="Album").check()
    page.get_by_label("Your names").fill("Ana & <b>Bo</b>")
    page.get_by_label("Email").fill(address)
    page.locator("#event_date").fill(taken.isoformat())
    page.locator("#event_date").dispatch_event("change")
    page.locator('[data-testid="availability"][data-available="no"]').wait_for()
    with page.expect_response(lambda r: "/terms?" in r.url and day.isoformat() in r.url):
        page.locator("#event_date").fill(day.isoformat())
        page.locator("#event_date").dispatch_event("change")
    page.locator('[data-testid="availability"][data-available="yes"]').wait_for()
    page.get_by_label("Venue").fill("Lakeside Chapel")
    # The terms before committing: total, deposit, the schedule with dates, the policy in words.
    terms = page.get_by_test_id("terms")
    expect(terms.get_by_test_id("terms-total")).to_have_text("$1,500.50")
    expect(terms.get_by_test_id("terms-deposit")).to_have_text("$450.15")
    expect(terms.get_by_test_id("terms-schedule")).to_contain_text("due ")
    expect(terms.get_by_test_id("terms-policy")).to_contain_text("The deposit is not refundable")
    assert page.get_by_role("checkbox", name="Drone").count() == 1  # Silver's own add-on
    page.get_by_role("button", name="Request this booking").click()
    expect(page.locator("#accept_terms-error")).to_have_text("Tick the box to accept the terms.")
    # The terms panel refreshes after each change (htmx swaps it whole, checkbox included): tick
    # it once the refresh for the last change has landed.
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    page.get_by_role("checkbox", name="I have read and accept these terms").check()
    page.get_by_role("button", name="Request this booking").click()
    # The flow continues to the deposit checkout (tests/e2e/test_couple_payments.py pays it).
    page.get_by_role("heading", name="Pay $").wait_for()
    page.goto(f"{live_server}/t/alpha/received")
    page.get_by_role("heading", name="Booking received").wait_for()
    assert "Ana & <b>Bo</b>" in page.content().replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    # 2. The email reaches the SMTP server; its manage link opens the portal.
    first = links_in(text_of(inbox.wait_for(address, subject="Booking received")[0]))
    assert first["manage"].startswith(live_server)
    page.goto(first["manage"])
    page.get_by_role("heading", name="Your booking").wait_for()
    assert page.locator('[data-testid="event-date"]').get_attribute("data-date") == day.isoformat()

    # 3. Reschedule: the picker offers free dates only; month navigation is htmx.
    page.get_by_role("link", name="Move to another date").click()
    month = page.locator('[data-testid="picker-month"]')
    assert month.inner_text() == day.strftime("%B %Y")
    assert page.locator(f'input[name="event_date"][value="{taken.isoformat()}"]').count() == 0
    assert page.locator(f'input[name="event_date"][value="{day.isoformat()}"]').count() == 0  # its own date
    page.get_by_label("Next month").click()
    page.wait_for_function("m => document.querySelector('[data-testid=picker-month]').innerText !== m",
                           arg=day.strftime("%B %Y"))
    page.get_by_label("Previous month").click()
    page.wait_for_function("m => document.querySelector('[data-testid=picker-month]').innerText === m",
                           arg=day.strftime("%B %Y"))
    page.locator(f'input[name="event_date"][value="{new_day.isoformat()}"]').check()
    page.get_by_role("button", name="Move my booking").click()
    page.get_by_role("heading", name="Your booking is moved").wait_for()
    page.reload()  # POST, then redirect: a reload shows the booking, it does not resubmit
    page.get_by_role("heading", name="Your booking is moved").wait_for()
    assert page.locator('[data-testid="event-date"]').get_attribute("data-date") == new_day.isoformat()

    # 4. A new email with fresh links; the old link now shows the used/expired page.
    second = links_in(text_of(inbox.wait_for(address, subject="Booking rescheduled")[0]))
    assert second["manage"] != first["manage"]
    page.goto(first["manage"])
    page.get_by_role("heading", name="This link has expired or was already used").wait_for()
    assert page.get_by_role("link", name="Email me a fresh link").count() == 1

    # 5. Cancel from the new link, with a confirmation page; the date is free again.
    page.goto(second["manage"])
    assert page.locator('[data-testid="event-date"]').get_attribute("data-date") == new_day.isoformat()
    page.get_by_role("link", name="Cancel booking").click()
    page.get_by_role("heading", name="Cancel your booking?").wait_for()
    page.get_by_role("button", name="Yes, cancel my booking").click()
    page.get_by_role("heading", name="Your booking is canceled").wait_for()
    page.reload()
    page.get_by_role("heading", name="Your booking is canceled").wait_for()
    expect(page.get_by_test_id("status")).to_have_attribute("data-status", "canceled")
    canceled = inbox.wait_for(address, subject="Booking canceled")[0]
    calendars = [p for p in canceled.iter_attachments() if p.get_content_type() == "text/calendar"]
    body = calendars[0].get_content()
    assert "METHOD:CANCEL" in (body if isinstance(body, str) else body.decode())
    with app.app_context():
        assert availability.date_problem(db.session, tenant_a.tenant_id, new_day) is None
        db.session.remove()
    page.goto(f"{live_server}/t/alpha/availability?event_date={new_day.isoformat()}")
    assert 'data-available="yes"' in page.content()


def test_a_date_changed_just_as_the_terms_arrive_still_refreshes_them(app, live_server, page, tenant_a,
                                                                      payments_sim):
    """htmx wires a swapped-in element when it settles; a refresh asked for before that was lost
    (the couple saw the terms of the date before). The change here lands 0 ms after the swap."""
    make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    month = local_today(app, tenant_a.tenant_id) + timedelta(days=60)
    first, second, third = (date(month.year, month.month, d) for d in (10, 11, 12))
    page.goto(f"{live_server}/t/alpha/")
    page.get_by_role("radio", name="Silver").check()
    with page.expect_response(lambda r: "/terms?" in r.url and first.isoformat() in r.url):
        page.locator("#event_date").fill(first.isoformat())
    page.evaluate("""(day) => {
        document.body.addEventListener("htmx:afterSwap", (event) => {
            if (event.detail.target.id !== "terms" || window.changedOnce) return;
            window.changedOnce = true;
            setTimeout(() => {
                const input = document.getElementById("event_date");
                input.value = day;
                input.dispatchEvent(new Event("change", { bubbles: true }));
            }, 0);
        });
    }""", third.isoformat())
    # Without the fix no request for the third date is ever sent: the wait times out.
    with page.expect_response(lambda r: "/terms?" in r.url and third.isoformat() in r.url):
        page.locator("#event_date").fill(second.isoformat())
