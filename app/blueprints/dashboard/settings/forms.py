from __future__ import annotations

from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.blueprints.forms_common import Form


class SettingsForm(Form):
    name = StringField("Business name", validators=[DataRequired(), Length(max=120)])
    timezone = StringField("Timezone", validators=[DataRequired(), Length(max=64)],
                           description="An IANA name such as Europe/Berlin.")
    currency = StringField("Currency", validators=[DataRequired(), Length(min=3, max=3)],
                           description="ISO 4217 code such as USD, EUR or JPY. Packages and add-ons "
                                       "keep the currency they were priced in: re-enter their prices "
                                       "after a change.")
    locale = StringField("Locale", validators=[DataRequired(), Length(max=16)],
                         description="How amounts and dates are written, e.g. en_US or de_DE.")
    contact_email = EmailField("Contact email", validators=[Optional(), Email(), Length(max=254)])
    address = TextAreaField("Business address", validators=[Length(max=500)])
    tax_id = StringField("Tax id", validators=[Length(max=64)])
