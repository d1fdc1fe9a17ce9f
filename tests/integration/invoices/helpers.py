"""Issuing and reading documents in tests."""
from __future__ import annotations

import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from tests.integration.bookings.helpers import book, future


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-"), content[:20]
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def set_invoice_settings(app, account, **changes):
    from app.extensions import db
    from app.services.invoices import settings as invoice_settings

    with app.app_context():
        current = invoice_settings.current(db.session, account.tenant_id)
        wanted = invoice_settings.NumberingAndTax(**{**current.__dict__, **changes})
        invoice_settings.save(db.session, account.tenant_id, account.user_id, wanted)
        db.session.remove()


def confirmed_booking(app, account, package_id, *, days=60, add_on_ids=(), email="couple@example.com",
                      names=None) -> int:
    """A booking the owner entered as confirmed: its invoice is issued in that transaction."""
    from app.extensions import db
    from app.services.bookings import lifecycle as bookings
    from app.web.links import WebLinks

    with app.app_context():
        request = bookings.BookingRequest(couple_names=names or "Alex & Sam", email=email,
                                          event_date=future(app, account.tenant_id, days),
                                          venue="Rose Garden", package_id=package_id,
                                          add_on_ids=list(add_on_ids))
        booking = bookings.create_booking(db.session, account.tenant_id, request, WebLinks(app),
                                          actor="user", actor_user_id=account.user_id,
                                          initial_status="confirmed")
        booking_id = booking.id
        db.session.remove()
    return booking_id


def pending_booking(app, account, package_id, days=60, **kwargs) -> int:
    return book(app, account.tenant_id, package_id, future(app, account.tenant_id, days), **kwargs)


def deliver_all(app) -> list[str]:
    """Run the deliver_document job for every document (what the consumer would do)."""
    from app.extensions import db
    from app.models import Document
    from app.services.invoices import issuing as invoices
    from app.web.links import WebLinks

    with app.app_context():
        ids = db.session.scalars(select(Document.id).order_by(Document.id)).all()
        outcomes = [invoices.deliver(db.session, i, WebLinks(app)) for i in ids]
        db.session.remove()
    return outcomes


def documents(app, booking_id: int | None = None) -> list[dict]:
    from app.extensions import db
    from app.models import Document

    with app.app_context():
        q = select(Document).order_by(Document.id)
        if booking_id is not None:
            q = q.where(Document.booking_id == booking_id)
        rows = db.session.scalars(q).all()
        result = [{"id": d.id, "kind": d.kind, "number": d.number, "seq": d.seq,
                   "total": d.total_minor, "tax": d.tax_minor, "sha": d.pdf_sha256,
                   "pdf": d.pdf, "status": d.delivery_status, "tenant_id": d.tenant_id,
                   "booking_id": d.booking_id, "invoice_id": d.invoice_id,
                   "snapshot": d.snapshot} for d in rows]
        db.session.remove()
    return result
