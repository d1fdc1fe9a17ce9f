"""Issuing invoices, receipts and credit notes, and delivering their PDFs.

Invariants:
- a document's number is drawn from its series counter (`document_counters`) by an UPDATE in the
  issuing transaction, so numbers are unique per (tenant, kind), consecutive and gapless: a
  transaction that rolls back gives its number back, and concurrent issuers queue on the row;
- what a document says (tenant, customer, lines, tax, totals, schedule, terms) is a snapshot
  frozen at issue; its PDF is rendered from the snapshot once and stored with its SHA-256, and a
  download serves the stored bytes;
- one document per cause (`source_key`: booking-<id>, payment-<id>, refund-<key>), so retries and
  double clicks never issue twice;
- every read and write is scoped by tenant_id.
"""
from __future__ import annotations

import logging
from collections import Counter as Tally
from datetime import timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from app.models import Booking, Document, DocumentCounter, Payment, Tenant
from app.services.accounts import branding
from app.services.email import outbox as email
from app.services.invoices import pdf as invoice_pdf
from app.services.invoices import settings as invoice_settings
from app.services.invoices import tax
from app.services.payments import stages as payment_stages
from app.services.shared import audit, clock, currencies, jobs
from app.services.shared.errors import Conflict
from app.services.shared.links import Links
from app.services.shared.money import format_money
from app.services.shared.tenancy import get_owned
from app.services.shared.unit_of_work import committing

log = logging.getLogger(__name__)
NUMBER_ATTEMPTS = 3
RENDER_LOST_AFTER = timedelta(minutes=2)
# Documents that travel inside another email (the receipt with the payment receipt, the terms
# with the booking emails) rather than in one of their own.
QUIET_KINDS = ("receipt", "terms")
METHODS = {"card": "Card", "cash": "Cash", "bank_transfer": "Bank transfer", "other": "Other"}


# -- numbering ------------------------------------------------------------------------------------
def next_seq(session: Session, tenant_id: int, kind: str, series: str) -> int:
    """Take the next number of a series inside the caller's transaction (no commit)."""
    bump = (update(DocumentCounter)
            .where(DocumentCounter.tenant_id == tenant_id, DocumentCounter.kind == kind,
                   DocumentCounter.series == series)
            .values(last_number=DocumentCounter.last_number + 1)
            .returning(DocumentCounter.last_number)
            .execution_options(synchronize_session=False))
    for _ in range(NUMBER_ATTEMPTS):
        seq = session.execute(bump).scalar()
        if seq is not None:
            return int(seq)
        try:
            with session.begin_nested():
                session.add(DocumentCounter(tenant_id=tenant_id, kind=kind, series=series,
                                            last_number=1))
                session.flush()
            return 1
        except IntegrityError:
            continue  # another issuer started the series first; its row is committed now
    raise Conflict("Could not number the document; try again.")


# -- snapshots ------------------------------------------------------------------------------------
def _lines(booking: Booking) -> list[tax.Line]:
    """The package, then each add-on; identical add-ons fold into one line with a quantity."""
    tally = Tally((a.title, a.price_minor) for a in booking.add_ons)
    lines = [tax.Line(booking.package_title, 1, booking.package_price_minor)]
    lines += [tax.Line(title, qty, price) for (title, price), qty in tally.items()]
    return lines


def _line_dicts(lines: list[tax.Line]) -> list[dict]:
    return [{"description": ln.description, "quantity": ln.quantity, "unit_minor": ln.unit_minor,
             "amount_minor": ln.amount_minor} for ln in lines]


def _net_paid(session: Session, tenant_id: int, booking_id: int) -> tuple[int, list[dict]]:
    rows = session.scalars(select(Payment).where(Payment.tenant_id == tenant_id,
                                                 Payment.booking_id == booking_id)
                           .order_by(Payment.received_at, Payment.id)).all()
    tz = session.get(Tenant, tenant_id).timezone
    listed = [{"received_on": payment_stages.local_date(p.received_at, tz).isoformat(),
               "method": METHODS.get(p.method, p.method), "amount_minor": p.amount_minor,
               "refunded_minor": p.refunded_minor} for p in rows]
    return sum(p.amount_minor - p.refunded_minor for p in rows), listed


