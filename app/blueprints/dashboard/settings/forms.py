from __future__ import annotations

from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.blueprints.forms_common import Form
from app.blueprints.place_fields import CurrencyField, LocaleField, TimezoneField


class SettingsForm(Form):
    name = StringField("Business name", validators=[DataRequired(), Length(max=120)])
    timezone = TimezoneField("Time zone", description="Dates, reminders and \"today\" follow this zone.")
    currency = CurrencyField("Currency", description="Packages and add-ons keep the currency they were "
                                                     "priced in: re-enter their prices after a change.")
    locale = LocaleField("Language and region", description="How amounts and dates are written.")
    contact_email = EmailField("Contact email", validators=[Optional(), Email(), Length(max=254)])
    address = TextAreaField("Business address", validators=[Length(max=500)])
    tax_id = StringField("Tax id", validators=[Length(max=64)])
