from __future__ import annotations

from wtforms import IntegerField, SelectField, TimeField
from wtforms.validators import InputRequired, NumberRange

from app.blueprints.forms_common import Form

KIND_CHOICES = [("before_event", "Before the event"), ("after_event", "After the event"),
                ("balance_due", "Before a payment is due"), ("past_due", "After a payment is due")]


class ReminderRuleForm(Form):
    kind = SelectField("When", choices=KIND_CHOICES)
    offset_days = IntegerField("Days", validators=[InputRequired(), NumberRange(0, 365)],
                               description="0 means on the day itself.")
    send_time = TimeField("Local time", validators=[InputRequired()],
                          description="In your business timezone.")


class ActionForm(Form):
    """CSRF-only form for the send-now, retry and enable/disable buttons."""
