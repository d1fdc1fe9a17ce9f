"""Dashboard payment pages, payment settings, the portal's "Pay balance", and tenant isolation."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fixtures.accounts import login
from tests.fixtures.portal import post_form
from tests.integration.bookings.helpers import future, outbox_links, path_of
from tests.integration.payments.helpers import (
    booking_status,
    checkout_path,
    client_secret,
    confirm,
    intent_id,
    new_booking,
    payments_of,
    stages,
)


def _settings(client, path: str, **fields):
    data = {"mode": "deposit", "deposit_kind": "percent", "deposit_percent": "", "deposit_amount": "",
            "balance_due_days": "30"}
    for n in range(4):
        data.update({f"installments-{n}-percent": "", f"installments-{n}-anchor": "event",
                     f"installments-{n}-days": ""})
    data.update(fields)
    return post_form(client, path, data)


def test_tenant_schedule_and_package_override_shape_new_bookings(app, owner_client, shop, tenant_a):
    response = _settings(owner_client, "/dashboard/payments/settings", deposit_kind="fixed",
                         deposit_amount="500.00", balance_due_days="45")
    assert response.status_code == 302
    override = _settings(owner_client, f"/dashboard/packages/{shop.other_package_id}/payments",
                         mode="installments", **{
                             "installments-0-percent": "25", "installments-1-percent": "25",
                             "installments-1-anchor": "booking", "installments-1-days": "30",
                             "installments-2-percent": "50", "installments-2-days": "14"})
    assert override.status_code == 302, override.get_data(as_text=True)[:2000]
    gold = stages(app, new_booking(app, tenant_a, shop.package_id, days=100))
    assert [(s["kind"], s["amount"]) for s in gold] == [("deposit", 50000), ("balance", 200000)]
    silver_id = new_booking(app, tenant_a, shop.other_package_id, days=101)
    silver = stages(app, silver_id)
    assert [s["amount"] for s in silver] == [30000, 30000, 60000]
    day = future(app, tenant_a.tenant_id, 101)
    assert silver[2]["due"] == day - timedelta(days=14)
    assert silver[1]["due"] == silver[0]["due"] + timedelta(days=30)


@pytest.mark.parametrize(("fields", "message"), [
    ({"deposit_percent": "120"}, "between 0 and 100"),
    ({"deposit_percent": "abc"}, "percentage such as"),
    ({"deposit_kind": "fixed", "deposit_amount": "12.345"}, "at most 2 decimals"),
    ({"mode": "installments", "installments-0-percent": "50", "installments-1-percent": "40"},
     "add up to 100"),
])
def test_bad_schedule_settings_are_refused(app, owner_client, tenant_a, fields, message):
    response = _settings(owner_client, "/dashboard/payments/settings",
                         **({"deposit_percent": "30"} | fields))
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_three_installments_move_with_a_reschedule(app, owner_client, shop, tenant_a):
    from app.extensions import db
    from app.services.bookings import lifecycle as bookings
    from app.web.links import WebLinks

    _settings(owner_client, "/dashboard/payments/settings", mode="installments", **{
        "installments-0-percent": "20", "installments-1-percent": "30", "installments-1-days": "60",
        "installments-2-percent": "50", "installments-2-anchor": "event", "installments-2-days": "14"})
    booking_id = new_booking(app, tenant_a, shop.package_id, days=120)
    before = stages(app, booking_id)
    assert [s["amount"] for s in before] == [50000, 75000, 125000]
    with app.app_context():
        booking = bookings.get_booking(db.session, tenant_a.tenant_id, booking_id)
        bookings.reschedule(db.session, booking, booking.event_date + timedelta(days=21), WebLinks(app),
                            actor="user", enforce_cutoff=False)
        db.session.remove()
    after = stages(app, booking_id)
    assert after[0]["due"] == before[0]["due"]
    assert [a["due"] - b["due"] for a, b in zip(after[1:], before[1:], strict=True)] == [timedelta(days=21)] * 2
    assert [s["amount"] for s in after] == [50000, 75000, 125000]


def test_outstanding_balances_show_due_dates_and_overdue_marks(app, owner_client, shop, tenant_a):
    from app.services.shared import clock

    soon = new_booking(app, tenant_a, shop.package_id, days=20)   # balance due 30 days before: today
    later = new_booking(app, tenant_a, shop.package_id, days=90)
    html = owner_client.get("/dashboard/payments").get_data(as_text=True)
    assert html.count('data-testid="outstanding-row"') == 4 and 'data-overdue="yes"' not in html
    assert "$5,000.00" in html
    clock.advance(timedelta(days=3))
    html = owner_client.get("/dashboard/payments").get_data(as_text=True)
    assert html.count('data-overdue="yes"') == 3  # both deposits and the near balance
    fragment = owner_client.get(f"/dashboard/bookings/{soon}/payments").get_data(as_text=True)
    assert fragment.count('data-testid="overdue"') == 2
    assert later


def test_offline_payment_confirms_and_the_rest_settles_the_booking(app, owner_client, shop, tenant_a):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    form_page = f"/dashboard/bookings/{booking_id}/payments"
    response = post_form(owner_client, f"/dashboard/bookings/{booking_id}/payments/offline",
                         {"scope": "next", "method": "bank_transfer", "note": "Ref <b>42</b>",
                          "received_on": ""}, get_url=form_page)
    assert response.status_code == 302
    assert booking_status(app, booking_id) == "confirmed"
    [payment] = payments_of(app, booking_id)
    assert (payment["method"], payment["amount"], payment["intent"]) == ("bank_transfer", 75000, None)
    html = owner_client.get(form_page).get_data(as_text=True)
    assert "Ref &lt;b&gt;42&lt;/b&gt;" in html and 'data-status="paid"' in html
    post_form(owner_client, f"/dashboard/bookings/{booking_id}/payments/offline",
              {"scope": "all", "method": "cash", "note": ""}, get_url=form_page)
    assert booking_status(app, booking_id) == "paid_in_full"
    assert [p["amount"] for p in payments_of(app, booking_id)] == [75000, 175000]
    nothing_left = post_form(owner_client, f"/dashboard/bookings/{booking_id}/payments/offline",
                             {"scope": "all", "method": "cash"}, get_url="/dashboard/settings")
    assert nothing_left.status_code == 400 and len(payments_of(app, booking_id)) == 2


def test_portal_pay_balance_offers_the_next_stage_or_everything(app, client, shop, tenant_a, payments_sim):
    from app.extensions import db
    from app.services.payments import recording as payments
    from app.services.payments import settings as payment_settings
    from app.web.links import WebLinks

    with app.app_context():
        payment_settings.save_rule(db.session, tenant_a.tenant_id, None, payment_settings.RuleForm(
            mode="installments", installments=(("20", "booking", "0"), ("30", "event", "60"),
                                               ("50", "event", "14"))), actor_user_id=tenant_a.user_id)
        db.session.remove()
    booking_id = new_booking(app, tenant_a, shop.package_id, days=120)
    deposit = stages(app, booking_id)[0]
    with app.app_context():
        payments.record_offline_payment(db.session, tenant_a.tenant_id, booking_id, payments.OfflinePayment(
            [deposit["id"]], "cash"), WebLinks(app), actor_user_id=tenant_a.user_id)
        db.session.remove()
    manage = path_of(outbox_links(app, booking_id)[-1]["manage"])
    assert "Pay balance" in client.get(manage).get_data(as_text=True)
    page = client.get(f"{manage}/pay").get_data(as_text=True)
    assert "Pay $750.00 now" in page and "Pay everything outstanding ($2,000.00)" in page
    go_all = client.get(f"{manage}/pay?go=all")
    assert go_all.status_code == 302
    html = client.get(go_all.headers["Location"]).get_data(as_text=True)
    assert "Pay $2,000.00" in html
    pi = intent_id(client_secret(html))
    confirm(payments_sim, pi)
    done = client.get(go_all.headers["Location"].split("?")[0] + f"/return?payment_intent={pi}")
    assert "paid in full" in done.get_data(as_text=True)
    assert booking_status(app, booking_id) == "paid_in_full"
    assert [s["status"] for s in stages(app, booking_id)] == ["paid", "paid", "paid"]
    assert 'data-testid="all-paid"' in client.get(f"{manage}/pay").get_data(as_text=True)


def test_tenant_a_gets_404_for_tenant_b_payment_pages(app, client, shop, shop_b, tenant_a, tenant_b,
                                                      payments_sim):
    from app.extensions import db
    from app.models import StripeEvent
    from app.services.shared import clock

    booking_b = new_booking(app, tenant_b, shop_b.package_id)
    stage_b = stages(app, booking_b)[0]["id"]
    with app.app_context():
        db.session.add(StripeEvent(stripe_id="evt_b", type="payment_intent.succeeded", tenant_id=tenant_b.tenant_id,
                                   object_id="pi_b", payload={}, status="failed", attempts=5, last_error="x",
                                   next_attempt_at=clock.now(), received_at=clock.now()))
        db.session.commit()
        event_b = db.session.query(StripeEvent.id).scalar()
        db.session.remove()
    owner_a = app.test_client()
    login(owner_a, tenant_a.email)
    for url in (f"/dashboard/bookings/{booking_b}/payments", f"/dashboard/packages/{shop_b.package_id}/payments"):
        assert owner_a.get(url).status_code == 404, url
    assert post_form(owner_a, f"/dashboard/bookings/{booking_b}/payments/offline",
                     {"scope": "next", "method": "cash"}, get_url="/dashboard/payments").status_code == 404
    assert post_form(owner_a, f"/dashboard/payments/events/{event_b}/replay", {},
                     get_url="/dashboard/payments/events").status_code == 404
    for action in ("save", "inherit"):
        assert post_form(owner_a, f"/dashboard/packages/{shop_b.package_id}/payments",
                         {"action": action, "mode": "deposit", "deposit_kind": "percent",
                          "deposit_percent": "99", "balance_due_days": "1"},
                         get_url="/dashboard/payments/settings").status_code == 404
    with app.app_context():
        from app.services.payments import settings as payment_settings

        assert payment_settings.stored_rule(db.session, tenant_b.tenant_id, shop_b.package_id) is None
        db.session.remove()
    assert "evt_b" not in owner_a.get("/dashboard/payments/events").get_data(as_text=True)
    assert "No balances outstanding." in owner_a.get("/dashboard/payments").get_data(as_text=True)
    # B's checkout reference under A's address, and a tampered reference.
    b_path = checkout_path(app, "bravo", tenant_b.tenant_id, stage_b)
    assert client.get(b_path.replace("/t/bravo/", "/t/alpha/")).status_code == 404
    assert client.get(b_path.replace("/t/bravo/", "/t/alpha/") + "/return?payment_intent=pi_x").status_code == 404
    assert client.get(b_path[:-3] + "abc").status_code == 404
    assert client.get(checkout_path(app, "alpha", tenant_a.tenant_id, stage_b)).status_code == 404
    assert payments_sim.control.requests("/v1/payment_intents") == []
    assert client.get(b_path).status_code == 200


def test_a_fixed_deposit_is_never_applied_in_another_currency(app, owner_client, tenant_a):
    """$500.00 set while the tenant sold in USD does not become ¥50,000 after a switch to JPY."""
    from app.extensions import db
    from app.services.accounts import tenants
    from app.services.bookings import catalog

    response = _settings(owner_client, "/dashboard/payments/settings", deposit_kind="fixed",
                         deposit_amount="500.00")
    assert response.status_code == 302
    with app.app_context():
        tenants.update_settings(db.session, tenant_a.tenant_id, tenant_a.user_id, {"currency": "JPY"})
        package_id = catalog.save_package(db.session, tenant_a.tenant_id, tenant_a.user_id, title="Kimono",
                                          description="", price_text="300000").id
        db.session.remove()
    yen = stages(app, new_booking(app, tenant_a, package_id))
    assert [(s["amount"], s["currency"]) for s in yen] == [(90000, "JPY"), (210000, "JPY")]  # default 30 %
    settings_page = owner_client.get("/dashboard/payments/settings").get_data(as_text=True)
    assert "was set in USD" in settings_page


def test_radio_and_checkbox_groups_are_named_by_a_legend(app, owner_client, shop, tenant_a):
    """A screen reader names a group of choices by its legend; a <label> cannot point at a list."""
    booking_id = new_booking(app, tenant_a, shop.package_id)
    pages = {"/dashboard/payments/settings": ("Schedule", "Deposit"),
             f"/dashboard/bookings/{booking_id}/payments": ("Settles",),
             "/dashboard/bookings/new": ("Package", "Add-ons")}
    for url, groups in pages.items():
        html = owner_client.get(url).get_data(as_text=True)
        for name in groups:
            assert f"<legend>{name}</legend>" in html, (url, name)
        for field_id in ("mode", "deposit_kind", "scope", "package_id", "add_on_ids"):
            assert f'<label for="{field_id}">' not in html, (url, field_id)
