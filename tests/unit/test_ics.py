from datetime import UTC, date, datetime, time
from types import SimpleNamespace

from app.services.bookings import ics


def _booking(**kw):
    values = dict(id=7, event_date=date(2027, 6, 12), start_time=time(15, 30), venue="Hall; Room 2, East",
                  package_title="Gold", ics_sequence=2, status="confirmed")
    values.update(kw)
    return SimpleNamespace(**values)


TENANT = SimpleNamespace(id=3, name="Lumière, Photo", timezone="Europe/Paris")


def test_text_values_are_escaped():
    assert ics.escape_text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"


def test_long_lines_fold_at_75_octets_without_splitting_characters():
    line = "DESCRIPTION:" + "é" * 100
    folded = ics.fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line


def test_calendar_is_an_all_day_event_with_crlf_and_sequence():
    body = ics.booking_calendar(_booking(), TENANT, stamp=datetime(2026, 1, 1, tzinfo=UTC)).decode()
    assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")
    assert "METHOD:PUBLISH" in body and "STATUS:CONFIRMED" in body
    assert "DTSTART;VALUE=DATE:20270612" in body and "DTEND;VALUE=DATE:20270613" in body
    assert "UID:booking-7-t3@mais" in body and "SEQUENCE:2" in body
    assert "LOCATION:Hall\\; Room 2\\, East" in body
    assert "SUMMARY:Gold – Lumière\\, Photo" in body


def test_cancellation_uses_method_cancel():
    body = ics.booking_calendar(_booking(status="canceled"), TENANT, canceled=True).decode()
    assert "METHOD:CANCEL" in body and "STATUS:CANCELLED" in body


def test_unpaid_booking_is_tentative():
    body = ics.booking_calendar(_booking(status="pending_deposit"), TENANT).decode()
    assert "STATUS:TENTATIVE" in body
