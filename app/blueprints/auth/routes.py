"""Tenant users: signup, login, logout, password reset, staff invitations."""
from __future__ import annotations

import hashlib

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.blueprints.auth.forms import (
    AcceptInviteForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    NotifyForm,
    ResetPasswordForm,
    SignupForm,
)
from app.blueprints.forms_common import apply_errors
from app.extensions import db, limiter, login_manager
from app.services.accounts import sessions
from app.services.accounts import users as accounts
from app.services.notifications import vendor as tell_team
from app.services.shared.errors import ValidationFailed
from app.tasks.accounts import send_password_reset
from app.web.links import current_links
from app.web.redirects import safe_return_path
from app.web.security import no_referrer

bp = Blueprint("auth", __name__)
login_manager.login_view = "auth.login"
login_manager.login_message = "Log in to continue."


SESSION_KEY = "sid"


@login_manager.user_loader
def load_user(login_id: str):
    # Only while the server-side session row is live: a revoked cookie is anonymous at once.
    return sessions.resolve(db.session, login_id, session.get(SESSION_KEY))


def _log_in(user) -> None:
    """Start a new server-side session (a fresh key, never the one the cookie came with)."""
    session.clear()
    session[SESSION_KEY] = sessions.start(db.session, user, ip_address=request.remote_addr or "",
                                          user_agent=request.headers.get("User-Agent", ""))
    login_user(user)


def _log_out() -> None:
    sessions.end(db.session, session.get(SESSION_KEY))
    logout_user()
    session.pop(SESSION_KEY, None)


def email_key() -> str:
    """Rate-limit key per email address (hashed: no addresses in the limiter's store)."""
    address = (request.form.get("email") or "").strip().lower()
    return "email:" + hashlib.sha256(address.encode()).hexdigest()


def _safe_next(target: str | None) -> str:
    return safe_return_path(target, request.host) or url_for("dashboard.home")


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
@limiter.limit("3 per hour", key_func=email_key, methods=["POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        try:
            accounts.request_signup(
                db.session, business_name=form.business_name.data, slug=form.slug.data.strip().lower(),
                timezone=form.timezone.data.strip(), currency=form.currency.data.strip().upper(),
                email_addr=form.email.data, password=form.password.data,
                owner_name=form.owner_name.data or "", links=current_links(),
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            # The same page whether or not the address had an account.
            return render_template("auth/signup_sent.html")
    return render_template("auth/signup.html", form=form), (400 if form.errors else 200)


@bp.route("/verify/<token>", methods=["GET", "POST"])
@no_referrer
def verify_email(token: str):
    user = accounts.check_verification_link(db.session, token)  # GET never consumes it
    if request.method == "POST":
        user = accounts.verify_email(db.session, token)
        if current_user.is_authenticated and current_user.id != user.id:
            _log_out()
        if not current_user.is_authenticated:
            _log_in(user)
        flash("Your email is confirmed. Your business can take card payments.", "success")
        return redirect(url_for("dashboard.home"))
    return render_template("auth/verify.html", user=user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@limiter.limit("20 per hour", key_func=email_key, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.email.data, form.password.data)
        if user is not None:
            _log_in(user)
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append("That email and password do not match an account.")
    return render_template("auth/login.html", form=form), (400 if form.errors else 200)


@bp.post("/logout")
@login_required
def logout():
    _log_out()
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
                _log_out()
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
                _log_out()
            _log_in(user)
            flash(f"Welcome to {tenant.name}.", "success")
            return redirect(url_for("dashboard.home"))
    return render_template("auth/accept_invite.html", form=form, tenant=tenant,
                           invitation=invitation), (400 if form.errors else 200)



@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """The user's own account: change the password, see and end sessions."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(db.session, current_user.tenant_id, current_user.id,
                                     form.current_password.data, form.password.data,
                                     session.get(SESSION_KEY), current_links())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash("Your password is changed. Your other sessions have ended.", "success")
            return redirect(url_for("auth.account"))
    live = sessions.active(db.session, current_user.id, session.get(SESSION_KEY))
    return render_template("auth/account.html", form=form, sessions=live,
                           notify_form=NotifyForm(notify=current_user.notify)), \
        (400 if form.errors else 200)


@bp.post("/account/notifications")
@login_required
def account_notifications():
    """The user's own choice of booking news: each event, a daily digest, or none."""
    form = NotifyForm()
    if form.validate_on_submit():
        tell_team.set_preference(db.session, current_user.tenant_id, current_user.id,
                                 form.notify.data)
        flash("Your email preference is saved.", "success")
    else:
        flash("Choose one of the options shown.", "error")
    return redirect(url_for("auth.account"))


@bp.post("/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    sessions.end_one(db.session, current_user.tenant_id, current_user.id, session_id)
    flash("That session has ended.", "info")
    return redirect(url_for("auth.account"))


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions():
    count = sessions.end_others(db.session, current_user.id, session.get(SESSION_KEY))
    flash(f"Logged out everywhere else ({count} session{'s' if count != 1 else ''} ended).", "info")
    return redirect(url_for("auth.account"))
