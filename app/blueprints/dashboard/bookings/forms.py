"""Forms of the dashboard's bookings pages."""
from __future__ import annotations

from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.blueprints.booking_fields import BookingForm, DetailsForm
from app.blueprints.forms_common import Form


class ManualBookingForm(BookingForm):
    initial_status = SelectField("Status", choices=[("confirmed", "Confirmed (agreed offline)"),
                                                    ("pending_deposit", "Awaiting deposit (holds the date)")],
                                 default="confirmed")


class EditBookingForm(DetailsForm):
    pass


class StatusForm(Form):
    to = StringField(validators=[DataRequired(), Length(max=20)])
