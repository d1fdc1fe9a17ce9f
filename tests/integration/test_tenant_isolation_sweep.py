"""Every dashboard route that takes an id, asked by tenant A for tenant B's record, answers 404
and changes nothing. A new route with an id nobody maps here fails this test on purpose."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.fixtures.portal import csrf_from
from tests.integration.bookings.helpers import book, future, make_catalog


@pytest.fixture()
def b_records(app, tenant_b):
    """One of everything tenant B can own that a dashboard URL names by id."""
    from app.extensions import db
    from app.models import (
        AutopayCharge,
        AutopayMandate,
        Document,
        Payment,
        RefundPart,
        RefundRequest,
        Reminder,
        ReminderRule,
        StripeEvent,
    )
    from app.services.autopay import enrolment
    from app.services.bookings import availability
    from app.services.shared import clock

    shop = make_catalog(app, tenant_b.tenant_id, tenant_b.user_id)
    booking_id = book(app, tenant_b.tenant_id, shop.package_id, future(app, tenant_b.tenant_id, 90),
                      actor="user", actor_user_id=tenant_b.user_id, initial_status="confirmed")
    with app.app_context():
        s = db.session
        now = clock.now()
        blackout = availability.add_blackout(s, tenant_b.tenant_id, tenant_b.user_id,
                                             future(app, tenant_b.tenant_id, 200), "holiday")
        payment = Payment(tenant_id=tenant_b.tenant_id, booking_id=booking_id, amount_minor=1000,
                          refunded_minor=0, refund_pending_minor=0, currency="EUR", method="card",
                          stripe_payment_intent_id="pi_b_isolation", received_at=now, created_at=now)
        s.add(payment)
        s.flush()
        request = RefundRequest(tenant_id=tenant_b.tenant_id, booking_id=booking_id, amount_minor=500,
                                currency="EUR", reason="duplicate", note="", requested_by="user",
                                status="failed", created_at=now, updated_at=now)
        s.add(request)
        s.flush()
        part = RefundPart(tenant_id=tenant_b.tenant_id, request_id=request.id, booking_id=booking_id,
                          payment_id=payment.id, amount_minor=500, currency="EUR", status="failed",
                          stripe_status="", attempts=5, last_error="x", next_attempt_at=now,
                          created_at=now, updated_at=now)
        event = StripeEvent(stripe_id="evt_b_isolation", type="payment_intent.succeeded",
                            tenant_id=tenant_b.tenant_id, object_id="pi_b_isolation", payload={},
                            status="failed", attempts=5, last_error="x", next_attempt_at=now,
                            received_at=now)
        s.add_all([part, event])
        mandate = AutopayMandate(tenant_id=tenant_b.tenant_id, booking_id=booking_id, status="active",
                                 card_brand="visa", card_last4="4242", consent_text="yes",
                                 consented_at=now, created_at=now, updated_at=now)
        s.add(mandate)
        s.flush()
        enrolment.plan_charges(s, mandate)
        s.flush()
        charge = s.scalars(select(AutopayCharge).where(AutopayCharge.tenant_id == tenant_b.tenant_id)).first()
        charge.status = "failed"  # what Retry now would act on
        s.commit()
        ids = {
            "booking_id": booking_id, "blackout_id": blackout.id, "request_id": request.id,
            "part_id": part.id, "event_id": event.id, "package_id": shop.package_id,
            "charge_id": charge.id,
            "add_on_id": shop.add_on_id,
            "document_id": s.scalar(select(Document.id).where(Document.tenant_id == tenant_b.tenant_id)),
            "reminder_id": s.scalar(select(Reminder.id).where(Reminder.tenant_id == tenant_b.tenant_id)),
            "rule_id": s.scalar(select(ReminderRule.id).where(ReminderRule.tenant_id == tenant_b.tenant_id)),
        }
        db.session.remove()
    assert all(ids.values()), ids
    return ids


def row_counts(app) -> dict[str, int]:
    from app.extensions import db

    with app.app_context():
        counts = {t.name: db.session.scalar(select(func.count()).select_from(t))
                  for t in db.metadata.sorted_tables if t.name not in ("audit_events",)}
        db.session.remove()
    return counts


def test_every_dashboard_route_with_an_id_hides_another_tenants_records(app, owner_client, tenant_a,
                                                                       b_records):
    token = csrf_from(owner_client.get("/dashboard/").get_data(as_text=True))
    before = row_counts(app)
    checked = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/dashboard") or not any(a.endswith("_id") for a in rule.arguments):
            continue
        url = re.sub(r"<any\(([^,)]+)[^>]*>", lambda m: m.group(1).strip(), rule.rule)
        missing = [a for a in rule.arguments if a.endswith("_id") and a not in b_records]
        assert not missing, f"{rule.rule}: map {missing} to one of tenant B's records in b_records"
        url = re.sub(r"<int:([a-z_]+)>", lambda m: str(b_records[m.group(1)]), url)
        for method in sorted(rule.methods & {"GET", "POST"}):
            if method == "GET":
                response = owner_client.get(url)
            else:
                response = owner_client.post(url, data={"csrf_token": token, "to": "canceled",
                                                        "amount": "1.00", "reason": "duplicate"})
            assert response.status_code == 404, (method, url, response.status_code)
            checked.append((method, rule.rule))
    assert len(checked) >= 25
    assert row_counts(app) == before  # nothing of B's (or anyone's) changed


def test_unknown_ids_are_404_too(owner_client, tenant_a):
    for url in ("/dashboard/bookings/999999", "/dashboard/invoices/999999/pdf",
                "/dashboard/catalog/packages/999999"):
        assert owner_client.get(url).status_code == 404