def _base(session: Session, tenant: Tenant, booking: Booking, kind: str, number: str,
          settings: invoice_settings.NumberingAndTax) -> dict:
    issued_on = payment_stages.local_date(clock.now(), tenant.timezone)
    stages = payment_stages.stages_for(session, tenant.id, booking.id)
    return {
        "version": 1, "kind": kind, "number": number, "issued_on": issued_on.isoformat(),
        "currency": booking.currency, "locale": tenant.locale or "en_US",
        "tenant": {"name": tenant.name, "address_lines": [ln.strip() for ln in
                                                          (tenant.address or "").splitlines()
                                                          if ln.strip()],
                   "tax_id": tenant.tax_id or "", "email": tenant.contact_email or ""},
        "customer": {"name": booking.couple_names, "email": booking.email},
        "booking": {"id": booking.id, "event_date": booking.event_date.isoformat(),
                    "venue": booking.venue or ""},
        "schedule": [{"label": s.label, "due_date": s.due_date.isoformat(), "status": s.status,
                      "amount_minor": s.amount_minor} for s in stages],
        "terms": settings.terms, "notes": settings.notes,
        "references": {"invoice_number": None},
        "brand": branding.document_brand(session, tenant.id),
    }


def _with_totals(snap: dict, lines: list[tax.Line], rate_bp: int, inclusive: bool, label: str,
                 paid: int, payments: list[dict], amount_due: int) -> dict:
    totals = tax.totals_for(lines, rate_bp, inclusive, currencies.get(snap["currency"]).step)
    snap.update({
        "lines": _line_dicts(lines),
        "tax": {"rate_bp": rate_bp, "rate_text": tax.rate_text(rate_bp), "inclusive": inclusive,
                "label": label},
        "lines_minor": totals.lines_minor, "subtotal_minor": totals.subtotal_minor,
        "tax_minor": totals.tax_minor, "total_minor": totals.total_minor,
        "payments": payments, "paid_minor": paid, "balance_minor": amount_due - paid,
    })
    return snap


def invoice_of(session: Session, tenant_id: int, booking_id: int) -> Document | None:
    """The booking's current invoice: the latest one (earlier ones were credited and replaced
    when the booking changed, see `follow_changes`)."""
    return session.scalar(select(Document).where(Document.tenant_id == tenant_id,
                                                 Document.booking_id == booking_id,
                                                 Document.kind == "invoice")
                          .order_by(Document.id.desc()).limit(1))


def _amount_due(session: Session, booking: Booking, settings) -> tuple[int, Document | None]:
    invoice = invoice_of(session, booking.tenant_id, booking.id)
    if invoice is not None:
        return invoice.total_minor, invoice
    lines = _lines(booking)
    return tax.totals_for(lines, settings.tax_rate_bp, settings.tax_inclusive,
                          currencies.get(booking.currency).step).total_minor, None


def _add(session: Session, tenant: Tenant, booking: Booking, kind: str, source_key: str,
         build, *, payment_id: int | None = None, invoice_id: int | None = None,
         actor_user_id: int | None = None) -> Document:
    settings = invoice_settings.current(session, tenant.id)
    year = payment_stages.local_date(clock.now(), tenant.timezone).year
    series = settings.series(kind, year)
    seq = next_seq(session, tenant.id, kind, series)
    number = settings.number(kind, year, seq)
    snap = build(_base(session, tenant, booking, kind, number, settings), settings)
    doc = Document(
        tenant_id=tenant.id, kind=kind, number=number, series=series, seq=seq,
        source_key=source_key, booking_id=booking.id, payment_id=payment_id,
        invoice_id=invoice_id, customer_name=booking.couple_names, customer_email=booking.email,
        total_minor=snap["total_minor"], tax_minor=snap["tax_minor"], currency=booking.currency,
        snapshot=snap, pdf=None, pdf_sha256=None, delivery_status="issued",
        issued_at=clock.now(), issued_by_user_id=actor_user_id)
    session.add(doc)
    session.flush()
    audit.record(session, tenant.id, f"{kind}.issued", actor="user" if actor_user_id else "system",
                 actor_user_id=actor_user_id, subject_type="booking", subject_id=booking.id,
                 document_id=doc.id, number=number, total_minor=doc.total_minor,
                 currency=doc.currency)
    return doc


