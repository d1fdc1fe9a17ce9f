"""The owner's Payments account page: connecting through Stripe's onboarding (the simulator's
stand-in page), the status and what is missing, and what couples see until charges are enabled."""
from __future__ import annotations

import urllib.parse
import urllib.request
from urllib.parse import urlsplit

from sqlalchemy import select

from tests.fixtures.accounts import login
from tests.fixtures.portal import csrf_from
from tests.integration.bookings.helpers import make_catalog
from tests.integration.payments.helpers import checkout_path, creates, new_booking, stages


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _onboard_at_stripe(link: str, outcome: str) -> str:
    """What the owner does on Stripe's hosted onboarding page; returns where Stripe sends them."""
    page = urllib.request.urlopen(link).read().decode()
    assert "Complete onboarding" in page
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(link, data=urllib.parse.urlencode({"outcome": outcome}).encode())
    except urllib.error.HTTPError as exc:
        assert exc.code == 303
        return exc.headers["Location"]
    raise AssertionError("the onboarding page did not redirect")


def _connect(owner, outcome: str) -> str:
    page = owner.get("/dashboard/payments-account").get_data(as_text=True)
    assert 'data-state="not_connected"' in page
    started = owner.post("/dashboard/payments-account/connect", data={"csrf_token": csrf_from(page)})
    assert started.status_code == 303
    back = _onboard_at_stripe(started.headers["Location"], outcome)
    assert urlsplit(back).path == "/dashboard/payments-account/return"
    owner.get(urlsplit(back).path, follow_redirects=False)
    return owner.get("/dashboard/payments-account").get_data(as_text=True)


def test_a_new_vendor_connects_through_onboarding_and_can_take_charges(
        app, make_account, payments_sim, db_session):
    from app.models import Tenant

    vendor = make_account("fresh", connected=False)
    owner = app.test_client()
    login(owner, vendor.email)
    page = _connect(owner, "complete")
    assert 'data-state="active"' in page and 'data-enabled="true"' in page
    tenant = db_session.scalar(select(Tenant).where(Tenant.id == vendor.tenant_id))
    assert tenant.stripe_account_id and tenant.can_take_charges
    account = payments_sim.client().v1.accounts.retrieve(tenant.stripe_account_id)
    assert account.email == vendor.email and account.metadata["tenant_id"] == str(vendor.tenant_id)
    dashboard = owner.get("/dashboard/payments-account/stripe-dashboard")
    assert dashboard.headers["Location"].endswith(f"/connect/dashboard/{tenant.stripe_account_id}")
    # A second click makes no second account (the idempotency key comes from the tenant id).
    again = owner.post("/dashboard/payments-account/connect",
                       data={"csrf_token": csrf_from(page)})
    assert again.status_code == 302 or again.status_code == 303
    assert len(payments_sim.client().v1.accounts.list().data) == 1


def test_requirements_due_keep_payments_closed_and_tell_the_owner_what_is_missing(
        app, client, make_account, payments_sim):
    vendor = make_account("pending", connected=False)
    shop = make_catalog(app, vendor.tenant_id, vendor.user_id)
    owner = app.test_client()
    login(owner, vendor.email)
    page = _connect(owner, "requirements_due")
    assert 'data-state="requirements_due"' in page and 'data-enabled="false"' in page
    assert "an identity document for the account holder" in page
    assert 'data-testid="connect"' in page  # "Continue with Stripe" to finish
    # Couples: the public page says online booking opens soon (a 30 % deposit is required) ...
    public = client.get("/t/pending/").get_data(as_text=True)
    assert 'data-testid="opening-soon"' in public and 'name="package_id"' not in public
    # ... and a checkout reached anyway (a booking made by the owner) explains, without Stripe.
    booking_id = new_booking(app, vendor, shop.package_id)
    payments_sim.control.clear_requests()
    checkout = client.get(checkout_path(app, "pending", vendor.tenant_id, stages(app, booking_id)[0]["id"]))
    assert checkout.status_code == 200
    assert 'data-state="unavailable"' in checkout.get_data(as_text=True)
    assert creates(payments_sim) == []


def test_an_unconnected_tenant_without_deposit_still_takes_bookings(app, client, make_account):
    from app.extensions import db
    from app.services.payments import settings as payment_settings

    vendor = make_account("nodeposit", connected=False)
    make_catalog(app, vendor.tenant_id, vendor.user_id)
    with app.app_context():
        form = payment_settings.RuleForm(mode="deposit", deposit_kind="percent", deposit_percent="0",
                                         deposit_amount="", balance_due_days="30")
        payment_settings.save_rule(db.session, vendor.tenant_id, None, form,
                                   actor_user_id=vendor.user_id)
        db.session.remove()
    public = client.get("/t/nodeposit/").get_data(as_text=True)
    assert 'name="package_id"' in public and "opening-soon" not in public


def test_account_updated_webhook_keeps_the_status_current(app, client, make_account, payments_sim,
                                                           db_session):
    from app.models import Tenant
    from tests.integration.payments.helpers import process_stored, signed_post

    vendor = make_account("later", connected=False)
    owner = app.test_client()
    login(owner, vendor.email)
    _connect(owner, "requirements_due")
    account_id = db_session.scalar(select(Tenant.stripe_account_id).where(Tenant.id == vendor.tenant_id))
    payments_sim.control.onboard(account_id, "complete")  # the owner finished at Stripe later
    event = payments_sim.client(account=account_id).v1.events.list(
        params={"type": "account.updated", "limit": 1}).data[0].to_dict()
    assert signed_post(client, "", event).status_code == 200
    assert process_stored(app, event["id"]) == "processed"
    db_session.expire_all()
    assert db_session.get(Tenant, vendor.tenant_id).can_take_charges
    assert 'data-state="active"' in owner.get("/dashboard/payments-account").get_data(as_text=True)
