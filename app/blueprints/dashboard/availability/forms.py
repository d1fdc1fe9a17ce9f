"""Forms of the dashboard's availability page: rules and blackout dates."""
from __future__ import annotations

from wtforms import DateField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.blueprints.forms_common import Form
from app.services.bookings.availability import LIMITS as RULE_LIMITS


def _rule(label: str, name: str, hint: str) -> IntegerField:
    low, high = RULE_LIMITS[name]
    return IntegerField(label, validators=[InputRequired(), NumberRange(low, high)], description=hint)


class AvailabilityForm(Form):
    capacity_per_day = _rule("Events per day", "capacity_per_day", "How many bookings one date can take.")
    min_notice_days = _rule("Minimum notice (days)", "min_notice_days", "0 allows same-day bookings.")
    horizon_days = _rule("Booking horizon (days)", "horizon_days", "How far ahead couples can book.")
    hold_minutes = _rule("Hold an unpaid booking (minutes)", "hold_minutes",
                         "After this, an unpaid booking expires and its date is free again.")
    reschedule_cutoff_days = _rule("Online reschedule cut-off (days before)", "reschedule_cutoff_days",
                                   "Closer to the event, couples must contact you to move it.")


class BlackoutForm(Form):
    day = DateField("Date", validators=[InputRequired("Choose a date.")])
    reason = StringField("Note (private)", validators=[Optional(), Length(max=120)])