def _existing(session: Session, tenant_id: int, source_key: str) -> Document | None:
    return session.scalar(select(Document).where(Document.tenant_id == tenant_id,
                                                 Document.source_key == source_key))


def add_invoice(session: Session, tenant_id: int, booking_id: int, *,
                actor_user_id: int | None = None) -> Document:
    """Issue the booking's invoice in the caller's transaction (no commit); the PDF is rendered
    and emailed by the `deliver_document` job after the commit. Returns the existing invoice if
    the booking has one."""
    found = invoice_of(session, tenant_id, booking_id)
    if found is not None:
        return found
    booking = get_owned(session, Booking, tenant_id, booking_id)
    tenant = session.get(Tenant, tenant_id)

    def build(snap: dict, settings) -> dict:
        paid, listed = _net_paid(session, tenant_id, booking.id)
        lines = _lines(booking)
        due = tax.totals_for(lines, settings.tax_rate_bp, settings.tax_inclusive,
                             currencies.get(booking.currency).step).total_minor
        return _with_totals(snap, lines, settings.tax_rate_bp, settings.tax_inclusive,
                            settings.tax_label, paid, listed, due)

    doc = _add(session, tenant, booking, "invoice", f"booking-{booking.id}", build,
               actor_user_id=actor_user_id)
    jobs.after_commit(session, jobs.Job.DELIVER_DOCUMENT, doc.id)
    return doc


def issue_invoice(session: Session, tenant_id: int, booking_id: int, *,
                  actor_user_id: int) -> Document:
    """The owner issues a booking's invoice from the dashboard; commits. Refused for bookings
    that never happened (canceled or expired before being confirmed) and for a second invoice."""
    already = "This booking already has an invoice; resend it from the register."
    try:
        with committing(session):
            booking = get_owned(session, Booking, tenant_id, booking_id)
            if invoice_of(session, tenant_id, booking_id) is not None:
                raise Conflict(already)
            if booking.status == "expired":
                raise Conflict("An expired booking is not invoiced.")
            doc = add_invoice(session, tenant_id, booking_id, actor_user_id=actor_user_id)
    except IntegrityError:
        raise Conflict(already) from None  # a concurrent issue took the booking's invoice
    return doc


def terms_of(session: Session, tenant_id: int, booking_id: int) -> Document | None:
    """The booking terms the couple accepted (None for bookings entered by the vendor)."""
    return _existing(session, tenant_id, f"terms-{booking_id}")


def add_terms(session: Session, tenant_id: int, booking_id: int, terms: dict) -> Document:
    """Freeze the terms the couple accepted as a numbered "booking terms" document, in the
    booking's transaction (no commit). `terms` is `bookings.terms.quote(...)`; its PDF is
    rendered by the `deliver_document` job after the commit and travels with the booking emails."""
    found = terms_of(session, tenant_id, booking_id)
    if found is not None:
        return found
    booking = get_owned(session, Booking, tenant_id, booking_id)
    tenant = session.get(Tenant, tenant_id)
    accepted_at = clock.now()

    def build(snap: dict, settings) -> dict:
        snap.update({key: terms[key] for key in (
            "lines", "tax", "lines_minor", "subtotal_minor", "tax_minor", "total_minor",
            "deposit_minor", "policy", "policy_text", "policy_lines", "vendor_terms")})
        snap["schedule"] = [{"label": s["label"], "due_date": s["due_date"], "status": "",
                             "due_text": s["due_text"], "amount_minor": s["amount_minor"]}
                            for s in terms["schedule"]]
        snap.update({"payments": [], "paid_minor": 0, "balance_minor": terms["total_minor"],
                     "terms": terms["vendor_terms"],
                     "acceptance": {"by": f"{booking.couple_names} <{booking.email}>",
                                    "at": format_datetime(
                                        accepted_at, format="medium", locale=tenant.locale or "en_US",
                                        tzinfo=ZoneInfo(tenant.timezone)) + f" ({tenant.timezone})"}})
        return snap

    doc = _add(session, tenant, booking, "terms", f"terms-{booking.id}", build)
    jobs.after_commit(session, jobs.Job.DELIVER_DOCUMENT, doc.id)
    return doc


