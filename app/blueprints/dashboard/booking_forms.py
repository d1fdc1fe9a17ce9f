"""Forms of the dashboard's bookings, catalog and availability pages."""
from __future__ import annotations

from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.blueprints.booking_fields import BookingForm, DetailsForm
from app.blueprints.forms_common import Form
from app.services.bookings.availability import LIMITS as RULE_LIMITS
from app.services.bookings.catalog import DESCRIPTION_MAX, TITLE_MAX


class ManualBookingForm(BookingForm):
    initial_status = SelectField("Status", choices=[("confirmed", "Confirmed (agreed offline)"),
                                                    ("pending_deposit", "Awaiting deposit (holds the date)")],
                                 default="confirmed")


class EditBookingForm(DetailsForm):
    pass


class StatusForm(Form):
    to = StringField(validators=[DataRequired(), Length(max=20)])


class PackageForm(Form):
    title = StringField("Title", validators=[DataRequired("Enter a title."), Length(max=TITLE_MAX)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=DESCRIPTION_MAX)])
    price = StringField("Price", validators=[DataRequired("Enter a price."), Length(max=20)],
                        description="For example 2500.00")


class AddOnForm(PackageForm):
    package_id = SelectField("Sold with", choices=[("", "Any package")], validate_choice=False, default="")


class ToggleForm(Form):
    active = StringField(validators=[DataRequired(), Length(max=1)])


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
