"""Every money form of the dashboard, walked with malformed and ambiguous amounts for a German
vendor (EUR, de_DE): each answer is a form error (never a 500) and nothing is written."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.fixtures.accounts import login
from tests.fixtures.portal import csrf_from
from tests.integration.payments.helpers import booking_status
from tests.integration.refunds.helpers import paid_booking

BAD = ["1,2,3", "1 000,50", "12.50", "1e30", "1E3", "NaN", "Infinity", "-5", "+5", "١٢٣",
       "12345678901234567890", "9" * 25, "1.000.000,00", "12,505", "€12", "0x10", "1_000"]


def _state(app, tenant_id: int, booking_id: int) -> dict:
    """Everything a money form could write, for before/after comparisons."""
    from app.extensions import db
    from app.models import AddOn, AuditEvent, Package, PaymentSettings, RefundRequest

    with app.app_context():
        s = db.session
        state = {
            "packages": s.execute(select(Package.id, Package.title, Package.price_minor)
                                  .where(Package.tenant_id == tenant_id).order_by(Package.id)).all(),
            "add_ons": s.execute(select(AddOn.id, AddOn.title, AddOn.price_minor)
                                 .where(AddOn.tenant_id == tenant_id).order_by(AddOn.id)).all(),
            "settings": s.execute(select(PaymentSettings.id, PaymentSettings.deposit_fixed_minor,
                                         PaymentSettings.deposit_bp)
                                  .where(PaymentSettings.tenant_id == tenant_id)).all(),
            "refunds": s.scalar(select(func.count()).select_from(RefundRequest)
                                .where(RefundRequest.tenant_id == tenant_id)),
            "audit": s.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.tenant_id == tenant_id)),
        }
        db.session.remove()
    state["booking"] = booking_status(app, booking_id)
    return state


@pytest.fixture()
def german_vendor(app, client, make_account, payments_sim):
    from app.extensions import db
    from app.services.accounts import tenants
    from app.services.bookings import catalog

    account = make_account("berlin", currency="EUR", timezone="Europe/Berlin")
    with app.app_context():
        tenants.update_settings(db.session, account.tenant_id, account.user_id, {"locale": "de_DE"})
        package = catalog.save_package(db.session, account.tenant_id, account.user_id, title="Gold",
                                       description="", price_text="2.500,00")
        add_on = catalog.save_add_on(db.session, account.tenant_id, account.user_id, title="Album",
                                     description="", price_text="300,50", package_id=None)
        ids = package.id, add_on.id
        db.session.remove()
    booking_id = paid_booking(app, client, payments_sim, account, ids[0])
    owner = app.test_client()
    login(owner, account.email)
    return account, owner, ids[0], ids[1], booking_id


def _forms(package_id: int, add_on_id: int, booking_id: int):
    """(name, url, form data with the amount field set to {amount})."""
    schedule = {"mode": "deposit", "deposit_kind": "fixed", "deposit_percent": "30",
                "balance_due_days": "30"}
    return [
        ("new package", "/dashboard/catalog/packages", {"title": "Silver", "description": ""}, "price"),
        ("edit package", f"/dashboard/catalog/packages/{package_id}/edit",
         {"title": "Gold", "description": ""}, "price"),
        ("new add-on", "/dashboard/catalog/add-ons",
         {"title": "Drone", "description": "", "package_id": ""}, "price"),
        ("edit add-on", f"/dashboard/catalog/add-ons/{add_on_id}/edit",
         {"title": "Album", "description": "", "package_id": ""}, "price"),
        ("default fixed deposit", "/dashboard/payments/settings", schedule, "deposit_amount"),
        ("package fixed deposit", f"/dashboard/packages/{package_id}/payments", schedule,
         "deposit_amount"),
        ("refund", f"/dashboard/bookings/{booking_id}/refunds",
         {"reason": "requested_by_customer", "note": ""}, "amount"),
        ("cancel with refund", f"/dashboard/bookings/{booking_id}/cancel-with-refund",
         {"note": ""}, "refund_amount"),
    ]


def test_every_money_form_refuses_every_bad_amount_and_writes_nothing(app, german_vendor) -> None:
    account, owner, package_id, add_on_id, booking_id = german_vendor
    token = csrf_from(owner.get("/dashboard/catalog").get_data(as_text=True))
    before = _state(app, account.tenant_id, booking_id)
    for name, url, data, field in _forms(package_id, add_on_id, booking_id):
        for bad in BAD:
            response = owner.post(url, data={**data, field: bad, "csrf_token": token},
                                  headers={"HX-Request": "true"})
            body = response.get_data(as_text=True)
            assert response.status_code == 400, (name, bad, response.status_code, body[:800])
            assert 'aria-invalid="true"' in body or "error-summary" in body, (name, bad, body[:800])
        preview = owner.get(f"/dashboard/bookings/{booking_id}/refunds/preview",
                            query_string={"amount": bad}, headers={"HX-Request": "true"})
        assert preview.status_code == 200 and 'data-testid="split-problem"' in preview.get_data(
            as_text=True), bad
    for bad in [*BAD, "101", "12.5"]:  # percentages: German decimals, 0 to 100
        response = owner.post("/dashboard/refunds/policy",
                              data={"tiers-0-days": "30", "tiers-0-percent": bad,
                                    "csrf_token": token})
        body = response.get_data(as_text=True)
        assert response.status_code == 400 and ("error-summary" in body or "class=\"error\"" in body), bad
    assert _state(app, account.tenant_id, booking_id) == before


def test_money_forms_show_the_expected_format_and_name_it_in_the_error(app, german_vendor) -> None:
    account, owner, package_id, add_on_id, booking_id = german_vendor
    page = owner.get("/dashboard/catalog").get_data(as_text=True)
    assert 'placeholder="1.234,50"' in page and "Format: 1.234,50 (EUR)" in page
    token = csrf_from(page)
    refused = owner.post("/dashboard/catalog/packages",
                         data={"title": "Silver", "description": "", "price": "1,2,3",
                               "csrf_token": token}, headers={"HX-Request": "true"})
    assert "Enter the amount as in 1.234,50" in refused.get_data(as_text=True)
    ok = owner.post("/dashboard/catalog/packages",
                    data={"title": "Silver", "description": "", "price": "1.500,00",
                          "csrf_token": token}, headers={"HX-Request": "true"})
    assert ok.status_code == 200
    assert [p[2] for p in _state(app, account.tenant_id, booking_id)["packages"]] == [250_000, 150_000]
    settings = owner.get("/dashboard/payments/settings").get_data(as_text=True)
    assert 'placeholder="1.234,50"' in settings
    policy = owner.post("/dashboard/refunds/policy", data={
        "tiers-0-days": "30", "tiers-0-percent": "12,5", "csrf_token": token})
    assert policy.status_code == 302
    assert 'value="12,5"' in owner.get("/dashboard/refunds/policy").get_data(as_text=True)


def test_signup_and_settings_refuse_currencies_stripe_cannot_charge(app, owner_client,
                                                                    tenant_a) -> None:
    from tests.fixtures.portal import post_form

    for code in ("XXX", "XTS", "XAU"):
        response = post_form(owner_client, "/dashboard/settings", {
            "name": "Alpha", "timezone": "America/New_York", "currency": code, "locale": "en_US",
            "contact_email": "", "address": "", "tax_id": ""})
        assert response.status_code == 400
        assert "Stripe can charge" in response.get_data(as_text=True)
    bad_locale = post_form(owner_client, "/dashboard/settings", {
        "name": "Alpha", "timezone": "America/New_York", "currency": "USD", "locale": "xx_YY",
        "contact_email": "", "address": "", "tax_id": ""})
    assert bad_locale.status_code == 400 and "Choose a locale" in bad_locale.get_data(as_text=True)
    from app.extensions import db
    from app.models import Tenant

    with app.app_context():
        tenant = db.session.get(Tenant, tenant_a.tenant_id)
        assert (tenant.currency, tenant.locale) == ("USD", "en_US")
        db.session.remove()
    fine = post_form(owner_client, "/dashboard/settings", {
        "name": "Alpha", "timezone": "America/New_York", "currency": "KWD", "locale": "ar_KW",
        "contact_email": "", "address": "", "tax_id": ""})
    assert fine.status_code == 302
