"""Forms of the dashboard's bookings pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.blueprints.booking_fields import BookingForm, DetailsForm


class ManualBookingForm(BookingForm):
    initial_status = SelectField("Status", choices=[("confirmed", "Confirmed (agreed offline)"),
                                                    ("pending_deposit", "Awaiting deposit (holds the date)")],
                                 default="confirmed")


class EditBookingForm(DetailsForm):
    pass


class StatusForm(FlaskForm):
    to = StringField(validators=[DataRequired(), Length(max=20)])
