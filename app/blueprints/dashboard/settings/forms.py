from __future__ import annotations

from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.blueprints.forms_common import Form


class SettingsForm(Form):
    name = StringField("Business name", validators=[DataRequired(), Length(max=120)])
    timezone = StringField("Timezone", validators=[DataRequired(), Length(max=64)],
                           description="An IANA name such as Europe/Berlin.")
    # Choices are filled by the route; the service validates (validate_choice=False), so an
    # unknown value gets the service's message rather than WTForms' "Not a valid choice".
    currency = SelectField("Currency", validators=[DataRequired(), Length(min=3, max=3)],
                           validate_choice=False,
                           description="Currencies Stripe can charge. Packages and add-ons keep the "
                                       "currency they were priced in: re-enter their prices after "
                                       "a change.")
    locale = SelectField("Locale", validators=[DataRequired(), Length(max=16)], validate_choice=False,
                         description="How amounts are typed and shown to you, your couples, in "
                                     "emails and on invoices (e.g. 1.234,50 in German (Germany)).")
    contact_email = EmailField("Contact email", validators=[Optional(), Email(), Length(max=254)])
    address = TextAreaField("Business address", validators=[Length(max=500)])
    tax_id = StringField("Tax id", validators=[Length(max=64)])
