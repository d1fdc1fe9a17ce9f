"""iCalendar (RFC 5545) invitations for bookings, written by hand: escaped text, CRLF, folding.

One UID per booking; SEQUENCE grows on every change so calendar apps replace the old entry, and
a cancellation is the same UID with METHOD:CANCEL and STATUS:CANCELLED.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.models import Booking, Tenant


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma and newlines."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character (RFC 5545 3.1)."""
    out: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def _event(booking: Booking, tenant: Tenant, *, canceled: bool, stamp: datetime,
           summary: str, extra: list[str]) -> list[str]:
    """One VEVENT: an all-day event on the booking's date (start time, if any, described)."""
    day = booking.event_date
    status = "TENTATIVE" if booking.status == "pending_deposit" else "CONFIRMED"
    description = [f"{booking.package_title} with {tenant.name}.", *extra]
    if booking.start_time is not None:
        description.append(f"Starts at {booking.start_time.strftime('%H:%M')} ({tenant.timezone}).")
    if booking.venue:
        description.append(f"Venue: {booking.venue}")
    lines = [
        "BEGIN:VEVENT",
        f"UID:booking-{booking.id}-t{tenant.id}@mais",
        f"SEQUENCE:{booking.ics_sequence}",
        f"DTSTAMP:{stamp.strftime('%Y%m%dT%H%M%SZ')}",
        f"DTSTART;VALUE=DATE:{day.strftime('%Y%m%d')}",
        f"DTEND;VALUE=DATE:{(day + timedelta(days=1)).strftime('%Y%m%d')}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(' '.join(description))}",
        f"STATUS:{'CANCELLED' if canceled else status}",
        "TRANSP:OPAQUE",
    ]
    if booking.venue:
        lines.append(f"LOCATION:{escape_text(booking.venue)}")
    return lines + ["END:VEVENT"]


def _calendar(method: str, events: list[str], headers: tuple[str, ...] = ()) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//MAIS//Bookings//EN", "CALSCALE:GREGORIAN",
             f"METHOD:{method}", *headers, *events, "END:VCALENDAR"]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")


def booking_calendar(booking: Booking, tenant: Tenant, *, canceled: bool = False,
                     stamp: datetime | None = None) -> bytes:
    """The couple's invitation: one event named after the package and the vendor."""
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    event = _event(booking, tenant, canceled=canceled, stamp=stamp,
                   summary=f"{booking.package_title} – {tenant.name}", extra=[])
    return _calendar("CANCEL" if canceled else "PUBLISH", event)


def vendor_feed(bookings: list[Booking], tenant: Tenant, labels: dict[str, str], *,
                stamp: datetime | None = None) -> bytes:
    """The vendor's subscription feed: every booking, named after the couple, with its status
    in words; the same UIDs as the couples' invitations."""
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    events: list[str] = []
    for booking in bookings:
        events += _event(booking, tenant, canceled=booking.status in ("canceled", "expired"), stamp=stamp,
                         summary=f"{booking.couple_names} – {booking.package_title}",
                         extra=[f"Booking #{booking.id}: {labels.get(booking.status, booking.status)}."])
    headers = (f"X-WR-CALNAME:{escape_text(f'{tenant.name} bookings')}", f"X-WR-TIMEZONE:{tenant.timezone}",
               "REFRESH-INTERVAL;VALUE=DURATION:PT1H", "X-PUBLISHED-TTL:PT1H")
    return _calendar("PUBLISH", events, headers)
