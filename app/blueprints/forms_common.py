"""Field helpers shared by the areas' forms."""
from __future__ import annotations

from flask_wtf import FlaskForm

from app.services.shared.errors import ValidationFailed


def apply_errors(form: FlaskForm, exc: ValidationFailed) -> None:
    """Show a service's field errors on the form's fields (or the form when unknown)."""
    for field_name, message in exc.fields.items():
        field = getattr(form, field_name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
