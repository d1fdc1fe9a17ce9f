"""A tenant's payment schedule settings, with per-package overrides.

Invariants: a tenant has at most one default row (package_id NULL) and one row per package
(partial unique indexes); a package row wins over the default; a tenant without rows uses
DEFAULT_RULE; every stored rule passes `schedules.rule_problems`.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import PaymentSettings
from app.services.accounts import tenants
from app.services.bookings import catalog
from app.services.payments.schedules import ANCHORS, FULL, MAX_INSTALLMENTS, Installment, ScheduleRule, rule_problems
from app.services.shared import audit, clock
from app.services.shared.errors import ValidationFailed
from app.services.shared.money import (
    AmountError,
    amount_to_form_text,
    format_percent_bp,
    parse_amount,
    parse_percent_bp,
)

DEFAULT_RULE = ScheduleRule(mode="deposit", deposit_bp=3_000, balance_due_days=30)


def _rule(row: PaymentSettings) -> ScheduleRule:
    return ScheduleRule(
        mode=row.mode, deposit_bp=row.deposit_bp, deposit_fixed_minor=row.deposit_fixed_minor,
        balance_due_days=row.balance_due_days,
        installments=tuple(Installment(int(i["share_bp"]), str(i["anchor"]), int(i["offset_days"]))
                           for i in (row.installments or [])),
    )


def _row(session: Session, tenant_id: int, package_id: int | None) -> PaymentSettings | None:
    query = select(PaymentSettings).where(PaymentSettings.tenant_id == tenant_id)
    query = query.where(PaymentSettings.package_id.is_(None) if package_id is None
                        else PaymentSettings.package_id == package_id)
    return session.scalar(query)


def rule_for(session: Session, tenant_id: int, package_id: int | None,
             currency: str | None = None) -> ScheduleRule:
    """The rule a booking of this package uses: its override, else the tenant's, else default.

    A fixed deposit is an amount in the currency it was set in: for a booking in another
    currency (the tenant switched currency since) that rule is skipped, never reinterpreted."""
    rows = [_row(session, tenant_id, package_id) if package_id is not None else None,
            _row(session, tenant_id, None)]
    return _first_usable(rows, currency)


def rules_for(session: Session, tenant_id: int, package_ids: list[int],
              currency: str | None = None) -> dict[int, ScheduleRule]:
    """`rule_for` of several packages from one query (a page listing the packages)."""
    rows = {row.package_id: row for row in session.scalars(
        select(PaymentSettings).where(PaymentSettings.tenant_id == tenant_id))}
    return {package_id: _first_usable([rows.get(package_id), rows.get(None)], currency)
            for package_id in package_ids}


def _first_usable(rows: list[PaymentSettings | None], currency: str | None) -> ScheduleRule:
    for row in rows:
        if row is None:
            continue
        if currency is not None and row.deposit_fixed_minor is not None and row.currency != currency:
            continue
        return _rule(row)
    return DEFAULT_RULE


def fixed_deposit_currency(session: Session, tenant_id: int, package_id: int | None) -> str | None:
    """The currency of the fixed deposit stored at exactly this level (None: not a fixed one)."""
    row = _row(session, tenant_id, package_id)
    return row.currency if row is not None and row.deposit_fixed_minor is not None else None


def stored_rule(session: Session, tenant_id: int, package_id: int | None) -> ScheduleRule | None:
    """The rule stored at exactly this level (None: inherits)."""
    if package_id is not None:
        catalog.get_package(session, tenant_id, package_id)  # NotFound for another tenant's
    row = _row(session, tenant_id, package_id)
    return _rule(row) if row else None


@dataclass
class RuleForm:
    """The settings form as text, parsed here so percentages and amounts follow one set of rules."""

    mode: str = "deposit"
    deposit_kind: str = "percent"  # percent | fixed
    deposit_percent: str = "30"
    deposit_amount: str = ""
    balance_due_days: str = "30"
    # (percent text, anchor, offset days text) per installment row; blank rows are ignored
    installments: tuple[tuple[str, str, str], ...] = ()


def _int(text: str, field: str, problems: dict[str, str]) -> int:
    try:
        return int((text or "").strip())
    except ValueError:
        problems[field] = "Enter a whole number of days."
        return 0


def parse_rule(form: RuleForm, currency: str, locale: str | None = None) -> ScheduleRule:
    """Form text (typed in `locale`) to a rule, or ValidationFailed naming each bad field."""
    problems: dict[str, str] = {}
    if form.mode == "installments":
        rows = [r for r in form.installments if any((x or "").strip() for x in (r[0], r[2]))]
        installments = []
        for n, (pct, anchor, days) in enumerate(rows, start=1):
            try:
                share = parse_percent_bp(pct, locale)
            except AmountError as exc:
                problems["installments"] = f"Installment {n}: {exc}"
                continue
            offset = _int(days or "0", "installments", problems)
            installments.append(Installment(share, anchor if anchor in ANCHORS else "event", offset))
        rule = ScheduleRule(mode="installments", deposit_bp=None, balance_due_days=0,
                            installments=tuple(installments))
    else:
        bp = fixed = None
        if form.deposit_kind == "fixed":
            try:
                fixed = parse_amount(form.deposit_amount, currency, locale)
            except AmountError as exc:
                problems["deposit"] = str(exc)
                fixed = 0
        else:
            try:
                bp = parse_percent_bp(form.deposit_percent, locale)
            except AmountError as exc:
                problems["deposit"] = str(exc)
                bp = 0
        days = _int(form.balance_due_days, "balance_due_days", problems)
        rule = ScheduleRule(mode="deposit", deposit_bp=bp, deposit_fixed_minor=fixed,
                            balance_due_days=days)
    if not problems:
        problems.update(rule_problems(rule))
    if problems:
        raise ValidationFailed(problems)
    return rule


def rule_as_form(rule: ScheduleRule, currency: str, locale: str | None = None) -> RuleForm:
    """A rule as the form shows it, in the tenant's locale (what `parse_rule` reads back)."""

    def pct(bp: int) -> str:
        return format_percent_bp(bp, locale)

    rows = tuple((pct(i.share_bp), i.anchor, str(i.offset_days)) for i in rule.installments)
    rows += (("", "event", ""),) * (MAX_INSTALLMENTS - len(rows))
    amount = ("" if rule.deposit_fixed_minor is None
              else amount_to_form_text(rule.deposit_fixed_minor, currency, locale))
    return RuleForm(mode=rule.mode, deposit_kind="fixed" if rule.deposit_fixed_minor is not None
                    else "percent", deposit_percent=pct(rule.deposit_bp or 0) if rule.deposit_bp
                    is not None else "30", deposit_amount=amount,
                    balance_due_days=str(rule.balance_due_days), installments=rows)


