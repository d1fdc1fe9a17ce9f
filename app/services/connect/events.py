"""Connect webhook events: which tenant an event's `account` belongs to, the events about the
account itself (`account.updated`, `account.application.deauthorized`) and disputes.

Invariants:
- an event from a connected account acts only on that account's tenant: an account no tenant
  owns, or one its tenant disconnected, changes nothing (the event is stored and `ignored`);
- `account.updated` is applied from the Account fetched from Stripe, so an old event arriving
  late cannot roll the status back;
- deauthorization disconnects the tenant once and tells the owner once.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.models import StripeEvent
from app.services.connect import accounts, disputes
from app.services.payments.gateway import PaymentGateway
from app.services.shared.links import Links

log = logging.getLogger(__name__)
ACCOUNT_EVENTS = frozenset({"account.updated", "account.application.deauthorized"})
EVENT_TYPES = ACCOUNT_EVENTS | disputes.EVENT_TYPES


@dataclass(frozen=True)
class Outcome:
    outcome: str  # processed, unknown (no tenant owns the account), tenant_mismatch


def tenant_id_of(session: Session, account: str) -> int | None:
    tenant = accounts.tenant_for_account(session, account)
    return tenant.id if tenant is not None else None


def reason_to_ignore(session: Session, row: StripeEvent) -> str:
    """Why an event from a connected account must change nothing ("" when it may act)."""
    if not row.account:
        return ""
    tenant = accounts.tenant_for_account(session, row.account)
    if tenant is None:
        return f"no tenant owns account {row.account}"
    if row.tenant_id is not None and row.tenant_id != tenant.id:
        return f"account {row.account} belongs to another tenant than the event names"
    if tenant.stripe_disconnected_at is not None \
            and row.type != "account.application.deauthorized":
        return f"account {row.account} was disconnected"
    return ""


def handle_event(session: Session, row: StripeEvent, gateway: PaymentGateway, links: Links
                 ) -> Outcome:
    account, type_ = row.account, row.type
    if not account:
        log.warning("connect event %s (%s) without an account: ignored", row.stripe_id, type_)
        return Outcome("tenant_mismatch")
    if type_ == "account.updated":
        if row.object_id != account:
            return Outcome("tenant_mismatch")
        session.commit()
        applied = accounts.apply_account(session, gateway.retrieve_account(account))
        return Outcome("processed" if applied is not None else "unknown")
    if type_ == "account.application.deauthorized":
        tenant = accounts.disconnect(session, account, links)
        return Outcome("processed" if tenant is not None else "unknown")
    obj = (row.payload.get("data") or {}).get("object") or {}
    charge = obj.get("charge") if isinstance(obj, dict) else ""
    charge = charge if isinstance(charge, str) else str((charge or {}).get("id", ""))
    return Outcome(disputes.handle_event(session, type_, row.object_id, charge, account, gateway,
                                         links))
