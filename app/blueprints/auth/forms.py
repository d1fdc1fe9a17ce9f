from __future__ import annotations

from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.blueprints.forms_common import Form
from app.blueprints.place_fields import CurrencyField, TimezoneField
from app.services.accounts.users import MIN_PASSWORD

TIMEZONE_HINT = "Where your business is: dates, reminders and \"today\" follow it. Type a city to find it."


class SignupForm(Form):
    business_name = StringField("Business name", validators=[DataRequired(), Length(max=120)])
    slug = StringField("Public address (/t/...)", validators=[DataRequired(), Length(min=3, max=40)])
    owner_name = StringField("Your name", validators=[Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=MIN_PASSWORD, max=256)])
    timezone = TimezoneField("Time zone", default="America/New_York", description=TIMEZONE_HINT)
    currency = CurrencyField("Currency", default="USD")


class LoginForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class ForgotPasswordForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])


class ResetPasswordForm(Form):
    password = PasswordField("New password", validators=[DataRequired(), Length(min=MIN_PASSWORD, max=256)])
    confirm = PasswordField("Repeat it", validators=[DataRequired(), EqualTo("password", "The two passwords differ.")])


class AcceptInviteForm(Form):
    name = StringField("Your name", validators=[DataRequired(), Length(max=120)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=MIN_PASSWORD, max=256)])


class InviteForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField("Role", choices=[("staff", "Staff"), ("owner", "Owner")], default="staff")


class ChangePasswordForm(Form):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=256)])
    password = PasswordField("New password", validators=[DataRequired(), Length(min=MIN_PASSWORD, max=256)])
    confirm = PasswordField("Repeat it", validators=[DataRequired(), EqualTo("password", "The two passwords differ.")])


class NotifyForm(Form):
    notify = SelectField("Booking news by email", choices=[
        ("each", "An email for each new booking, payment, reschedule, cancellation or failure"),
        ("digest", "One digest a day"),
        ("off", "No emails"),
    ])
