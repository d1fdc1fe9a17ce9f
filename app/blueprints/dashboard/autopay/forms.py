"""Forms of the dashboard's autopay page."""
from __future__ import annotations

from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import AnyOf, Length, Optional

from app.blueprints.forms_common import Form


class AutopaySettingsForm(Form):
    offered = BooleanField("Offer couples automatic payments",
                           description="Couples can tick a box when paying the deposit to have "
                                       "the later payments charged to the same card on their "
                                       "due dates.")
    # The service parses and explains the format; the length only stops absurd input early.
    retry_days = StringField("Retry a declined automatic payment after (days)",
                             validators=[Length(max=100)], render_kw={"class": "short"},
                             description="Days to wait before each new try, separated by commas, "
                                         "for example 1, 3, 5. Leave empty for no retries.")


class AutopayActionForm(Form):
    """Retry now / switch off: CSRF, and which page to go back to without JavaScript."""

    back = HiddenField(validators=[Optional(), AnyOf(["booking", "autopay"])])
