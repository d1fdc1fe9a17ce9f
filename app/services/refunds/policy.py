"""A tenant's cancellation policy: is the deposit refundable, and which share of the rest comes
back by how many days before the event the couple cancels.

The policy is a plain dict so it can be copied onto each booking when it is made (the terms the
couple accepted) and read back unchanged however the tenant edits it later:
`{"deposit_refundable": bool, "tiers": [{"min_days": int, "percent_bp": int}, ...]}`,
tiers sorted by min_days descending; cancelling fewer days ahead than every tier refunds 0 %.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CancellationPolicy, Tenant
from app.services.shared import audit, clock
from app.services.shared.errors import ValidationFailed
from app.services.shared.money import AmountError, parse_percent_bp

DEFAULT: dict = {"deposit_refundable": False,
                 "tiers": [{"min_days": 90, "percent_bp": 10000}, {"min_days": 30, "percent_bp": 5000}]}
MAX_TIERS = 4


def normalized(policy: dict | None) -> dict:
    """A well-formed copy of `policy` (DEFAULT when None)."""
    policy = policy or DEFAULT
    tiers = sorted(({"min_days": int(t["min_days"]), "percent_bp": int(t["percent_bp"])}
                    for t in policy.get("tiers", [])), key=lambda t: -t["min_days"])
    return {"deposit_refundable": bool(policy.get("deposit_refundable")), "tiers": tiers}


def current(session: Session, tenant_id: int) -> dict:
    """The policy new bookings of this tenant get."""
    row = session.scalar(select(CancellationPolicy).where(CancellationPolicy.tenant_id == tenant_id))
    return normalized({"deposit_refundable": row.deposit_refundable, "tiers": row.tiers}
                      if row else None)


def percent_bp(policy: dict, days_before: int) -> int:
    """The refund share (basis points) for cancelling `days_before` days ahead of the event."""
    for tier in normalized(policy)["tiers"]:
        if days_before >= tier["min_days"]:
            return tier["percent_bp"]
    return 0


def describe(policy: dict) -> list[str]:
    """Human lines, e.g. ["90 or more days before the event: 100 % refunded", ...]."""
    policy = normalized(policy)
    lines = [f"{t['min_days']} or more days before the event: "
             f"{Decimal(t['percent_bp']) / 100:g} % refunded" for t in policy["tiers"]]
    lines.append("Later: no refund" if not policy["tiers"] else "Closer to the event: no refund")
    lines.append("The deposit is refundable." if policy["deposit_refundable"]
                 else "The deposit is not refundable.")
    return lines


def save(session: Session, tenant_id: int, actor_user_id: int, *, deposit_refundable: bool,
         tiers: Iterable[tuple[str, str]]) -> dict:
    """Replace the tenant's policy with tiers given as (days, percent) text pairs; blank pairs
    are ignored. Affects bookings made from now on; commits."""
    parsed: list[dict] = []
    problems: dict[str, str] = {}
    locale = session.get(Tenant, tenant_id).locale
    for index, (days_text, percent_text) in enumerate(tiers):
        if not (days_text or "").strip() and not (percent_text or "").strip():
            continue
        try:
            days = int((days_text or "").strip())
        except ValueError:
            problems[f"tiers-{index}"] = "Enter whole days and a percentage such as 50."
            continue
        try:
            percent_bp = parse_percent_bp(percent_text, locale)  # typed in the tenant's locale
        except AmountError as exc:
            problems[f"tiers-{index}"] = str(exc)
            continue
        if not 0 <= days <= 730:
            problems[f"tiers-{index}"] = "Use 0 to 730 days and 0 to 100 % (two decimals at most)."
            continue
        parsed.append({"min_days": days, "percent_bp": percent_bp})
    if len({t["min_days"] for t in parsed}) != len(parsed):
        problems["tiers"] = "Each tier needs a different number of days."
    if len(parsed) > MAX_TIERS:
        problems["tiers"] = f"Use at most {MAX_TIERS} tiers."
    if problems:
        session.rollback()
        raise ValidationFailed(problems)
    policy = normalized({"deposit_refundable": deposit_refundable, "tiers": parsed})
    row = session.scalar(select(CancellationPolicy).where(CancellationPolicy.tenant_id == tenant_id))
    if row is None:
        row = CancellationPolicy(tenant_id=tenant_id)
        session.add(row)
    row.deposit_refundable = policy["deposit_refundable"]
    row.tiers = policy["tiers"]
    row.updated_at = clock.now()
    audit.record(session, tenant_id, "cancellation_policy.saved", actor="user",
                 actor_user_id=actor_user_id, subject_type="tenant", subject_id=tenant_id, **policy)
    session.commit()
    return policy
