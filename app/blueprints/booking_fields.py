"""The booking form fields shared by the public page and the dashboard's manual booking."""
from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.blueprints.forms_common import Form
from app.services.bookings.lifecycle import LIMITS, BookingDetails, BookingRequest
from app.services.shared.money import format_money


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DetailsForm(Form):
    couple_names = StringField("Your names", validators=[DataRequired("Enter your names."),
                                                         Length(max=LIMITS["couple_names"])],
                               description="For example: Alex Morgan & Sam Lee")
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Email(),
                                            Length(max=LIMITS["email"])],
                       description="We send your booking and its links here.")
    phone = StringField("Phone (optional)", validators=[Optional(), Length(max=LIMITS["phone"])])
    event_date = DateField("Event date", validators=[InputRequired("Choose a date.")])
    start_time = TimeField("Start time (optional)", validators=[Optional()])
    venue = StringField("Venue", validators=[DataRequired("Enter the venue."), Length(max=LIMITS["venue"])])
    notes = TextAreaField("Notes (optional)", validators=[Optional(), Length(max=LIMITS["notes"])])

    def details(self) -> BookingDetails:
        return BookingDetails(**self._detail_values())

    def _detail_values(self) -> dict:
        return {
            "couple_names": self.couple_names.data or "", "email": self.email.data or "",
            "phone": self.phone.data or "", "event_date": self.event_date.data,
            "start_time": self.start_time.data, "venue": self.venue.data or "",
            "notes": self.notes.data or "",
        }


class BookingForm(DetailsForm):
    package_id = RadioField("Package", validate_choice=False,
                            validators=[InputRequired("Choose a package.")])
    add_on_ids = CheckboxesField("Add-ons", validate_choice=False)

    def offer(self, packages, add_ons, locale: str) -> None:
        """Offer this tenant's catalog; the service re-checks every submitted id. Once a package
        is chosen, only the add-ons that fit it are offered."""
        self.package_id.choices = [
            (str(p.id), f"{p.title} · {format_money(p.price_minor, p.currency, locale)}") for p in packages]
        titles = {p.id: p.title for p in packages}
        self.add_on_ids.choices = [
            (str(a.id), f"{a.title} · +{format_money(a.price_minor, a.currency, locale)}"
             + (f" (with {titles[a.package_id]})" if a.package_id in titles else ""))
            for a in add_ons if a.package_id is None or a.package_id in titles]
        chosen = next((p for p in packages if str(p.id) == str(self.package_id.data)), None)
        if chosen is not None:
            fits = {str(a.id) for a in add_ons
                    if a.package_id in (None, chosen.id) and a.currency == chosen.currency}
            self.add_on_ids.choices = [c for c in self.add_on_ids.choices if c[0] in fits]

    def request(self) -> BookingRequest:
        return BookingRequest(**self._detail_values(), package_id=self.package_id.data,
                              add_on_ids=list(self.add_on_ids.data or []))


class PublicBookingForm(BookingForm):
    """The couple's booking form: they accept the terms shown (whose digest travels back)."""

    terms_digest = HiddenField()
    accept_terms = BooleanField(
        "I have read and accept these terms: the total, the payment schedule and the "
        "cancellation policy", validators=[DataRequired("Tick the box to accept the terms.")])

    def request(self) -> BookingRequest:
        wanted = super().request()
        wanted.accepted_terms = self.terms_digest.data or ""
        return wanted
