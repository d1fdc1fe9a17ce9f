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


def booking_calendar(booking: Booking, tenant: Tenant, *, canceled: bool = False,
                     stamp: datetime | None = None) -> bytes:
    """An all-day event on the booking's date (start time, if any, is in the description)."""
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    day = booking.event_date
    status = "TENTATIVE" if booking.status == "pending_deposit" else "CONFIRMED"
    description = [f"{booking.package_title} with {tenant.name}."]
    if booking.start_time is not None:
        description.append(f"Starts at {booking.start_time.strftime('%H:%M')} ({tenant.timezone}).")
    if booking.venue:
        description.append(f"Venue: {booking.venue}")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//MAIS//Bookings//EN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if canceled else 'PUBLISH'}",
        "BEGIN:VEVENT",
        f"UID:booking-{booking.id}-t{tenant.id}@mais",
        f"SEQUENCE:{booking.ics_sequence}",
        f"DTSTAMP:{stamp.strftime('%Y%m%dT%H%M%SZ')}",
        f"DTSTART;VALUE=DATE:{day.strftime('%Y%m%d')}",
        f"DTEND;VALUE=DATE:{(day + timedelta(days=1)).strftime('%Y%m%d')}",
        f"SUMMARY:{escape_text(f'{booking.package_title} – {tenant.name}')}",
        f"DESCRIPTION:{escape_text(' '.join(description))}",
        f"STATUS:{'CANCELLED' if canceled else status}",
        "TRANSP:OPAQUE",
    ]
    if booking.venue:
        lines.append(f"LOCATION:{escape_text(booking.venue)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")
