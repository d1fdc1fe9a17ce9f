"""Field helpers shared by the areas' forms."""
from __future__ import annotations

from flask import g
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.services.shared.errors import ValidationFailed
from app.services.shared.money import INPUT_MAX, amount_example


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
