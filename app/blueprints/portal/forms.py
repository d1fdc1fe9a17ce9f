from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField
from wtforms.validators import DataRequired, Email, InputRequired, Length


class RescheduleForm(FlaskForm):
    event_date = DateField("New date", validators=[InputRequired("Choose one of the free dates.")])


class CancelForm(FlaskForm):
    """Only the CSRF token: the confirmation is the POST itself."""


class FreshLinkForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)],
                       description="The address your booking emails went to.")
