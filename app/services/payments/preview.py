"""What a couple would be asked to pay under a schedule the owner is editing: the stages of an
example booking (the package's price, or the tenant's first active package, booked today for an
event in six months), with their due dates. Nothing is stored."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from app.services.accounts import tenants
from app.services.bookings import availability, catalog
from app.services.payments import schedules
from app.services.payments.settings import RuleForm, parse_rule
from app.services.shared import currencies
from app.services.shared.errors import ValidationFailed

EXAMPLE_TOTAL = {0: 2_500, 2: 250_000, 3: 2_500_000}  # by currency exponent: 2,500 in major units
EVENT_AFTER = timedelta(days=180)


@dataclass(frozen=True)
class PreviewStage:
    label: str
    amount_minor: int
    due: date


@dataclass(frozen=True)
class SchedulePreview:
    total_minor: int
    currency: str
    example: str  # what the example booking is
    booked_on: date
    event_on: date
    stages: list[PreviewStage]
    problems: dict[str, str]


def preview(session: Session, tenant_id: int, package_id: int | None, form: RuleForm) -> SchedulePreview:
    tenant = tenants.get_tenant(session, tenant_id)
    if package_id is not None:
        package = catalog.get_package(session, tenant_id, package_id)
    else:
        package = next(iter(catalog.packages(session, tenant_id, active_only=True)), None)
    if package is not None and package.currency == tenant.currency:
        total, example = package.price_minor, f"the {package.title} package"
    else:
        total, example = EXAMPLE_TOTAL.get(currencies.get(tenant.currency).api_exponent, 250_000), "a booking"
    today = availability.local_today(session, tenant_id)
    event_on = today + EVENT_AFTER
    try:
        rule = parse_rule(form, tenant.currency)
    except ValidationFailed as exc:
        return SchedulePreview(total, tenant.currency, example, today, event_on, [], exc.fields)
    stages = [PreviewStage(s.label, s.amount_minor,
                           schedules.due_date(s.due_anchor, s.due_offset_days, today, event_on))
              for s in schedules.plan(rule, total)]
    return SchedulePreview(total, tenant.currency, example, today, event_on, stages, {})