def save_rule(session: Session, tenant_id: int, package_id: int | None, form: RuleForm, *,
              actor_user_id: int) -> ScheduleRule:
    """Store the tenant default (package_id None) or a package override; commits."""
    tenant = tenants.get_tenant(session, tenant_id)
    if package_id is not None:
        catalog.get_package(session, tenant_id, package_id)
    rule = parse_rule(form, tenant.currency, tenant.locale)
    row = _row(session, tenant_id, package_id)
    if row is None:
        row = PaymentSettings(tenant_id=tenant_id, package_id=package_id)
        session.add(row)
    row.mode = rule.mode
    row.deposit_bp = rule.deposit_bp
    row.deposit_fixed_minor = rule.deposit_fixed_minor
    row.currency = tenant.currency
    row.balance_due_days = rule.balance_due_days
    row.installments = [{"share_bp": i.share_bp, "anchor": i.anchor, "offset_days": i.offset_days}
                        for i in rule.installments]
    row.updated_at = clock.now()
    audit.record(session, tenant_id, "payment_settings.saved", actor="user",
                 actor_user_id=actor_user_id, subject_type="package" if package_id else "tenant",
                 subject_id=package_id or tenant_id, mode=rule.mode)
    session.commit()
    return rule


def clear_override(session: Session, tenant_id: int, package_id: int, *, actor_user_id: int) -> None:
    catalog.get_package(session, tenant_id, package_id)
    row = _row(session, tenant_id, package_id)
    if row is not None:
        session.delete(row)
        audit.record(session, tenant_id, "payment_settings.override_removed", actor="user",
                     actor_user_id=actor_user_id, subject_type="package", subject_id=package_id)
    session.commit()


__all__ = ["DEFAULT_RULE", "FULL", "RuleForm", "clear_override", "fixed_deposit_currency", "parse_rule",
           "rule_as_form", "rule_for", "save_rule", "stored_rule"]
