"""Forms of the dashboard's catalog: packages and add-ons."""
from __future__ import annotations

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.blueprints.forms_common import AmountField, Form
from app.services.bookings.catalog import DESCRIPTION_MAX, TITLE_MAX


class PackageForm(Form):
    title = StringField("Title", validators=[DataRequired("Enter a title."), Length(max=TITLE_MAX)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=DESCRIPTION_MAX)])
    price = AmountField("Price", validators=[DataRequired("Enter a price.")])


class AddOnForm(PackageForm):
    package_id = SelectField("Sold with", choices=[("", "Any package")], validate_choice=False, default="")
