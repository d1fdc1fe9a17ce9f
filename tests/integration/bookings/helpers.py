"""Catalog and booking set-up shared by the booking tests."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from tests.fixtures.smtp import text_of

LINK = re.compile(r"https?://\S+/t/[a-z0-9-]+/b/[A-Za-z0-9_-]{43}(?:/reschedule|/cancel)?")


@dataclass
class Catalog:
    package_id: int
    other_package_id: int
    add_on_id: int  # any package
    package_add_on_id: int  # only with other_package_id


def make_catalog(app, tenant_id: int, user_id: int) -> Catalog:
    from app.extensions import db
    from app.services.bookings import catalog

    with app.app_context():
        s = db.session
        gold = catalog.save_package(s, tenant_id, user_id, title="Gold", description="Full day",
                                    price_text="2500.00")
        silver = catalog.save_package(s, tenant_id, user_id, title="Silver", description="Half day",
                                      price_text="1200")
        album = catalog.save_add_on(s, tenant_id, user_id, title="Album", description="",
                                    price_text="300.50", package_id=None)
        drone = catalog.save_add_on(s, tenant_id, user_id, title="Drone", description="",
                                    price_text="99", package_id=silver.id)
        result = Catalog(gold.id, silver.id, album.id, drone.id)
        db.session.remove()
    return result


def local_today(app, tenant_id: int) -> date:
    from app.extensions import db
    from app.services.bookings import availability

    with app.app_context():
        return availability.local_today(db.session, tenant_id)


def future(app, tenant_id: int, days: int = 60) -> date:
    return local_today(app, tenant_id) + timedelta(days=days)


def booking_form(package_id: int, day: date, **overrides) -> dict:
    data = {"package_id": str(package_id), "couple_names": "Alex & Sam", "email": "couple@example.com",
            "phone": "", "event_date": day.isoformat(), "start_time": "", "venue": "Rose Garden",
            "notes": "", "accept_terms": "y"}
    data.update(overrides)
    return data


def book(app, tenant_id: int, package_id: int, day: date, email: str = "couple@example.com",
         add_on_ids=(), **kwargs):
    """Create a booking through the service, with the app's real links."""
    from app.extensions import db
    from app.services.bookings import lifecycle as bookings
    from app.web.links import WebLinks

    with app.app_context():
        request = bookings.BookingRequest(couple_names="Alex & Sam", email=email, event_date=day,
                                          venue="Rose Garden", package_id=package_id,
                                          add_on_ids=list(add_on_ids))
        booking = bookings.create_booking(db.session, tenant_id, request, WebLinks(app), **kwargs)
        booking_id = booking.id
        db.session.remove()
    return booking_id


def links_in(body: str) -> dict[str, str]:
    """The manage, reschedule and cancel links of an email body."""
    found = {}
    for url in LINK.findall(body):
        kind = "reschedule" if url.endswith("/reschedule") else "cancel" if url.endswith("/cancel") else "manage"
        found.setdefault(kind, url)
    return found


def outbox_links(app, booking_id: int | None = None) -> list[dict[str, str]]:
    """Links of every queued booking email (newest last), read from the outbox rows."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboundEmail

    with app.app_context():
        rows = db.session.scalars(select(OutboundEmail).where(OutboundEmail.kind.like("booking_%"))
                                  .order_by(OutboundEmail.id)).all()
        result = [links_in(r.text_body) for r in rows]
        db.session.remove()
    return result


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def mail_links(msg) -> dict[str, str]:
    return links_in(text_of(msg))
