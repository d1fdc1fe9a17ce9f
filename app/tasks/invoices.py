"""Documents: render and email each once, credit notes for refunds, and the sweeper for both."""
from __future__ import annotations

from datetime import timedelta

from huey import crontab

from app.queue import huey
from app.services.invoices import credit_notes, issuing
from app.services.shared.jobs import Job
from app.tasks.context import app_session
from app.tasks.registry import handles
from app.web.links import WebLinks


@handles(Job.DELIVER_DOCUMENT)
@huey.task()
def deliver_document(document_id: int) -> str:
    """Render a document's PDF from its snapshot, store it, and email it once."""
    with app_session() as (app, session):
        return issuing.deliver(session, document_id, WebLinks(app))


@handles(Job.REFUND_PART_SUCCEEDED)
@huey.task()
def refund_part_succeeded(part_id: int) -> int | None:
    """Enqueued once per refund part that succeeded, after its commit: issue its credit note."""
    with app_session() as (_, session):
        doc = credit_notes.credit_refund_part(session, part_id)
        return doc.id if doc is not None else None


@huey.periodic_task(crontab(minute="*"))
def sweep_documents() -> int:
    """Documents whose render or email job was lost, and refunds whose credit note was: again."""
    with app_session() as (app, session):
        lost = issuing.lost_renders(
            session, lost_after=timedelta(seconds=app.config["DOCUMENT_LOST_AFTER_SECONDS"]))
        uncredited = credit_notes.parts_without_credit_note(session)
    for document_id in lost:
        deliver_document(document_id)
    for part_id in uncredited:
        refund_part_succeeded(part_id)
    return len(lost) + len(uncredited)
