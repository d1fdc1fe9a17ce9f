"""Dashboard: the document register (filters, download, resend, CSV), issuing a booking's
invoice on demand, and the invoice settings."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.dashboard.invoices.forms import InvoiceSettingsForm
from app.blueprints.dashboard.scope import bp, owner_required
from app.blueprints.forms_common import PlainForm, save_then_redirect
from app.blueprints.portal.documents import pdf_response
from app.extensions import db, htmx
from app.models.invoice import DOCUMENT_KINDS
from app.services.bookings import lifecycle as bookings
from app.services.invoices import credit_notes
from app.services.invoices import issuing as invoices
from app.services.invoices import pdf as invoice_pdf
from app.services.invoices import register as invoice_register
from app.services.invoices import settings as invoice_settings
from app.services.shared.errors import Conflict
from app.web.links import current_links
from app.web.page_cache import cached_page
from app.web.transactions import writes


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _filters() -> invoice_register.RegisterFilter:
    args = request.args
    return invoice_register.RegisterFilter(
        status=args.get("status", "") if args.get("status", "") in invoice_register.STATUSES else "",
        kind=args.get("kind", "") if args.get("kind", "") in DOCUMENT_KINDS else "",
        number=(args.get("number", "") or "")[:60], date_from=_date_arg("from"),
        date_to=_date_arg("to"))


@bp.get("/invoices")
@cached_page
def invoice_register_page():
    filters = _filters()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows, total = invoice_register.page(db.session, g.tenant.id, filters, page)
    tenant = g.tenant
    context = dict(rows=rows, total=total, page=page, per_page=invoice_register.PER_PAGE,
                   filters=filters, tenant=tenant, statuses=invoice_register.STATUSES,
                   kinds=DOCUMENT_KINDS, titles=invoice_pdf.TITLES, action_form=PlainForm())
    template = "dashboard/invoices/_rows.html" if htmx and htmx.target == "invoice-rows" \
        else "dashboard/invoices/register.html"
    return render_template(template, **context)


@bp.get("/invoices.csv")
def invoice_register_csv():
    body = invoice_register.export_csv(db.session, g.tenant.id, _filters())
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="invoice-register.csv"'
    return response


@bp.get("/invoices/<int:document_id>/pdf")
@writes
def invoice_download(document_id: int):
    number, content = invoices.stored_pdf(db.session, g.tenant.id, document_id)
    return pdf_response(number, content)


@bp.post("/invoices/<int:document_id>/resend")
def invoice_resend(document_id: int):
    invoices.get_document(db.session, g.tenant.id, document_id)  # 404 first
    if PlainForm().validate_on_submit():
        doc = invoices.resend(db.session, g.tenant.id, document_id, current_links(),
                              actor_user_id=current_user.id)
        flash(f"{invoice_pdf.TITLES[doc.kind]} {doc.number} sent again to {doc.customer_email}.",
              "success")
    return redirect(url_for("dashboard.invoice_register_page"))


@bp.get("/bookings/<int:booking_id>/documents")
def booking_documents(booking_id: int):
    booking = bookings.get_booking(db.session, g.tenant.id, booking_id)
    tenant = g.tenant
    return render_template("dashboard/invoices/_booking_documents.html", booking=booking,
                           tenant=tenant, titles=invoice_pdf.TITLES, action_form=PlainForm(),
                           documents=invoices.for_booking(db.session, tenant.id, booking.id),
                           states=invoice_register.live_states(db.session, tenant.id, booking.id),
                           has_invoice=invoices.invoice_of(db.session, tenant.id, booking.id)
                           is not None,
                           notes_coming=credit_notes.notes_on_their_way(db.session, tenant.id,
                                                                        booking.id))


@bp.post("/bookings/<int:booking_id>/invoice")
def booking_issue_invoice(booking_id: int):
    bookings.get_booking(db.session, g.tenant.id, booking_id)  # 404 first
    if PlainForm().validate_on_submit():
        try:
            doc = invoices.issue_invoice(db.session, g.tenant.id, booking_id,
                                         actor_user_id=current_user.id)
        except Conflict as exc:
            flash(exc.message, "error")
        else:
            flash(f"Invoice {doc.number} issued; it is emailed to {doc.customer_email}.", "success")
    return redirect(url_for("dashboard.booking_detail", booking_id=booking_id))


@bp.route("/settings/invoices", methods=["GET", "POST"])
@owner_required
def invoice_settings_page():
    current = invoice_settings.current(db.session, g.tenant.id)
    form = InvoiceSettingsForm(data={
        **{k: getattr(current, k) for k in ("invoice_prefix", "receipt_prefix", "credit_note_prefix",
                                            "include_year", "yearly_reset", "padding", "tax_label",
                                            "terms", "notes")},
        "tax_rate": Decimal(current.tax_rate_bp) / 100,
        "tax_mode": "inclusive" if current.tax_inclusive else "exclusive"})
    if form.validate_on_submit():
        wanted = invoice_settings.NumberingAndTax(
            invoice_prefix=form.invoice_prefix.data.strip(),
            receipt_prefix=form.receipt_prefix.data.strip(),
            credit_note_prefix=form.credit_note_prefix.data.strip(),
            include_year=form.include_year.data, yearly_reset=form.yearly_reset.data,
            padding=form.padding.data, tax_rate_bp=int(form.tax_rate.data * 100),
            tax_inclusive=form.tax_mode.data == "inclusive", tax_label=form.tax_label.data,
            terms=form.terms.data or "", notes=form.notes.data or "")
        done = save_then_redirect(
            form, lambda: invoice_settings.save(db.session, g.tenant.id, current_user.id, wanted),
            "Invoice settings saved. They apply to documents issued from now on.",
            "dashboard.invoice_settings_page")
        if done:
            return done
    sample = invoice_settings.current(db.session, g.tenant.id)
    return render_template("dashboard/invoices/settings.html", form=form,
                           sample=sample.number("invoice", date.today().year, 42)), (
        400 if form.errors else 200)
