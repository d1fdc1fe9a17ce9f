"""The couple's documents: downloads from the portal (behind the manage link) and from the
signed links in emails (30 days). Downloads serve the stored PDF; they never render again."""
from __future__ import annotations

from flask import Response, current_app, g

from app.blueprints.portal.routes import _booking, bp
from app.extensions import db
from app.services.invoices import issuing as invoices
from app.services.shared.errors import InvalidLink, NotFound
from app.web.links import LinkExpired, read_document_ref
from app.web.security import no_referrer
from app.web.transactions import writes


def pdf_response(number: str, content: bytes) -> Response:
    response = Response(content, mimetype="application/pdf")
    # Numbers are letters, digits, dots, dashes and underscores: safe in the header as they are.
    response.headers["Content-Disposition"] = f'attachment; filename="{number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _couple_download(document_id: int) -> Response:
    number, content = invoices.stored_pdf(db.session, g.tenant.id, document_id)
    invoices.mark_viewed(db.session, g.tenant.id, document_id)
    return pdf_response(number, content)


@bp.get("/b/<token>/documents/<int:document_id>")
@no_referrer
@writes
def document_download(token: str, document_id: int):
    booking = _booking(token, "manage")
    doc = invoices.get_document(db.session, g.tenant.id, document_id)
    if doc.booking_id != booking.id:
        raise NotFound()
    return _couple_download(doc.id)


@bp.get("/documents/<ref>")
@no_referrer
@writes
def document_by_link(ref: str):
    try:
        document_id = read_document_ref(current_app, g.tenant.id, ref)
    except LinkExpired:
        raise InvalidLink(
            "This download link is more than 30 days old. Your booking page always has your "
            "documents: we can email you a fresh link to it.",
            fresh_link_endpoint="portal.fresh_link", fresh_link_values={"slug": g.tenant.slug},
            fresh_link_label="Email me a link to my booking") from None
    return _couple_download(document_id)
