"""Forms of the dashboard's refund pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.blueprints.forms_common import AmountField
from app.services.refunds.requests import NOTE_MAX, REASON_LABELS


class RefundForm(FlaskForm):
    amount = AmountField("Amount", description="At most what is still refundable.")
    reason = SelectField("Reason", choices=list(REASON_LABELS.items()),
                         default="requested_by_customer")
    note = TextAreaField("Note (for your records)", validators=[Optional(), Length(max=NOTE_MAX)])


class CancelWithRefundForm(FlaskForm):
    refund_amount = AmountField("Refund with the cancellation",
                                description="The policy's amount is filled in; any other amount "
                                            "is recorded as an override.")
    note = TextAreaField("Note (for your records)", validators=[Optional(), Length(max=NOTE_MAX)])


class TierRow(FlaskForm):
    class Meta:
        csrf = False

    days = StringField("Days before the event (at least)", validators=[Optional(), Length(max=4)])
    percent = StringField("Refund (%)", validators=[Optional(), Length(max=8)])


class CancellationPolicyForm(FlaskForm):
    deposit_refundable = BooleanField("The deposit is refundable")
    tiers = FieldList(FormField(TierRow), min_entries=4, max_entries=4)
