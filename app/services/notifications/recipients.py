"""Who a vendor's notices go to, and where a couple's replies go."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Tenant, User


def contact_address(session: Session, tenant: Tenant) -> str:
    """The vendor's public address: the contact email from the settings, else the first owner's."""
    if tenant.contact_email:
        return tenant.contact_email
    return session.scalar(select(User.email).where(User.tenant_id == tenant.id, User.role == "owner")
                          .order_by(User.id).limit(1)) or ""


def listening(session: Session, tenant_id: int) -> list[User]:
    """The tenant's users who hear about events (each or digest), owners first."""
    return list(session.scalars(select(User).where(User.tenant_id == tenant_id,
                                                   User.notify.in_(("each", "digest")))
                                .order_by(User.role, User.id)))


def account_addresses(session: Session, tenant: Tenant) -> list[str]:
    """Where news about the business's own account goes (Stripe disconnected, its account's
    email): the contact address, else every owner, whatever their notice preference."""
    if tenant.contact_email:
        return [tenant.contact_email]
    return list(session.scalars(select(User.email).where(User.tenant_id == tenant.id,
                                                         User.role == "owner").order_by(User.id)))
