"""Seed a benchmark database: N tenants with M bookings each, like a busy installation.

Per tenant, a few bookings go through the real services (confirmed, deposit recorded, receipt and
invoice issued, reminders planned); the rest are bulk copies of those rows (booking, date slot,
payment stages, every third with an invoice) on other dates, so seeding 100 x 1,000 takes
seconds rather than an hour. Call `seed` inside an app context.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import insert, select, text, update

REAL_PER_TENANT = 4
PASSWORD = "bench-password-1"
CURRENCIES = (("USD", "America/New_York", "en_US"), ("EUR", "Europe/Berlin", "de_DE"),
              ("JPY", "Asia/Tokyo", "ja_JP"), ("GBP", "Europe/London", "en_GB"))


@dataclass
class SeededTenant:
    slug: str
    owner_email: str
    booking_id: int
    manage_token: str
    document_id: int
    package_id: int


@dataclass
class Seeded:
    tenants: list[SeededTenant] = field(default_factory=list)
    bookings: int = 0
    seconds: float = 0.0


def seed(app, tenants: int, bookings_per_tenant: int, progress=print) -> Seeded:
    from app.extensions import db

    started = time.perf_counter()
    out = Seeded()
    for i in range(tenants):
        out.tenants.append(_seed_tenant(app, db.session, i, bookings_per_tenant))
        if (i + 1) % 20 == 0:
            progress(f"  seeded {i + 1}/{tenants} tenants ({time.perf_counter() - started:.0f}s)")
    # Statistics, as a database that has been running has them (autovacuum analyzes after bulk
    # changes; it is off on some machines, and SQLite only has them after ANALYZE): without
    # them PostgreSQL estimates one row per tenant and joins a tenant's 2,000 stages to its
    # bookings by nested loop (~100 ms instead of ~2 ms for the overview's forecast).
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    out.bookings = tenants * bookings_per_tenant
    out.seconds = time.perf_counter() - started
    return out


def _seed_tenant(app, s, i: int, count: int) -> SeededTenant:
    from app.models import Booking, DateSlot, Document, DocumentCounter, PaymentStage
    from app.services.accounts import users as accounts
    from app.services.bookings import catalog
    from app.services.bookings import lifecycle as bookings
    from app.services.invoices import issuing
    from app.services.payments import recording
    from app.services.payments import stages as payment_stages
    from app.services.shared import clock, tokens
    from app.services.shared.money import amount_to_form_text
    from app.web.links import WebLinks

    currency, tz, locale = CURRENCIES[i % len(CURRENCIES)]
    slug = f"vendor{i:03d}"
    user = accounts.signup(s, business_name=f"Vendor {i} Fotografie & Co", slug=slug, timezone=tz,
                           currency=currency, email_addr=f"owner{i}@bench.example", password=PASSWORD,
                           owner_name=f"Owner {i}", locale=locale)
    tenant_id = user.tenant_id
    # The price as the owner would type it in the tenant's locale ("2.500,00" in de_DE).
    price = amount_to_form_text(250000, currency, locale)  # $2,500.00, ¥250,000
    package = catalog.save_package(s, tenant_id, user.id, title="Full day", description="Ten hours, gallery.",
                                   price_text=price)
    catalog.save_package(s, tenant_id, user.id, title="Ceremony", description="Three hours.", price_text=price)
    catalog.save_add_on(s, tenant_id, user.id, title="Album", description="", price_text=price,
                        package_id=None)
    links = WebLinks(app)
    today = clock.now().date()
    real = []
    for k in range(min(REAL_PER_TENANT, count)):
        booking = bookings.create_booking(
            s, tenant_id, bookings.BookingRequest(
                couple_names=f"Zoë & Léo {k}", email=f"couple{k}@bench.example",
                event_date=today + timedelta(days=40 + k), venue="Schloss Élysée", package_id=package.id),
            links, actor="user", actor_user_id=user.id, initial_status="confirmed")
        deposit = payment_stages.stages_for(s, tenant_id, booking.id)[0]
        recording.record_offline_payment(s, tenant_id, booking.id, recording.OfflinePayment(
            stage_ids=[deposit.id], method="bank_transfer"), links, actor_user_id=user.id)
        real.append(booking.id)
    manage_token = tokens.issue(s, tenant_id, "booking_manage", real[0])
    s.commit()

    template = s.get(Booking, real[0])
    columns = [c.key for c in Booking.__table__.columns if c.key != "id"]
    base = {c: getattr(template, c) for c in columns}
    stage_columns = [c.key for c in PaymentStage.__table__.columns if c.key not in ("id", "booking_id")]
    stage_rows = [{c: getattr(st, c) for c in stage_columns}
                  for st in payment_stages.stages_for(s, tenant_id, real[0])]
    invoice = issuing.invoice_of(s, tenant_id, real[0])
    doc_columns = [c.key for c in Document.__table__.columns if c.key not in ("id", "booking_id", "pdf")]
    doc_base = {c: getattr(invoice, c) for c in doc_columns}
    copies = count - len(real)
    rows = []
    for j in range(copies):
        # Dates from ~two years back to ~a year ahead, one booking a day (capacity 1).
        day = today - timedelta(days=700) + timedelta(days=j if j < 700 else j + 60)
        status = ("completed" if day < today else "confirmed") if j % 17 else "canceled"
        rows.append({**base, "event_date": day, "status": status, "couple_names": f"Couple {j} & Partner",
                     "email": f"c{j}@bench.example", "hold_expires_at": None})
    ids = list(s.scalars(insert(Booking).returning(Booking.id, sort_by_parameter_order=True), rows)) if rows else []
    s.execute(insert(DateSlot), [{"tenant_id": tenant_id, "event_date": r["event_date"], "slot_no": 1,
                                  "booking_id": bid} for bid, r in zip(ids, rows, strict=True)
                                 if r["status"] != "canceled"])
    stages = []
    for bid in ids:
        for st in stage_rows:
            stages.append({**st, "booking_id": bid, "status": "due" if st["status"] == "paid" else st["status"],
                           "payment_id": None, "paid_at": None})
    if stages:
        s.execute(insert(PaymentStage), stages)
    last_seq = invoice.seq
    docs = []
    for bid in ids[::3]:
        last_seq += 1
        docs.append({**doc_base, "booking_id": bid, "seq": last_seq, "source_key": f"booking-{bid}",
                     "number": invoice.number.rsplit("-", 1)[0] + f"-{last_seq:05d}",
                     "pdf_sha256": None, "delivery_status": "sent"})
    if docs:
        s.execute(insert(Document), docs)
        s.execute(update(DocumentCounter).where(
            DocumentCounter.tenant_id == tenant_id, DocumentCounter.kind == "invoice",
            DocumentCounter.series == invoice.series).values(last_number=last_seq))
    s.commit()
    return SeededTenant(slug=slug, owner_email=user.email, booking_id=real[0], manage_token=manage_token,
                        document_id=s.scalar(select(Document.id).where(Document.id == invoice.id)),
                        package_id=package.id)
