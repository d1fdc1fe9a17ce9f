"""The overview's money figures equal sums computed here from the payment, refund and stage rows,
for two tenants in two currencies, with a fully and a partly refunded booking."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.services.shared.money import format_money
from tests.fixtures.accounts import login
from tests.integration.bookings.helpers import book, future, local_today, make_catalog
from tests.integration.refunds.helpers import paid_booking, parts, reconcile, request_refund, run_part


def refund_in_full(app, sim, account, booking_id: int, amount: int) -> None:
    request_refund(app, account, booking_id, amount)
    for part in parts(app, booking_id):
        if part["status"] in ("pending", "processing"):
            run_part(app, part["id"])
            sim.control.settle_refunds()
            assert reconcile(app, part["id"]) in ("succeeded", "applied")


def expected_figures(app, account) -> dict[str, dict[str, int]]:
    """Sums straight from the rows, bucketed by the tenant's local date."""
    from app.extensions import db
    from app.models import Booking, Payment, PaymentStage, RefundPart, Tenant

    today = local_today(app, account.tenant_id)
    with app.app_context():
        tenant = db.session.get(Tenant, account.tenant_id)
        zone = ZoneInfo(tenant.timezone)
        sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for p in db.session.scalars(select(Payment).where(Payment.tenant_id == account.tenant_id)):
            day = p.received_at.astimezone(zone).date()
            if day.year == today.year:
                sums[p.currency]["collected_year"] += p.amount_minor
                if day.month == today.month:
                    sums[p.currency]["collected_month"] += p.amount_minor
        for r in db.session.scalars(select(RefundPart).where(RefundPart.tenant_id == account.tenant_id,
                                                             RefundPart.status == "succeeded")):
            day = r.settled_at.astimezone(zone).date()
            if day.year == today.year:
                sums[r.currency]["refunded_year"] += r.amount_minor
                if day.month == today.month:
                    sums[r.currency]["refunded_month"] += r.amount_minor
        for stage, booking in db.session.execute(
                select(PaymentStage, Booking).join(Booking, Booking.id == PaymentStage.booking_id)
                .where(PaymentStage.tenant_id == account.tenant_id)):
            if stage.status not in ("due", "processing") or booking.status not in ("pending_deposit", "confirmed"):
                continue
            sums[stage.currency]["outstanding"] += stage.amount_minor
            if today <= stage.due_date <= today + timedelta(days=30):
                sums[stage.currency]["due_soon"] += stage.amount_minor
            if stage.kind == "deposit" and booking.status == "pending_deposit":
                sums[stage.currency]["deposits_awaited"] += stage.amount_minor
        db.session.remove()
    for figures in sums.values():
        figures["net_month"] = figures["collected_month"] - figures["refunded_month"]
        figures["net_year"] = figures["collected_year"] - figures["refunded_year"]
    return {c: dict(f) for c, f in sums.items()}


def test_overview_figures_equal_the_sums_of_payment_and_refund_rows(
        app, client, tenant_a, tenant_b, payments_sim):
    from app.extensions import db
    from app.services.reports import revenue

    payments_sim.control.configure(refund_delay=-1)  # refunds settle when the test says so
    shop_a = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)  # USD, Gold 2,500.00
    shop_b = make_catalog(app, tenant_b.tenant_id, tenant_b.user_id)  # EUR, Berlin
    refunded = paid_booking(app, client, payments_sim, tenant_a, shop_a.package_id, balance=True,
                            days=200, email="full@example.com")
    refund_in_full(app, payments_sim, tenant_a, refunded, 250000)
    partly = paid_booking(app, client, payments_sim, tenant_a, shop_a.package_id, days=210,
                          email="part@example.com")
    refund_in_full(app, payments_sim, tenant_a, partly, 30000)
    book(app, tenant_a.tenant_id, shop_a.other_package_id, future(app, tenant_a.tenant_id, 20),
         email="waiting@example.com")  # a deposit awaited, due now
    paid_b = paid_booking(app, client, payments_sim, tenant_b, shop_b.package_id, days=150,
                          email="b@example.com")
    refund_in_full(app, payments_sim, tenant_b, paid_b, 12345)

    expected_a, expected_b = expected_figures(app, tenant_a), expected_figures(app, tenant_b)
    assert set(expected_a) == {"USD"} and set(expected_b) == {"EUR"}
    assert expected_a["USD"]["refunded_month"] == 280000 and expected_a["USD"]["collected_month"] == 325000

    names = ("collected_month", "refunded_month", "net_month", "collected_year", "refunded_year",
             "net_year", "outstanding", "due_soon", "deposits_awaited")
    with app.app_context():
        for account, expected in ((tenant_a, expected_a), (tenant_b, expected_b)):
            glance = revenue.money_at_a_glance(db.session, account.tenant_id)
            assert glance.currencies == list(expected)
            for currency, figures in expected.items():
                got = glance.figures[currency]
                assert {n: getattr(got, n) for n in names} == {n: figures.get(n, 0) for n in names}
                this_month = glance.revenue[currency][-1]
                assert (this_month.collected, this_month.refunded) == (figures["collected_month"],
                                                                       figures["refunded_month"])
                assert sum(m.collected for m in glance.revenue[currency]) >= figures["collected_month"]
        db.session.remove()

    # The page shows them, each tenant only its own.
    for account, expected, other in ((tenant_a, expected_a, "EUR"), (tenant_b, expected_b, "USD")):
        web = app.test_client()
        login(web, account.email)
        page = web.get("/dashboard/").get_data(as_text=True)
        assert f'data-testid="money-{other}"' not in page
        for currency, figures in expected.items():
            for name in ("collected_month", "refunded_month", "net_month", "deposits_awaited"):
                shown = format_money(figures.get(name, 0), currency, "en_US")
                assert f'data-figure="{name}">{shown}<' in page, (name, shown)
        assert page.count("<svg") >= 2 and "<script" not in page.split("<svg", 1)[1]
