"""What happens to the money on a vendor's account: the platform fee on each charge and its
refund rule, the balance and payouts the vendor sees, and disputes."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.integration.payments.helpers import payments_of, process_stored, signed_post, stored_events
from tests.integration.refunds.helpers import paid_booking, parts, request_refund, run_part


@pytest.fixture()
def platform_fee(app):
    saved = {k: app.config.get(k) for k in ("PLATFORM_FEE_BP", "PLATFORM_FEE_FIXED")}
    app.config.update(PLATFORM_FEE_BP=150, PLATFORM_FEE_FIXED={"USD": 30})
    yield
    app.config.update(saved)


def test_each_charge_carries_the_platform_fee_and_a_refund_returns_it_in_proportion(
        app, client, owner_client, shop, tenant_a, payments_sim, platform_fee):
    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    [payment] = payments_of(app, booking_id)
    expected_fee = 1125 + 30  # 1.5 % of $750.00 plus $0.30
    vendor = payments_sim.client(account=tenant_a.stripe_account)
    pi = vendor.v1.payment_intents.retrieve(payment["intent"])
    assert pi.application_fee_amount == expected_fee
    fee = payments_sim.client().v1.application_fees.list().data[0]
    assert (fee.amount, fee.account) == (expected_fee, tenant_a.stripe_account)
    panel = owner_client.get(f"/dashboard/bookings/{booking_id}/payments").get_data(as_text=True)
    assert "platform fee $11.55" in panel
    # The payments received page and its CSV show the fee too, with a total.
    received = owner_client.get("/dashboard/payments/received").get_data(as_text=True)
    assert 'data-testid="received-fee">$11.55' in received and 'data-testid="fees-total-USD"' in received
    export = owner_client.get("/dashboard/payments/received.csv").get_data(as_text=True)
    assert export.splitlines()[0].split(",")[9] == "platform_fee" and ",11.55," in export

    request_refund(app, tenant_a, booking_id, 30000)
    [part] = parts(app, booking_id)
    assert run_part(app, part["id"]) in ("processing", "succeeded")
    refund_call = payments_sim.control.requests("/v1/refunds", method="POST")[-1]
    assert refund_call["params"]["refund_application_fee"] == "true"
    assert refund_call["stripe_account"] == tenant_a.stripe_account
    fee = payments_sim.client().v1.application_fees.retrieve(fee.id)
    assert fee.amount_refunded == 462  # 1155 * 300 / 750


def test_the_monthly_statement_shows_fees_and_fee_refunds(app, client, owner_client, shop, tenant_a,
                                                          payments_sim, platform_fee):
    from app.extensions import db
    from app.models import Payment

    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    with app.app_context():  # as if 300.00 of it came back (settlement is tested elsewhere)
        db.session.execute(Payment.__table__.update().where(Payment.booking_id == booking_id)
                           .values(refunded_minor=30000))
        db.session.commit()
        db.session.remove()
    page = owner_client.get("/dashboard/payments-account").get_data(as_text=True)
    assert "1.5 % + 30 USD minor units" in page
    line = page[page.index('data-testid="statement-line"'):]
    assert "$750.00" in line and "$11.55" in line and "$4.62" in line
    assert 'data-testid="net-fees">$6.93<' in line


def test_the_vendor_sees_its_balance_and_payouts_fetched_briefly_cached(
        app, client, owner_client, shop, tenant_a, payments_sim):
    from app.services.connect import payouts

    payouts.forget(tenant_a.stripe_account)
    paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    [payout] = payments_sim.control.pay_out(tenant_a.stripe_account)
    payments_sim.control.clear_requests()
    first = owner_client.get("/dashboard/payments-account/money",
                             headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in first  # the fragment the account page loads
    assert 'data-testid="payout" data-status="in_transit"' in first and "$750.00: arrives on" in first
    assert "<strong>$0.00</strong>" in first.split("Recent payouts")[0]
    owner_client.get("/dashboard/payments-account/money")
    calls = payments_sim.control.requests("/v1/")
    assert [c["path"] for c in calls] == ["/v1/balance", "/v1/payouts"]  # the second view: cached
    assert {c["stripe_account"] for c in calls} == {tenant_a.stripe_account}
    payouts.forget(tenant_a.stripe_account)
    payments_sim.control.payout_paid(payout["id"])
    page = owner_client.get("/dashboard/payments-account/money").get_data(as_text=True)
    assert 'data-status="paid"' in page and "<html" in page  # without htmx: a page of its own


def test_a_dispute_reaches_the_owner_once_shows_on_the_booking_and_settles_when_lost(
        app, client, owner_client, shop, tenant_a, payments_sim, db_session):
    from app.models import Dispute, OutboundEmail

    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    [payment] = payments_of(app, booking_id)
    charge = payments_sim.client(account=tenant_a.stripe_account).v1.payment_intents.retrieve(
        payment["intent"]).latest_charge
    dispute = payments_sim.control.open_dispute(charge, "product_not_received")
    vendor = payments_sim.client(account=tenant_a.stripe_account)
    created = vendor.v1.events.list(params={"type": "charge.dispute.created"}).data[0].to_dict()
    for _ in range(2):  # delivered twice
        signed_post(client, "", created)
    assert process_stored(app, created["id"]) == "processed"
    [row] = db_session.scalars(select(Dispute)).all()
    assert (row.amount_minor, row.status, row.booking_id) == (75000, "needs_response", booking_id)
    mails = db_session.scalars(select(OutboundEmail).where(OutboundEmail.kind == "dispute_opened")).all()
    assert [m.to_addr for m in mails] == [tenant_a.email]
    assert "$750.00" in mails[0].subject and "service was not provided" in mails[0].text_body
    assert f"/connect/dashboard/{tenant_a.stripe_account}" in mails[0].text_body
    assert "before " in mails[0].text_body  # the evidence due date
    panel = owner_client.get(f"/dashboard/bookings/{booking_id}/payments").get_data(as_text=True)
    assert 'data-testid="dispute" data-status="needs_response"' in panel
    assert 'data-testid="open-disputes"' in owner_client.get("/dashboard/payments-account").get_data(
        as_text=True)
    assert 'data-testid="disputes-open"' in owner_client.get("/dashboard/").get_data(as_text=True)
    timeline = owner_client.get(f"/dashboard/bookings/{booking_id}").get_data(as_text=True)
    assert "dispute.opened" in timeline

    payments_sim.control.close_dispute(dispute["id"], "lost")
    closed = vendor.v1.events.list(params={"type": "charge.dispute.closed"}).data[0].to_dict()
    signed_post(client, "", closed)
    assert process_stored(app, closed["id"]) == "processed"
    db_session.expire_all()
    assert db_session.get(Dispute, row.id).status == "lost"
    assert len(db_session.scalars(select(OutboundEmail).where(
        OutboundEmail.kind == "dispute_closed")).all()) == 1
    panel = owner_client.get(f"/dashboard/bookings/{booking_id}/payments").get_data(as_text=True)
    assert 'data-status="lost"' in panel and "went back to the cardholder" in panel
    assert "Lost to disputes: <strong>$750.00</strong>" in panel
    assert len([e for e in stored_events(app) if e["type"].startswith("charge.dispute")]) == 2


def test_a_dispute_event_from_another_account_changes_nothing(
        app, client, shop, tenant_a, tenant_b, payments_sim, db_session):
    from app.models import Dispute

    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    [payment] = payments_of(app, booking_id)
    charge = payments_sim.client(account=tenant_a.stripe_account).v1.payment_intents.retrieve(
        payment["intent"]).latest_charge
    payments_sim.control.open_dispute(charge)
    created = payments_sim.client(account=tenant_a.stripe_account).v1.events.list(
        params={"type": "charge.dispute.created"}).data[0].to_dict()
    forged = {**created, "id": "evt_dispute_from_b", "account": tenant_b.stripe_account}
    signed_post(client, "", forged)
    assert process_stored(app, forged["id"]) == "ignored"
    assert db_session.scalars(select(Dispute)).all() == []
