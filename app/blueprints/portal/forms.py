from __future__ import annotations

from wtforms import DateField, EmailField
from wtforms.validators import DataRequired, Email, InputRequired, Length

from app.blueprints.forms_common import Form


class RescheduleForm(Form):
    event_date = DateField("New date", validators=[InputRequired("Choose one of the free dates.")])


class CancelForm(Form):
    """Only the CSRF token: the confirmation is the POST itself."""


class FreshLinkForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)],
                       description="The address your booking emails went to.")
