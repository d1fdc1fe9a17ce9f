"""Field helpers shared by the areas' forms."""
from __future__ import annotations

from datetime import date

from flask import request
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.services.shared.errors import ValidationFailed


def date_arg(name: str) -> date | None:
    """A YYYY-MM-DD query argument, or None when absent or not a date (filters ignore it)."""
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def csv_response(body: str, filename: str):
    from flask import Response

    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


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