def add_receipt(session: Session, booking: Booking, payment: Payment) -> Document:
    """Issue a payment's receipt in the caller's transaction and render its PDF at once, so the
    receipt email (queued in the same transaction) carries it. Idempotent per payment."""
    found = _existing(session, booking.tenant_id, f"payment-{payment.id}")
    if found is not None:
        return found
    tenant = session.get(Tenant, booking.tenant_id)

    def build(snap: dict, settings) -> dict:
        due, invoice = _amount_due(session, booking, settings)
        snap["references"]["invoice_number"] = invoice.number if invoice else None
        paid, listed = _net_paid(session, tenant.id, booking.id)
        stage_labels = [s.label for s in payment_stages.stages_for(session, tenant.id, booking.id)
                        if s.payment_id == payment.id]
        what = ", ".join(stage_labels) if stage_labels else "booking"
        line = tax.Line(f"Payment received ({METHODS.get(payment.method, payment.method)}): {what}",
                        1, payment.amount_minor)
        # Money received includes its share of tax, whatever the price mode.
        return _with_totals(snap, [line], settings.tax_rate_bp, True, settings.tax_label, paid,
                            listed, due)

    _, invoice = _amount_due(session, booking, invoice_settings.current(session, tenant.id))
    doc = _add(session, tenant, booking, "receipt", f"payment-{payment.id}", build,
               payment_id=payment.id, invoice_id=invoice.id if invoice else None)
    content, digest = invoice_pdf.render(doc.snapshot)
    doc.pdf, doc.pdf_sha256, doc.rendered_at = content, digest, clock.now()
    doc.delivery_status, doc.sent_at = "sent", clock.now()
    session.flush()
    return doc


def issue_credit_note(session: Session, tenant_id: int, *, booking_id: int, payment_id: int | None,
                      amount_minor: int, source_key: str, reason: str = "") -> Document:
    """A credit note for money returned (a refund that succeeded), in the caller's transaction
    (no commit): negative amounts, referencing the booking's invoice. `source_key` names the
    refund (e.g. "refund-part-<id>") so a replayed event never credits twice. Its PDF is
    rendered and emailed by the `deliver_document` job after the commit."""
    if amount_minor <= 0:
        raise ValueError("a credit note is for a positive amount returned")
    key = source_key if source_key.startswith("refund-") else f"refund-{source_key}"
    found = _existing(session, tenant_id, key)
    if found is not None:
        return found
    booking = get_owned(session, Booking, tenant_id, booking_id)
    tenant = session.get(Tenant, tenant_id)
    settings_now = invoice_settings.current(session, tenant_id)
    _, invoice = _amount_due(session, booking, settings_now)

    def build(snap: dict, settings) -> dict:
        due, _ = _amount_due(session, booking, settings)
        snap["references"]["invoice_number"] = invoice.number if invoice else None
        paid, listed = _net_paid(session, tenant_id, booking.id)
        text = "Refund" + (f": {reason}" if reason else "")
        if invoice is not None:
            text += f" (invoice {invoice.number})"
        return _with_totals(snap, [tax.Line(text, 1, -amount_minor)], settings.tax_rate_bp, True,
                            settings.tax_label, paid, listed, due)

    doc = _add(session, tenant, booking, "credit_note", key, build, payment_id=payment_id,
               invoice_id=invoice.id if invoice else None)
    jobs.after_commit(session, jobs.Job.DELIVER_DOCUMENT, doc.id)
    return doc


