"""What an operator must review after the currency rules changed (`flask money-check`).

Nothing is rewritten automatically: a tenant whose currency Stripe cannot charge has to choose
another one, and amounts stored before the table existed cannot be told apart from new ones
with certainty (before it, ISK, HUF, IDR, COP and the other currencies Babel shows without
decimals were stored in whole units; they are now in Stripe's API units, 100 times larger).
Payments already recorded are what Stripe actually took, so they are never rescaled.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AddOn, Package, PaymentStage, Tenant
from app.services.shared import currencies


@dataclass(frozen=True)
class Finding:
    tenant_id: int
    slug: str
    problem: str


def _whole_unit_currencies() -> set[str]:
    return {c.code for c in currencies.table().values() if c.display_exponent < c.api_exponent}


def review(session: Session) -> list[Finding]:
    """Tenants whose currency is refused, tenants in a currency whose stored unit changed, and
    prices or unpaid stages that are off their currency's rounding step (Stripe refuses them)."""
    findings: list[Finding] = []
    changed_unit = _whole_unit_currencies()
    for tenant in session.scalars(select(Tenant).order_by(Tenant.id)):
        if currencies.currency_problem(tenant.currency):
            findings.append(Finding(tenant.id, tenant.slug, f"currency {tenant.currency} cannot be "
                                    "charged by Stripe: the owner must choose another in Settings"))
        elif tenant.currency.upper() in changed_unit:
            findings.append(Finding(tenant.id, tenant.slug, f"{tenant.currency} amounts are now in "
                                    "Stripe's units (x100): check prices and unpaid stages"))
    rows = [(Package, "package", Package.price_minor), (AddOn, "add-on", AddOn.price_minor)]
    for model, label, column in rows:
        for item, slug in session.execute(
                select(model, Tenant.slug).join(Tenant, Tenant.id == model.tenant_id)
                .where(model.active.is_(True)).order_by(model.id)):
            if getattr(item, column.key) % currencies.get(item.currency).step:
                findings.append(Finding(item.tenant_id, slug, f"{label} #{item.id} price is off the "
                                        f"{item.currency} rounding step"))
    for stage, slug in session.execute(
            select(PaymentStage, Tenant.slug).join(Tenant, Tenant.id == PaymentStage.tenant_id)
            .where(PaymentStage.status == "due").order_by(PaymentStage.id)):
        if stage.amount_minor % currencies.get(stage.currency).step:
            findings.append(Finding(stage.tenant_id, slug, f"stage #{stage.id} of booking "
                                    f"#{stage.booking_id} is off the {stage.currency} rounding step"))
    return findings
