"""Tenant user accounts: signup, login, staff invitations and password reset.

Password reset follows OWASP's Forgot Password guidance: the reply never says whether an email is
known, the token is single use for an hour, and a reset ends every other session of the user.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.models import Tenant, User
from app.services.accounts import sessions, tenants
from app.services.email import outbox as email
from app.services.shared import audit, clock, tokens
from app.services.shared.errors import InvalidLink, PermissionDenied, ValidationFailed
from app.services.shared.links import Links
from app.services.shared.tenancy import get_owned
from app.services.shared.unit_of_work import committing

MIN_PASSWORD = 10
# Compared against when the email is unknown, so both paths cost one hash check.
_DUMMY_HASH = generate_password_hash("not-a-real-password-for-timing")


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > 256:
        return "Use at most 256 characters."
    return None


def require_good_password(password: str) -> None:
    """ValidationFailed on the password field when `password` is not good enough."""
    problem = password_problem(password)
    if problem:
        raise ValidationFailed({"password": problem})


def _find_user(session: Session, email_addr: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.email) == email_addr.strip().lower())).first()


def signup(
    session: Session,
    *,
    business_name: str,
    slug: str,
    timezone: str,
    currency: str,
    email_addr: str,
    password: str,
    owner_name: str = "",
    locale: str = "en_US",
    email_verified: bool = True,
) -> User:
    """Create a tenant and its owner together, or nothing (field errors in ValidationFailed).
    For seeding and tests; the web's signup is `request_signup`, which verifies the address."""
    problems: dict[str, str] = {}
    if tenants.email_taken(session, email_addr):
        problems["email"] = "An account with that email exists; log in or reset your password."
    pw = password_problem(password)
    if pw:
        problems["password"] = pw
    with committing(session):
        try:
            tenant = tenants.create_tenant(
                session, slug=slug, name=business_name, timezone=timezone, currency=currency,
                locale=locale, contact_email=email_addr,
            )
        except ValidationFailed as exc:
            raise ValidationFailed({**exc.fields, **problems}) from None
        if problems:
            raise ValidationFailed(problems)
        user = User(
            tenant_id=tenant.id, email=email_addr.strip().lower(), name=owner_name.strip(),
            password_hash=generate_password_hash(password), role="owner", session_version=1,
            created_at=clock.now(), email_verified_at=clock.now() if email_verified else None,
        )
        session.add(user)
        session.flush()
        audit.record(session, tenant.id, "tenant.signed_up", actor="user", actor_user_id=user.id,
                     subject_type="tenant", subject_id=tenant.id)
    return user


def request_signup(session: Session, *, business_name: str, slug: str, timezone: str,
                   currency: str, email_addr: str, password: str, owner_name: str,
                   links: Links) -> None:
    """The web's signup. The reply is the same whether or not the address has an account (the
    caller always says "check your email"): a new address gets a business and an unverified
    owner plus a verification link; a known one gets "you already have an account" with a
    password-reset link, and nothing else changes. Business fields are checked for both, since
    their errors say nothing about the email."""
    address = email_addr.strip().lower()
    existing = _find_user(session, address)
    try:
        owner = signup(session, business_name=business_name, slug=slug, timezone=timezone,
                       currency=currency, email_addr=address, password=password,
                       owner_name=owner_name, email_verified=False)
    except ValidationFailed as exc:
        fields = {k: v for k, v in exc.fields.items() if k != "email"}
        if fields or existing is None:
            raise ValidationFailed(fields or exc.fields) from None
    else:
        send_verification(session, owner, links)
        return
    # The address has an account. Hash the password anyway: the new-account path hashes one,
    # and the reply's timing must not tell the two apart.
    generate_password_hash(password)
    raw = tokens.issue(session, existing.tenant_id, "password_reset", existing.id)
    email.queue_email(
        session, existing.tenant_id, to=existing.email, kind="account_exists",
        subject="You already have a MAIS account",
        context={"user": existing, "reset_url": links.password_reset(raw),
                 "login_url": links.login(), "valid_minutes": 60})
    audit.record(session, existing.tenant_id, "user.signup_for_existing_email",
                 actor="system", subject_type="user", subject_id=existing.id)
    session.commit()


def send_verification(session: Session, user: User, links: Links) -> None:
    """Email the owner a single-use link that proves the address (valid 2 days); commits."""
    tokens.revoke(session, user.tenant_id, ("email_verify",), user.id)
    raw = tokens.issue(session, user.tenant_id, "email_verify", user.id)
    email.queue_email(
        session, user.tenant_id, to=user.email, kind="verify_email",
        subject="Confirm your email for MAIS",
        context={"user": user, "verify_url": links.verify_email(raw), "valid_hours": 48})
    session.commit()


def _user_of_link(session: Session, purpose: str, raw: str) -> User:
    """The user a live link of `purpose` was sent to, without consuming it; InvalidLink else."""
    token = tokens.peek(session, purpose, raw)
    user = session.get(User, token.subject_id)
    if user is None or user.tenant_id != token.tenant_id:
        raise InvalidLink()
    return user


def check_verification_link(session: Session, raw: str) -> User:
    return _user_of_link(session, "email_verify", raw)


def verify_email(session: Session, raw: str) -> User:
    """Consume the link and mark the address verified (payments open); all or nothing."""
    token = tokens.consume(session, "email_verify", raw)
    user = session.get(User, token.subject_id)
    if user is None or user.tenant_id != token.tenant_id:
        session.rollback()
        raise InvalidLink()
    if user.email_verified_at is None:
        user.email_verified_at = clock.now()
        audit.record(session, user.tenant_id, "user.email_verified", actor="user",
                     actor_user_id=user.id, subject_type="user", subject_id=user.id)
    session.commit()
    return user


