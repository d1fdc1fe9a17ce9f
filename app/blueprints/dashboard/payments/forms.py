"""Forms of the dashboard's payment pages."""
from __future__ import annotations

from wtforms import DateField, FieldList, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.blueprints.forms_common import AmountField, Form
from app.services.payments.recording import NOTE_MAX, OFFLINE_METHODS


class InstallmentRow(Form):
    class Meta:
        csrf = False

    percent = StringField("Share (%)", validators=[Optional(), Length(max=8)])
    anchor = SelectField("Due", choices=[("event", "days before the event"),
                                         ("booking", "days after booking")], default="event")
    days = StringField("Days", validators=[Optional(), Length(max=4)])


class PaymentSettingsForm(Form):
    mode = RadioField("Schedule", choices=[("deposit", "Deposit, then the balance"),
                                           ("installments", "Installments (2 to 4)")],
                      default="deposit")
    deposit_kind = RadioField("Deposit", choices=[("percent", "A percentage of the total"),
                                                  ("fixed", "A fixed amount")], default="percent")
    deposit_percent = StringField("Deposit percentage", validators=[Optional(), Length(max=8)])
    deposit_amount = AmountField("Deposit amount", validators=[Optional()])
    balance_due_days = StringField("Balance due (days before the event)",
                                   validators=[Optional(), Length(max=4)])
    installments = FieldList(FormField(InstallmentRow), min_entries=4, max_entries=4)


class OfflinePaymentForm(Form):
    scope = RadioField("Settles", choices=[("next", "The next stage due"),
                                           ("all", "Everything outstanding")], default="next")
    method = SelectField("Method", choices=list(OFFLINE_METHODS.items()), default="bank_transfer")
    received_on = DateField("Received on", validators=[Optional()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=NOTE_MAX)])