def follow_changes(session: Session, tenant_id: int, booking_id: int) -> Document | None:
    """Documents follow changes: when the booking no longer matches its invoice (a new date,
    venue or price), credit that invoice in full and issue a new one for the booking as it now
    stands, in one transaction (commits). Numbers come from the same gapless series; the
    `deliver_document` job emails both to the couple. Idempotent per replaced invoice (source
    keys name it), and nothing happens when there is no invoice or it still matches."""
    with committing(session):
        booking = get_owned(session, Booking, tenant_id, booking_id)
        old = invoice_of(session, tenant_id, booking_id)
        if old is None:
            return None
        settings_now = invoice_settings.current(session, tenant_id)
        lines = _lines(booking)
        total = tax.totals_for(lines, settings_now.tax_rate_bp, settings_now.tax_inclusive).total_minor
        said = old.snapshot
        if (said["booking"]["event_date"], said["booking"]["venue"], said["total_minor"]) == (
                booking.event_date.isoformat(), booking.venue or "", total):
            return None
        tenant = session.get(Tenant, tenant_id)
        paid, listed = _net_paid(session, tenant_id, booking.id)

        def build_credit(snap: dict, settings) -> dict:
            snap["references"]["invoice_number"] = old.number
            mirrored = [tax.Line(f"{ln['description']} (replaces invoice {old.number})",
                                 ln["quantity"], -ln["unit_minor"]) for ln in said["lines"]]
            return _with_totals(snap, mirrored, said["tax"]["rate_bp"], said["tax"]["inclusive"],
                                said["tax"]["label"], paid, listed, old.total_minor)

        def build_invoice(snap: dict, settings) -> dict:
            return _with_totals(snap, lines, settings.tax_rate_bp, settings.tax_inclusive,
                                settings.tax_label, paid, listed, total)

        credit = _add(session, tenant, booking, "credit_note", f"revision-{old.id}", build_credit,
                      invoice_id=old.id)
        new = _add(session, tenant, booking, "invoice", f"booking-{booking.id}-rev-{old.id}",
                   build_invoice)
        jobs.after_commit(session, jobs.Job.DELIVER_DOCUMENT, credit.id)
        jobs.after_commit(session, jobs.Job.DELIVER_DOCUMENT, new.id)
    return new


# -- PDFs and delivery ------------------------------------------------------------------------------
def get_document(session: Session, tenant_id: int, document_id: int) -> Document:
    doc = get_owned(session, Document, tenant_id, document_id)
    return doc


def stored_pdf(session: Session, tenant_id: int, document_id: int) -> tuple[str, bytes]:
    """(number, PDF bytes) as stored; renders and stores first if the render job was lost."""
    doc = get_document(session, tenant_id, document_id)
    if doc.pdf_sha256 is None:
        ensure_pdf(session, tenant_id, document_id)
    row = session.execute(select(Document.number, Document.pdf)
                          .where(Document.id == document_id, Document.tenant_id == tenant_id)).one()
    session.commit()  # release the read transaction before the bytes are streamed
    return row.number, row.pdf


def ensure_pdf(session: Session, tenant_id: int, document_id: int) -> str:
    """Render the PDF from the snapshot if it is not stored yet; returns its SHA-256. Renders
    outside any transaction (SQLite's write lock is not held meanwhile); a concurrent render
    that stored first wins, and ours is dropped, so the stored bytes never change."""
    doc = get_document(session, tenant_id, document_id)
    if doc.pdf_sha256:
        return doc.pdf_sha256
    snapshot = dict(doc.snapshot)
    session.commit()
    content, digest = invoice_pdf.render(snapshot)
    session.execute(update(Document)
                    .where(Document.id == document_id, Document.tenant_id == tenant_id,
                           Document.pdf_sha256.is_(None))
                    .values(pdf=content, pdf_sha256=digest, rendered_at=clock.now())
                    .execution_options(synchronize_session=False))
    session.commit()
    return session.scalar(select(Document.pdf_sha256).where(Document.id == document_id))


