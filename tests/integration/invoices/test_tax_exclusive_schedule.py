"""With tax-exclusive prices the couple owes price + tax: the schedule collects exactly the
invoice total, and paying every stage leaves the invoice paid with nothing outstanding."""
from __future__ import annotations

from sqlalchemy import select

from tests.integration.invoices.helpers import confirmed_booking, deliver_all, documents, set_invoice_settings


def test_stages_sum_to_the_invoice_total_when_prices_exclude_tax(app, owner_client, tenant_a, shop,
                                                                 db_session):
    from app.extensions import db
    from app.models import Booking, PaymentStage
    from app.services.payments import recording as payments
    from app.web.links import WebLinks

    set_invoice_settings(app, tenant_a, tax_rate_bp=2000, tax_inclusive=False, tax_label="VAT")
    booking_id = confirmed_booking(app, tenant_a, shop.package_id)  # Gold $2,500.00 net
    booking = db_session.get(Booking, booking_id)
    stages = db_session.scalars(select(PaymentStage).where(PaymentStage.booking_id == booking_id)).all()
    assert booking.total_minor == 300000  # $2,500 + 20 % VAT
    assert sum(s.amount_minor for s in stages) == 300000
    deliver_all(app)
    invoice = next(d for d in documents(app, booking_id) if d["kind"] == "invoice")
    assert (invoice["total"], invoice["tax"]) == (300000, 50000)

    with app.app_context():
        payments.record_offline_payment(
            db.session, tenant_a.tenant_id, booking_id,
            payments.OfflinePayment(stage_ids=[s.id for s in stages], method="bank_transfer"),
            WebLinks(app), actor_user_id=tenant_a.user_id)
        db.session.remove()
    db_session.expire_all()
    assert db_session.get(Booking, booking_id).status == "paid_in_full"
    register = owner_client.get("/dashboard/invoices?status=paid").get_data(as_text=True)
    assert f'data-number="{invoice["number"]}" data-status="paid"' in register


def test_inclusive_prices_are_what_the_couple_owes(app, tenant_a, shop, db_session):
    from app.models import Booking

    set_invoice_settings(app, tenant_a, tax_rate_bp=2000, tax_inclusive=True)
    booking_id = confirmed_booking(app, tenant_a, shop.package_id)
    assert db_session.get(Booking, booking_id).total_minor == 250000
