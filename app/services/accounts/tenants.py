"""Tenants: signup, settings and the checks on timezone, currency and locale."""
from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

from babel import Locale, UnknownLocaleError, localedata
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.models import Tenant, User
from app.services.reminders import dispatch as reminders
from app.services.shared import audit, clock, currencies, revisions
from app.services.shared.errors import NotFound, ValidationFailed

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")
RESERVED_SLUGS = {"admin", "api", "static", "dashboard", "auth", "dev", "webhooks", "healthz"}


@lru_cache(maxsize=1)
def timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=1)
def locales() -> list[tuple[str, str]]:
    """(identifier, name) of Babel's locales with a territory (de_DE, fr_CH), for the setting."""
    found = []
    for identifier in localedata.locale_identifiers():
        locale = Locale.parse(identifier)
        if locale.territory and not locale.variant:
            found.append((identifier, f"{locale.get_display_name('en')} ({identifier})"))
    return sorted(found, key=lambda pair: pair[1])


def timezone_problem(value: str) -> str | None:
    return None if value in timezones() else "Choose a timezone from the list (e.g. Europe/Berlin)."


def currency_problem(value: str) -> str | None:
    """Only currencies Stripe can charge (the one currency table)."""
    return currencies.currency_problem(value)


def locale_problem(value: str) -> str | None:
    """A locale Babel knows (it drives how amounts are typed and shown)."""
    if not isinstance(value, str) or not localedata.exists(value):
        return "Choose a locale such as en_US, de_DE or ja_JP."
    try:
        Locale.parse(value)
    except (ValueError, UnknownLocaleError):
        return "Choose a locale such as en_US, de_DE or ja_JP."
    return None


def slug_problem(session: Session, slug: str, exclude_tenant_id: int | None = None) -> str | None:
    if not SLUG.match(slug) or slug in RESERVED_SLUGS:
        return "Use 3-40 lowercase letters, digits and dashes."
    query = select(Tenant.id).where(Tenant.slug == slug)
    if exclude_tenant_id is not None:
        query = query.where(Tenant.id != exclude_tenant_id)
    if session.scalars(query).first() is not None:
        return "That address is taken; try another."
    return None


def email_taken(session: Session, email: str) -> bool:
    return session.scalars(select(User.id).where(func.lower(User.email) == email.lower())).first() is not None


def get_tenant(session: Session, tenant_id: int) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound()
    return tenant


_BY_SLUG_FOR_PAGE = revisions.with_tenant(select(Tenant).where(Tenant.slug == bindparam("slug")), Tenant.id)


def for_page(session: Session, slug: str) -> Tenant:
    """The tenant of a /t/<slug> request, with its page revisions (one statement); NotFound."""
    found = session.execute(_BY_SLUG_FOR_PAGE, {"slug": slug}).first()
    if found is None:
        raise NotFound()
    tenant, mine, everyone = found
    revisions.remember(session, tenant.id, mine, everyone)
    return tenant


def get_by_slug(session: Session, slug: str) -> Tenant:
    tenant = session.scalars(select(Tenant).where(Tenant.slug == slug)).first()
    if tenant is None:
        raise NotFound()
    return tenant


SETTINGS_FIELDS = ("name", "timezone", "currency", "locale", "address", "tax_id", "contact_email")


def _check_settings(values: dict) -> dict[str, str]:
    problems: dict[str, str] = {}
    for field, check in (
        ("timezone", timezone_problem),
        ("currency", currency_problem),
        ("locale", locale_problem),
    ):
        if field in values:
            problem = check(values[field])
            if problem:
                problems[field] = problem
    if "name" in values and not values["name"].strip():
        problems["name"] = "Enter your business name."
    return problems


def update_settings(session: Session, tenant_id: int, actor_user_id: int, values: dict) -> Tenant:
    """Change the tenant's business settings; all-or-nothing, audited with the old values."""
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed({f: "Unknown setting." for f in unknown})
    problems = _check_settings(values)
    if problems:
        raise ValidationFailed(problems)
    tenant = get_tenant(session, tenant_id)
    changes = {
        f: [getattr(tenant, f), v] for f, v in values.items() if getattr(tenant, f) != v
    }
    for field, (_, new) in changes.items():
        setattr(tenant, field, new)
    if "timezone" in changes:
        # Reminders keep their local wall time; their UTC moment follows the new timezone.
        reminders.sync_tenant(session, tenant_id)
    if changes:
        audit.record(
            session, tenant_id, "settings.updated", actor="user", actor_user_id=actor_user_id,
            subject_type="tenant", subject_id=tenant_id, changes=changes,
        )
    session.commit()
    return tenant


def create_tenant(session: Session, *, slug: str, name: str, timezone: str, currency: str,
                  locale: str = "en_US", contact_email: str = "") -> Tenant:
    problems = _check_settings({"name": name, "timezone": timezone, "currency": currency,
                                "locale": locale})
    slug_issue = slug_problem(session, slug)
    if slug_issue:
        problems["slug"] = slug_issue
    if problems:
        raise ValidationFailed(problems)
    tenant = Tenant(slug=slug, name=name.strip(), timezone=timezone, currency=currency,
                    locale=locale, address="", tax_id="", contact_email=contact_email,
                    created_at=clock.now())
    session.add(tenant)
    session.flush()
    reminders.ensure_default_rules(session, tenant.id)
    return tenant