def _queue_document_email(session: Session, doc: Document, links: Links, content: bytes) -> None:
    tenant = session.get(Tenant, doc.tenant_id)
    snap = doc.snapshot
    title = invoice_pdf.TITLES[doc.kind]
    email.queue_email(
        session, doc.tenant_id, to=doc.customer_email, kind="document",
        subject=f"{title} {doc.number} from {tenant.name}",
        context={"title": title, "number": doc.number, "customer_name": doc.customer_name,
                 "total_text": format_money(doc.total_minor, doc.currency, snap["locale"]),
                 "balance_text": format_money(snap["balance_minor"], doc.currency, snap["locale"]),
                 "download_url": links.document_download(tenant.slug, tenant.id, doc.id),
                 "link_days": 30},
        attachments=(email.Attachment(f"{doc.number}.pdf", "application/pdf", content),))


def deliver(session: Session, document_id: int, links: Links) -> str:
    """Task body: make sure the PDF is stored, then email it once (invoices and credit notes;
    receipts travel with the payment receipt email). Safe to run twice."""
    doc = session.get(Document, document_id)
    if doc is None:
        return "missing"
    ensure_pdf(session, doc.tenant_id, doc.id)
    if doc.kind in QUIET_KINDS:
        return "stored"
    claimed = session.execute(update(Document)
                              .where(Document.id == document_id, Document.tenant_id == doc.tenant_id,
                                     Document.sent_at.is_(None))
                              .values(delivery_status="sent", sent_at=clock.now())
                              .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        session.rollback()
        return "already_sent"
    doc = session.scalar(select(Document).options(undefer(Document.pdf))
                         .where(Document.id == document_id))
    _queue_document_email(session, doc, links, doc.pdf)
    session.commit()
    return "sent"


def resend(session: Session, tenant_id: int, document_id: int, links: Links, *,
           actor_user_id: int) -> Document:
    """Email the stored PDF again (with a fresh 30-day link); commits."""
    ensure_pdf(session, tenant_id, document_id)
    doc = session.scalar(select(Document).options(undefer(Document.pdf))
                         .where(Document.id == document_id, Document.tenant_id == tenant_id))
    _queue_document_email(session, doc, links, doc.pdf)
    if doc.delivery_status == "issued":
        doc.delivery_status = "sent"
    doc.sent_at = clock.now()
    audit.record(session, tenant_id, f"{doc.kind}.resent", actor="user",
                 actor_user_id=actor_user_id, subject_type="booking", subject_id=doc.booking_id,
                 document_id=doc.id, number=doc.number)
    session.commit()
    return doc


def mark_viewed(session: Session, tenant_id: int, document_id: int) -> None:
    """The couple opened it (portal or emailed link); the first time only; commits."""
    session.execute(update(Document)
                    .where(Document.id == document_id, Document.tenant_id == tenant_id,
                           Document.viewed_at.is_(None))
                    .values(delivery_status="viewed", viewed_at=clock.now())
                    .execution_options(synchronize_session=False))
    session.commit()


def for_booking(session: Session, tenant_id: int, booking_id: int) -> list[Document]:
    return list(session.scalars(select(Document).where(Document.tenant_id == tenant_id,
                                                       Document.booking_id == booking_id)
                                .order_by(Document.issued_at, Document.id)))


def lost_renders(session: Session, limit: int = 100,
                 lost_after: timedelta = RENDER_LOST_AFTER) -> list[int]:
    """Documents whose render/delivery job was lost (Redis flushed, worker killed)."""
    cutoff = clock.now() - lost_after
    ids = list(session.scalars(select(Document.id)
                               .where((Document.pdf_sha256.is_(None))
                                      | ((Document.sent_at.is_(None))
                                         & (Document.kind.not_in(QUIET_KINDS))),
                                      Document.issued_at <= cutoff)
                               .order_by(Document.issued_at).limit(limit)))
    session.commit()
    return ids


def count(session: Session, tenant_id: int) -> int:
    return session.scalar(select(func.count(Document.id)).where(Document.tenant_id == tenant_id))
