"""A vendor in each currency and locale prices a package in its own format; a couple books, pays
the deposit and the balance through the simulator, and the vendor refunds part of it. What the
simulator charged and refunded equals what the pages, invoices, receipts and credit notes show,
and every amount is one Stripe accepts (the simulator enforces Stripe's currency rules)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.fixtures.accounts import login
from tests.fixtures.portal import csrf_from, post_form
from tests.integration.invoices.helpers import deliver_all, documents, pdf_text, set_invoice_settings, squash
from tests.integration.payments.helpers import checkout_path, new_booking, payments_of, stages
from tests.integration.refunds.helpers import pay_stage, run_part, sim_refunds

# (currency, locale, price as the vendor types it, the price in Stripe's minor units)
CASES = [
    ("USD", "en_US", "2,500.05", 250_005),
    ("EUR", "de_DE", "2.500,05", 250_005),
    ("EUR", "fr_FR", "2 500,05", 250_005),
    ("JPY", "ja_JP", "250,005", 250_005),
    ("ISK", "is_IS", "350.005", 35_000_500),
    ("HUF", "hu_HU", "900 005", 90_000_500),
    ("KWD", "ar_KW", "775.130", 775_130),
    ("BHD", "en_US", "950.330", 950_330),
    ("IDR", "id_ID", "35.000.005", 3_500_000_500),
]


def _set_locale(app, account, locale: str) -> None:
    from app.extensions import db
    from app.services.accounts import tenants

    with app.app_context():
        tenants.update_settings(db.session, account.tenant_id, account.user_id, {"locale": locale})
        db.session.remove()


def _outbox_subjects(app, tenant_id: int) -> list[str]:
    from app.extensions import db
    from app.models import OutboundEmail

    with app.app_context():
        rows = db.session.scalars(select(OutboundEmail.subject)
                                  .where(OutboundEmail.tenant_id == tenant_id)).all()
        db.session.remove()
    return list(rows)


@pytest.mark.parametrize(("currency", "locale", "price_text", "price_minor"), CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_book_pay_and_refund_in_every_currency_match_stripe_to_the_minor_unit(
        app, client, make_account, payments_sim, currency, locale, price_text, price_minor):
    from app.services.shared import currencies
    from app.services.shared.money import amount_to_form_text, format_money
    from stripe_sim import currencies as stripe_rules

    def shown(minor: int) -> str:
        return format_money(minor, currency, locale)

    account = make_account(f"shop-{currency.lower()}-{locale[:2]}", currency=currency)
    _set_locale(app, account, locale)
    set_invoice_settings(app, account, tax_rate_bp=750, tax_inclusive=False)  # 7.5 % on top
    owner = app.test_client()
    login(owner, account.email)

    created = post_form(owner, "/dashboard/catalog/packages",
                        {"title": "Full day", "description": "", "price": price_text},
                        get_url="/dashboard/catalog")
    assert created.status_code in (200, 302), created.get_data(as_text=True)[:1500]
    catalog_page = owner.get("/dashboard/catalog").get_data(as_text=True)
    assert shown(price_minor) in catalog_page
    from app.extensions import db
    from app.models import Package

    with app.app_context():
        package = db.session.scalar(select(Package).where(Package.tenant_id == account.tenant_id))
        assert (package.price_minor, package.currency) == (price_minor, currency)
        package_id = package.id
        db.session.remove()

    step = currencies.get(currency).step
    booking_id = new_booking(app, account, package_id, days=120)
    rows = stages(app, booking_id)
    assert [r["kind"] for r in rows] == ["deposit", "balance"]
    total = sum(r["amount"] for r in rows)
    assert total % step == 0 and all(r["amount"] % step == 0 for r in rows)

    # The couple's checkout page shows exactly what the simulator is asked to charge.
    page = client.get(checkout_path(app, account.slug, account.tenant_id, rows[0]["id"]))
    assert f"Pay {shown(rows[0]['amount'])}" in page.get_data(as_text=True)
    deposit_pi = pay_stage(app, client, payments_sim, account, rows[0]["id"])
    balance_pi = pay_stage(app, client, payments_sim, account, rows[1]["id"])
    for pi_id, row in ((deposit_pi, rows[0]), (balance_pi, rows[1])):
        # Direct charges: the intent lives on the vendor's connected account.
        at_stripe = payments_sim.client_for("payment_intent", pi_id).v1.payment_intents.retrieve(pi_id)
        assert (at_stripe.amount, at_stripe.currency, at_stripe.status) == (
            row["amount"], currency.lower(), "succeeded")
        assert at_stripe.amount % stripe_rules.STEPS.get(currency.lower(), 1) == 0
    assert sorted(p["amount"] for p in payments_of(app, booking_id)) == sorted(r["amount"] for r in rows)

    # The vendor refunds a third of the deposit, typed in its own format.
    wanted = rows[0]["amount"] // 3 // step * step
    refund_text = amount_to_form_text(wanted, currency, locale)
    detail = owner.get(f"/dashboard/bookings/{booking_id}").get_data(as_text=True)
    refunded = owner.post(f"/dashboard/bookings/{booking_id}/refunds",
                          data={"amount": refund_text, "reason": "requested_by_customer",
                                "note": "", "csrf_token": csrf_from(detail)})
    assert refunded.status_code == 302, refunded.get_data(as_text=True)[:1500]
    from tests.integration.refunds.helpers import parts

    [part] = parts(app, booking_id)
    assert part["amount"] == wanted
    assert run_part(app, part["id"]) == "processing"
    [refund] = sim_refunds(payments_sim)
    assert (refund["amount"], refund["currency"]) == (wanted, currency.lower())

    # Pages: the vendor's payments panel and the couple's balance.
    panel = owner.get(f"/dashboard/bookings/{booking_id}/payments").get_data(as_text=True)
    assert shown(total) in panel and shown(rows[0]["amount"]) in panel
    refunds_panel = owner.get(f"/dashboard/bookings/{booking_id}/refunds").get_data(as_text=True)
    assert shown(wanted) in refunds_panel

    # Documents: invoice total = what was charged; receipts = each charge; the PDFs say so.
    deliver_all(app)
    docs = documents(app, booking_id)
    invoice = next(d for d in docs if d["kind"] == "invoice")
    assert invoice["total"] == total
    assert invoice["tax"] % step == 0 and invoice["tax"] > 0
    receipts = sorted(d["total"] for d in docs if d["kind"] == "receipt")
    assert receipts == sorted(r["amount"] for r in rows)
    # PDF text extraction loses some currency signs (a font without "￥", right-to-left Arabic
    # shaping): the number itself, in the tenant's format, is what must match.
    def number(minor: int) -> str:
        return amount_to_form_text(minor, currency, locale)

    assert squash(number(total)) in squash(pdf_text(invoice["pdf"]))
    receipt = next(d for d in docs if d["kind"] == "receipt" and d["total"] == rows[0]["amount"])
    assert squash(number(rows[0]["amount"])) in squash(pdf_text(receipt["pdf"]))
    # Email subjects fold every space (a no-break space too) into one plain space.
    receipt_subject = f"Receipt: {' '.join(shown(rows[0]['amount']).split())} "
    assert any(s.startswith(receipt_subject) for s in _outbox_subjects(app, account.tenant_id))
