"""Credit notes for refunds: one per refund part that succeeded, never two.

The refund part's id is the credit note's source key (`refund-part-<id>`), so the job, a replayed
job and the sweeper all land on the same document.
"""
from __future__ import annotations

from sqlalchemy import String, and_, cast, exists, literal, select
from sqlalchemy.orm import Session

from app.models import Document, RefundPart, RefundRequest
from app.services.invoices import issuing as invoices

REASONS = {"requested_by_customer": "requested by the customer", "duplicate": "duplicate payment",
           "fraudulent": "fraudulent payment", "cancellation": "cancellation"}


def source_key(part_id: int) -> str:
    return f"refund-part-{part_id}"


def credit_refund_part(session: Session, part_id: int) -> Document | None:
    """Issue (or find) the credit note of a succeeded refund part; commits."""
    part = session.get(RefundPart, part_id)
    if part is None or part.status != "succeeded":
        return None
    request = session.get(RefundRequest, part.request_id)
    doc = invoices.issue_credit_note(
        session, part.tenant_id, booking_id=part.booking_id, payment_id=part.payment_id,
        amount_minor=part.amount_minor, source_key=source_key(part.id),
        reason=REASONS.get(request.reason, request.reason) if request else "")
    session.commit()
    return doc


def _has_note():
    return exists().where(and_(
        Document.tenant_id == RefundPart.tenant_id,
        Document.source_key == literal("refund-part-") + cast(RefundPart.id, String)))


def parts_without_credit_note(session: Session, limit: int = 200) -> list[int]:
    """Succeeded refund parts whose credit-note job was lost."""
    return list(session.scalars(select(RefundPart.id).where(RefundPart.status == "succeeded", ~_has_note())
                                .order_by(RefundPart.id).limit(limit)))


def notes_on_their_way(session: Session, tenant_id: int, booking_id: int) -> int:
    """How many credit notes of this booking's succeeded refunds are still being issued (the
    job runs just after the refund succeeds): the documents panel says so and looks again."""
    return len(session.scalars(select(RefundPart.id).where(
        RefundPart.tenant_id == tenant_id, RefundPart.booking_id == booking_id,
        RefundPart.status == "succeeded", ~_has_note())).all())
