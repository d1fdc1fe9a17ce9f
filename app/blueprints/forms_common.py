"""Field helpers shared by the areas' forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.services.shared.errors import ValidationFailed


def apply_errors(form: FlaskForm, exc: ValidationFailed) -> None:
    """Show a service's field errors on the form's fields (or the form when unknown)."""
    for field_name, message in exc.fields.items():
        field = getattr(form, field_name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


class ToggleForm(FlaskForm):
    active = StringField(validators=[DataRequired(), Length(max=1)])


class PlainForm(FlaskForm):
    """A button that only needs CSRF protection."""
