from __future__ import annotations

from decimal import Decimal

from wtforms import BooleanField, DecimalField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from app.blueprints.forms_common import Form


class InvoiceSettingsForm(Form):
    invoice_prefix = StringField("Invoice prefix", validators=[InputRequired(), Length(max=20)],
                                 description="e.g. ACME gives ACME-2026-0042")
    receipt_prefix = StringField("Receipt prefix", validators=[InputRequired(), Length(max=20)])
    credit_note_prefix = StringField("Credit note prefix", validators=[InputRequired(),
                                                                       Length(max=20)])
    include_year = BooleanField("Show the year in numbers")
    yearly_reset = BooleanField("Start again at 1 every year")
    padding = IntegerField("Digits", validators=[InputRequired(), NumberRange(1, 10)],
                           description="4 gives 0042")
    tax_rate = DecimalField("Tax rate (%)", places=2,
                            validators=[InputRequired(), NumberRange(Decimal(0), Decimal(100))])
    tax_mode = RadioField("Prices", choices=[("inclusive", "include tax"),
                                             ("exclusive", "exclude tax (tax is added)")],
                          default="inclusive")
    tax_label = StringField("Tax name", validators=[InputRequired(), Length(max=30)],
                            description="e.g. VAT, GST, Sales tax")
    terms = TextAreaField("Terms", validators=[Length(max=2000)])
    notes = TextAreaField("Notes", validators=[Length(max=2000)])
