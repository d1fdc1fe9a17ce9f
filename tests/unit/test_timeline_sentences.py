"""Every action the services audit reads as a sentence on the booking timeline."""
import re
from pathlib import Path

import pytest

from app.models.booking import BOOKING_STATUSES
from app.models.dispute import DISPUTE_STATUSES
from app.models.refund import PART_STATUSES
from app.models.reminder import REMINDER_STATUSES
from app.services.bookings import history

APP = Path(__file__).resolve().parents[2] / "app"
CALL = re.compile(r"audit\.record\(\s*[^,]+,\s*[^,]+,\s*(f?\"[^\"]*\"(?:\s*\+\s*\([^)]*\))?)", re.S)
# The f-string actions in the services, and every value each can take.
DYNAMIC = {
    'f"booking.{to}"': [f"booking.{s}" for s in BOOKING_STATUSES],
    'f"reminder.{action}"': ["reminder.send_now", "reminder.retry"],
    'f"refund.{to}"': [f"refund.{s}" for s in PART_STATUSES],
    'f"reminder.{row.status}"': [f"reminder.{s}" for s in REMINDER_STATUSES],
    'f"dispute.{info.status}"': [f"dispute.{s}" for s in DISPUTE_STATUSES],
    'f"{kind}.issued"': [f"{k}.issued" for k in history.DOCUMENT_KINDS],
    'f"{doc.kind}.resent"': [f"{k}.resent" for k in history.DOCUMENT_KINDS],
    'f"branding.{kind}_uploaded"': ["branding.logo_uploaded", "branding.cover_uploaded"],
    'f"branding.{kind}_removed"': ["branding.logo_removed"],
    "f\"{kind}.{'activated' if active else 'deactivated'}\"":
        [f"{k}.{v}" for k in ("package", "add_on") for v in ("activated", "deactivated")],
    '"reminder_rule." + ("enabled" if active else "disabled")':
        ["reminder_rule.enabled", "reminder_rule.disabled"],
}


def recorded_actions() -> list[str]:
    found = []
    for path in APP.rglob("*.py"):
        for match in CALL.finditer(path.read_text()):
            found.append(" ".join(match.group(1).split()))
    return found


def test_the_scan_finds_the_services_audit_calls():
    actions = recorded_actions()
    assert '"booking.created"' in actions and 'f"booking.{to}"' in actions and len(actions) > 40


@pytest.mark.parametrize("written", sorted(set(recorded_actions())))
def test_every_recorded_action_has_a_sentence(written):
    if written.startswith('"') and written.endswith('"'):
        values = [written.strip('"')]
    else:
        assert written in DYNAMIC, f"new computed audit action {written}: add its values here"
        values = DYNAMIC[written]
    for action in values:
        assert history.known(action), action
        assert "." not in history.sentence(action, {}, "en_US").split()[0], action


def test_money_and_reasons_read_in_the_tenants_locale():
    assert history.sentence("payment.received", {"amount_minor": 127500, "currency": "usd",
                                                  "method": "card"}, "en_US") \
        == "Payment of $1,275.00 received by card"
    assert history.sentence("refund.succeeded", {"amount_minor": 10000, "currency": "eur"},
                            "de_DE") == "Refund of 100,00\xa0€ sent"
    assert history.sentence("refund.requested", {"amount_minor": 10000, "currency": "usd",
                                                  "reason": "duplicate"}, "en_US") \
        == "Refund of $100.00 requested: duplicate payment"
