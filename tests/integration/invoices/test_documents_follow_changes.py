"""Documents follow changes: a reschedule after the invoice credits it and issues a new one."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from tests.fixtures.portal import csrf_from
from tests.fixtures.smtp import text_of
from tests.integration.bookings.helpers import book, future, make_catalog, outbox_links
from tests.integration.invoices.helpers import pdf_text


def _path(url: str) -> str:
    return url[url.index("/t/"):]


def _documents(app, booking_id: int):
    from app.extensions import db
    from app.models import Document

    with app.app_context():
        rows = db.session.scalars(select(Document).where(Document.booking_id == booking_id)
                                  .order_by(Document.id)).all()
        found = [(d.kind, d.number, d.seq, d.total_minor, d.invoice_id, d.id, dict(d.snapshot))
                 for d in rows]
        db.session.remove()
    return found


def test_a_reschedule_after_the_invoice_credits_it_and_issues_a_new_one_for_the_new_date(
        client, app, tenant_a, consumer, inbox):
    from app.adapters import pdf as pdf_adapter
    from app.services.invoices import pdf as invoice_pdf

    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    day = future(app, tenant_a.tenant_id, 90)
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, day, email="moved@example.com",
                      initial_status="confirmed")
    [(kind, first_number, first_seq, total, _, first_id, _)] = _documents(app, booking_id)
    assert kind == "invoice" and total == 250000
    url = _path(outbox_links(app)[-1]["reschedule"])
    new_day = day + timedelta(days=3)
    moved = client.post(url, data={"csrf_token": csrf_from(client.get(url).get_data(as_text=True)),
                                   "event_date": new_day.isoformat()})
    assert moved.status_code == 303

    docs = _documents(app, booking_id)
    assert [d[0] for d in docs] == ["invoice", "credit_note", "invoice"]
    _, credit_number, _, credit_total, credited, _, _ = docs[1]
    _, new_number, new_seq, new_total, _, _, new_snap = docs[2]
    assert credit_total == -250000 and credited == first_id and new_total == 250000
    assert new_seq == first_seq + 1  # the invoice series stays gapless
    assert new_snap["booking"]["event_date"] == new_day.isoformat()
    assert new_day.isoformat() in pdf_text(invoice_pdf.render(new_snap)[0])
    assert pdf_adapter is not None

    mails = inbox.wait_for("moved@example.com", count=1, subject=f"Invoice {new_number}")
    attached = [p.get_filename() for p in mails[0].iter_attachments()]
    assert f"{new_number}.pdf" in attached and "$2,500.00" in text_of(mails[0])
    inbox.wait_for("moved@example.com", count=1, subject=f"Credit note {credit_number}")
    assert re.fullmatch(r"ALPHA-\d{4}-\d{4}", new_number)

    # Moving again replaces the new invoice in turn; a retry of the same change issues nothing.
    from app.extensions import db
    from app.services.invoices import issuing

    with app.app_context():
        assert issuing.follow_changes(db.session, tenant_a.tenant_id, booking_id) is None
        db.session.remove()
    assert len(_documents(app, booking_id)) == 3


def test_each_invoice_shows_its_live_state_beside_the_pdf(app, tenant_a, owner_client, client):
    """Balance due, then partly paid, paid, and credited once a reschedule replaced it: in the
    couple's portal and on the dashboard's booking page alike."""
    from tests.integration.bookings.helpers import path_of
    from tests.integration.reports.helpers import record_cash

    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    day = future(app, tenant_a.tenant_id, 90)
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, day, email="states@example.com",
                      initial_status="confirmed")

    def states() -> tuple[list[str], list[str]]:
        manage = path_of(outbox_links(app)[-1]["manage"])
        portal = client.get(manage).get_data(as_text=True)
        dashboard = owner_client.get(f"/dashboard/bookings/{booking_id}/documents").get_data(as_text=True)
        pattern = re.compile(r'data-testid="document-state" data-status="([a-z_]+)"')
        return pattern.findall(portal), pattern.findall(dashboard)

    assert states() == (["balance_due"], ["balance_due"])
    record_cash(app, tenant_a, booking_id)  # the deposit
    assert states() == (["partly_paid"], ["partly_paid"])
    record_cash(app, tenant_a, booking_id)  # the balance
    assert states() == (["paid"], ["paid"])
    url = path_of(outbox_links(app)[-1]["reschedule"])
    moved = client.post(url, data={"csrf_token": csrf_from(client.get(url).get_data(as_text=True)),
                                   "event_date": (day + timedelta(days=2)).isoformat()})
    assert moved.status_code == 303
    assert states() == (["credited", "paid"], ["credited", "paid"])
