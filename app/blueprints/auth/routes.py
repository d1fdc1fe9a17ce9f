"""Tenant users: signup, login, logout, password reset, staff invitations."""
from __future__ import annotations

import hashlib

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.blueprints.auth.forms import (
    AcceptInviteForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
    SignupForm,
)
from app.blueprints.forms_common import apply_errors
from app.extensions import db, limiter, login_manager
from app.services.accounts import users as accounts
from app.services.shared.errors import ValidationFailed
from app.tasks.accounts import send_password_reset
from app.web.links import current_links
from app.web.redirects import safe_return_path
from app.web.security import no_referrer

bp = Blueprint("auth", __name__)
login_manager.login_view = "auth.login"
login_manager.login_message = "Log in to continue."


@login_manager.user_loader
def load_user(session_id: str):
    return accounts.load_session_user(db.session, session_id)


def email_key() -> str:
    """Rate-limit key per email address (hashed: no addresses in the limiter's store)."""
    address = (request.form.get("email") or "").strip().lower()
    return "email:" + hashlib.sha256(address.encode()).hexdigest()


def _safe_next(target: str | None) -> str:
    return safe_return_path(target, request.host) or url_for("dashboard.home")


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = accounts.signup(
                db.session, business_name=form.business_name.data, slug=form.slug.data.strip().lower(),
                timezone=form.timezone.data.strip(), currency=form.currency.data.strip().upper(),
                email_addr=form.email.data, password=form.password.data,
                owner_name=form.owner_name.data or "",
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            login_user(user)
            flash("Welcome to MAIS. Your business is set up.", "success")
            return redirect(url_for("dashboard.home"))
    return render_template("auth/signup.html", form=form), (400 if form.errors else 200)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@limiter.limit("20 per hour", key_func=email_key, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append("That email and password do not match an account.")
    return render_template("auth/login.html", form=form), (400 if form.errors else 200)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit("5 per 15 minutes", methods=["POST"])
@limiter.limit("3 per hour", key_func=email_key, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # The lookup runs in a task: the reply and its timing are the same for any address.
        send_password_reset(form.email.data.strip().lower())
        return render_template("auth/forgot_sent.html")
    return render_template("auth/forgot.html", form=form), (400 if form.errors else 200)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@no_referrer
@limiter.limit("20 per 15 minutes", methods=["POST"])
def reset_password(token: str):
    user = accounts.check_reset_link(db.session, token)  # InvalidLink -> the friendly page
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(db.session, token, form.password.data, current_links())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            if current_user.is_authenticated:
                logout_user()
            flash("Your password is changed. Log in with the new one.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, user=user), (400 if form.errors else 200)


@bp.route("/invite/<token>", methods=["GET", "POST"])
@no_referrer
def accept_invite(token: str):
    tenant, invitation = accounts.check_invitation(db.session, token)
    form = AcceptInviteForm()
    if form.validate_on_submit():
        try:
            user = accounts.accept_invitation(db.session, token, form.name.data, form.password.data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            if current_user.is_authenticated:
                logout_user()
            login_user(user)
            flash(f"Welcome to {tenant.name}.", "success")
            return redirect(url_for("dashboard.home"))
    return render_template("auth/accept_invite.html", form=form, tenant=tenant,
                           invitation=invitation), (400 if form.errors else 200)

