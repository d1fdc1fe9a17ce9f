"""Field helpers shared by the areas' forms, and the base class every form derives from."""
from __future__ import annotations

import re
from datetime import date

from flask import flash, g, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.services.shared.errors import ValidationFailed
from app.services.shared.money import INPUT_MAX, amount_example

# C0 controls and DEL. Multi-line fields (textareas) may hold tab, newline and carriage return.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_MESSAGE = "Remove the invisible control characters (such as NUL) from this text."
# Whole numbers are stored in 32-bit columns on PostgreSQL (and SQLite stops at 64 bits).
INT_LIMIT = 2**31 - 1
INT_MESSAGE = "That number is far too large."


def control_characters(value: str, multiline: bool) -> bool:
    return bool((_CONTROL_IN_LINES if multiline else _CONTROL).search(value))


class Form(FlaskForm):
    """Every form of the portal: refuses control characters in any submitted field, and whole
    numbers no database column can hold.

    NUL cannot be stored by PostgreSQL (and SQLite would pass it on to emails and PDFs); the
    other C0 controls have no business in names, notes or settings. The check runs on the raw
    submitted strings, so it covers every field type, whatever its own validators do."""

    def validate(self, extra_validators=None) -> bool:
        # WTForms' NumberRange compares with floats and overflows on a 400-digit number, so
        # such values are taken away before the validators run and refused afterwards.
        huge = [f for f in self if isinstance(f, IntegerField) and isinstance(f.data, int)
                and not -INT_LIMIT <= f.data <= INT_LIMIT]
        for field in huge:
            field.data = None
        valid = super().validate(extra_validators)
        for field in huge:
            field.errors = [INT_MESSAGE]
            valid = False
        for field in self:
            multiline = isinstance(field, TextAreaField)
            if any(isinstance(v, str) and control_characters(v, multiline)
                   for v in (field.raw_data or ())):
                field.errors = [*field.errors, CONTROL_MESSAGE]
                valid = False
        return valid


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


def save_then_redirect(form: FlaskForm, save, message: str, endpoint: str, **values):
    """Run `save` (one service call); on success flash `message` and return the redirect to
    `endpoint`, else put the service's field errors on the form and return None."""
    try:
        save()
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return None
    flash(message, "success")
    return redirect(url_for(endpoint, **values))


def apply_errors(form: FlaskForm, exc: ValidationFailed) -> None:
    """Show a service's field errors on the form's fields (or the form when unknown)."""
    for field_name, message in exc.fields.items():
        field = getattr(form, field_name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


class ToggleForm(Form):
    active = StringField(validators=[DataRequired(), Length(max=1)])


class PlainForm(Form):
    """A button that only needs CSRF protection."""


class AmountField(StringField):
    """An amount typed in the signed-in business's locale; the hint and placeholder show the
    expected format ("1.234,50" in de_DE). Parsing is the service's (`money.parse_amount`)."""

    def __init__(self, label=None, validators=None, description: str = "", **kwargs) -> None:
        tenant = g.get("tenant")
        if tenant is not None:
            example = amount_example(tenant.currency, tenant.locale)
            description = f"{description} Format: {example} ({tenant.currency}).".strip()
            kwargs.setdefault("render_kw", {"placeholder": example, "inputmode": "decimal"})
        super().__init__(label, [*(validators or []), Length(max=INPUT_MAX)],
                         description=description, **kwargs)