def can_take_payments(session: Session, tenant_id: int) -> bool:
    """A business takes payments once one of its owners has verified their email."""
    return session.scalars(select(User.id).where(
        User.tenant_id == tenant_id, User.role == "owner",
        User.email_verified_at.is_not(None))).first() is not None


def authenticate(session: Session, email_addr: str, password: str) -> User | None:
    """The user for these credentials, or None; the same work whether or not the email exists."""
    user = _find_user(session, email_addr)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = clock.now()
    session.commit()
    return user


def request_password_reset(session: Session, email_addr: str, links: Links) -> None:
    """Email a reset link if the address belongs to a user; silently nothing otherwise."""
    user = _find_user(session, email_addr)
    if user is None:
        return
    raw = tokens.issue(session, user.tenant_id, "password_reset", user.id)
    email.queue_email(
        session, user.tenant_id, to=user.email, kind="password_reset",
        subject="Reset your MAIS password",
        context={"user": user, "reset_url": links.password_reset(raw), "valid_minutes": 60},
    )
    audit.record(session, user.tenant_id, "user.password_reset_requested", actor="system",
                 subject_type="user", subject_id=user.id)
    session.commit()


def check_reset_link(session: Session, raw: str) -> User:
    return _user_of_link(session, "password_reset", raw)


def reset_password(session: Session, raw: str, new_password: str, links: Links) -> User:
    """Consume the token, set the password, end all sessions, tell the user. All or nothing."""
    require_good_password(new_password)
    with committing(session):
        token = tokens.consume(session, "password_reset", raw)
        user = session.get(User, token.subject_id)
        if user is None or user.tenant_id != token.tenant_id:
            raise InvalidLink()
        user.password_hash = generate_password_hash(new_password)
        user.session_version += 1
        sessions.revoke_all(session, user.id)
        # Any other reset link sent to this user dies with this one.
        tokens.revoke(session, user.tenant_id, ("password_reset",), user.id)
        email.queue_email(
            session, user.tenant_id, to=user.email, kind="password_changed",
            subject="Your MAIS password was changed",
            context={"user": user, "login_url": links.login(), "forgot_url": links.forgot_password()},
        )
        audit.record(session, user.tenant_id, "user.password_reset", actor="user",
                     actor_user_id=user.id, subject_type="user", subject_id=user.id)
    return user


def change_password(session: Session, tenant_id: int, user_id: int, current_password: str,
                    new_password: str, keep_session: str | None, links: Links) -> None:
    """A logged-in user changes their password: the current one must match; every other
    session of theirs ends; they are told by email. All or nothing."""
    user = get_owned(session, User, tenant_id, user_id)
    if not check_password_hash(user.password_hash, current_password):
        raise ValidationFailed({"current_password": "That is not your current password."})
    require_good_password(new_password)
    user.password_hash = generate_password_hash(new_password)
    sessions.revoke_all(session, user.id, keep_raw=keep_session)
    tokens.revoke(session, tenant_id, ("password_reset",), user.id)
    email.queue_email(
        session, tenant_id, to=user.email, kind="password_changed",
        subject="Your MAIS password was changed",
        context={"user": user, "login_url": links.login(), "forgot_url": links.forgot_password()},
    )
    audit.record(session, tenant_id, "user.password_changed", actor="user", actor_user_id=user.id,
                 subject_type="user", subject_id=user.id)
    session.commit()


def invite_staff(
    session: Session, tenant_id: int, actor_user_id: int, email_addr: str, role: str, links: Links
) -> None:
    """An owner invites someone by email; the link is valid 7 days and works once."""
    actor = get_owned(session, User, tenant_id, actor_user_id)
    if not actor.is_owner:
        raise PermissionDenied("Only an owner can invite people.")
    if role not in ("owner", "staff"):
        raise ValidationFailed({"role": "Choose owner or staff."})
    address = email_addr.strip().lower()
    if tenants.email_taken(session, address):
        raise ValidationFailed({"email": "That email already has an account."})
    raw = tokens.issue(session, tenant_id, "staff_invite", None, {"email": address, "role": role})
    tenant = session.get(Tenant, tenant_id)
    email.queue_email(
        session, tenant_id, to=address, kind="staff_invite",
        subject=f"You are invited to {tenant.name} on MAIS",
        context={"inviter": actor, "role": role, "accept_url": links.staff_invite(raw)},
    )
    audit.record(session, tenant_id, "user.invited", actor="user", actor_user_id=actor_user_id,
                 subject_type="tenant", subject_id=tenant_id, email=address, role=role)
    session.commit()


def check_invitation(session: Session, raw: str) -> tuple[Tenant, dict]:
    token = tokens.peek(session, "staff_invite", raw)
    return session.get(Tenant, token.tenant_id), dict(token.payload)


def accept_invitation(session: Session, raw: str, name: str, password: str) -> User:
    """Create the invited user in the inviting tenant, consuming the invitation."""
    require_good_password(password)
    with committing(session):
        token = tokens.consume(session, "staff_invite", raw)
        address = token.payload["email"]
        if tenants.email_taken(session, address):
            raise ValidationFailed({"email": "That email already has an account; log in instead."})
        user = User(
            tenant_id=token.tenant_id, email=address, name=name.strip(),
            password_hash=generate_password_hash(password), role=token.payload["role"],
            session_version=1, created_at=clock.now(),
        )
        session.add(user)
        session.flush()
        audit.record(session, token.tenant_id, "user.joined", actor="user", actor_user_id=user.id,
                     subject_type="user", subject_id=user.id, role=user.role)
    return user


def team(session: Session, tenant_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.tenant_id == tenant_id).order_by(User.id)))
