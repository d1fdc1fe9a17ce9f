"""Forms of the dashboard's refund pages."""
from __future__ import annotations

from wtforms import BooleanField, FieldList, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.blueprints.forms_common import AmountField, Form
from app.services.refunds.requests import NOTE_MAX, REASON_LABELS, USER_REASONS


class RefundForm(Form):
    amount = AmountField("Amount", description="At most what is still refundable.")
    reason = SelectField("Reason", choices=[(r, REASON_LABELS[r]) for r in USER_REASONS],
                         default="requested_by_customer")
    note = TextAreaField("Note (for your records)", validators=[Optional(), Length(max=NOTE_MAX)])


class CancelWithRefundForm(Form):
    refund_amount = AmountField("Refund with the cancellation",
                                description="The policy's amount is filled in; any other amount "
                                            "is recorded as an override.")
    note = TextAreaField("Note (for your records)", validators=[Optional(), Length(max=NOTE_MAX)])


class TierRow(Form):
    class Meta:
        csrf = False

    days = StringField("Days before the event (at least)", validators=[Optional(), Length(max=4)])
    percent = StringField("Refund (%)", validators=[Optional(), Length(max=8)])


class CancellationPolicyForm(Form):
    deposit_refundable = BooleanField("The deposit is refundable")
    tiers = FieldList(FormField(TierRow), min_entries=4, max_entries=4)
