"""A tenant's connected Stripe account: connecting (Standard account + Account Link
onboarding), its status as Stripe last reported it, and disconnection.

Invariants:
- a tenant has at most one current account (`tenants.stripe_account_id`, UNIQUE), created
  with the idempotency key `tenant-<id>-account[-<disconnected at>]`, so a double click on
  "Connect" creates one account; an account id is never moved to another tenant;
- a tenant can take card payments only while Stripe says `charges_enabled` and the account
  has not been disconnected (`Tenant.can_take_charges`); `charge_account` is the one gate
  every new PaymentIntent goes through;
- status changes are applied from the Account object fetched from Stripe (or carried by a
  verified `account.updated` event for that account), never from what a URL says.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.models import Package, Tenant
from app.services.email import outbox as email
from app.services.notifications.recipients import account_addresses
from app.services.payments import settings as payment_settings
from app.services.payments.gateway import ConnectedAccount, PaymentGateway
from app.services.shared import audit, clock
from app.services.shared.errors import Conflict
from app.services.shared.links import Links

# Stripe's requirement keys, in words an owner can act on (others are shown as Stripe names them).
REQUIREMENT_WORDS = {
    "business_profile.url": "your business website",
    "business_profile.mcc": "your business category",
    "external_account": "a bank account for payouts",
    "individual.verification.document": "an identity document for the account holder",
    "individual.dob.day": "the account holder's date of birth",
    "individual.first_name": "the account holder's name",
    "individual.last_name": "the account holder's name",
    "individual.address.line1": "the account holder's address",
    "individual.ssn_last_4": "the last 4 digits of the account holder's SSN",
    "tos_acceptance.date": "acceptance of Stripe's terms of service",
    "tos_acceptance.ip": "acceptance of Stripe's terms of service",
}


class PaymentsNotReady(Conflict):
    """The tenant has no connected account that can take charges: no card payment is made."""

    default_message = ("This business cannot take card payments online yet. Nothing was "
                       "charged; please contact them to pay.")


def charge_account(tenant: Tenant) -> str:
    """The connected account a new card payment for this tenant is made on."""
    if not tenant.can_take_charges:
        raise PaymentsNotReady()
    return tenant.stripe_account_id or ""


def online_bookable(session: Session, tenant: Tenant, packages: list[Package]) -> list[Package]:
    """The packages a couple can book online now: all of them once the tenant can take card
    payments, until then only those whose schedule asks for nothing up front (no deposit)."""
    if tenant.can_take_charges:
        return packages
    rules = payment_settings.rules_for(session, tenant.id, [p.id for p in packages], tenant.currency)
    return [p for p in packages if not _pays_up_front(rules[p.id])]


def _pays_up_front(rule: payment_settings.ScheduleRule) -> bool:
    return rule.mode == "installments" or bool(rule.deposit_bp) or bool(rule.deposit_fixed_minor)


def tenant_for_account(session: Session, account_id: str) -> Tenant | None:
    if not account_id:
        return None
    return session.scalar(select(Tenant).where(Tenant.stripe_account_id == account_id))


def _account_key(tenant: Tenant) -> str:
    key = f"tenant-{tenant.id}-account"
    if tenant.stripe_disconnected_at is not None:
        # Reconnecting after a disconnection makes a new account: a key of its own.
        key += f"-{int(tenant.stripe_disconnected_at.timestamp())}"
    return key


def _owner_email(session: Session, tenant: Tenant) -> str:
    addresses = account_addresses(session, tenant)
    return addresses[0] if addresses else ""


def start_onboarding(session: Session, tenant_id: int, gateway: PaymentGateway, *,
                     refresh_url: str, return_url: str, actor_user_id: int) -> str:
    """Create the tenant's Stripe account if it has none (or was disconnected) and return a
    fresh onboarding link (they are single use and short-lived); commits."""
    tenant = session.get(Tenant, tenant_id)
    account_id = tenant.stripe_account_id if tenant.stripe_disconnected_at is None else None
    if not account_id:
        key, owner = _account_key(tenant), _owner_email(session, tenant)
        currency = tenant.currency
        session.commit()  # no transaction stays open across a call to Stripe
        account = gateway.create_account(email=owner, country="", currency=currency,
                                         metadata={"tenant_id": str(tenant_id)},
                                         idempotency_key=key)
        changed = session.execute(
            update(Tenant).where(Tenant.id == tenant_id,
                                 or_(Tenant.stripe_account_id.is_(None),
                                     Tenant.stripe_account_id == account.id,
                                     Tenant.stripe_disconnected_at.is_not(None)))
            .values(stripe_account_id=account.id, stripe_disconnected_at=None)
            .execution_options(synchronize_session=False)).rowcount
        if changed != 1:
            session.rollback()
            raise Conflict("Your payments account changed meanwhile; reload and try again.")
        tenant = session.get(Tenant, tenant_id, populate_existing=True)
        _apply(tenant, account)
        audit.record(session, tenant_id, "connect.account_created", actor="user",
                     actor_user_id=actor_user_id, stripe_account=account.id)
        session.commit()
        account_id = account.id
    session.commit()
    return gateway.onboarding_link(account_id, refresh_url=refresh_url, return_url=return_url)


def attach_account(session: Session, tenant_id: int, account: ConnectedAccount) -> Tenant:
    """Give a tenant an account that already exists (the embedded run's demo tenants, seeded
    into the simulator; test fixtures); commits."""
    tenant = session.get(Tenant, tenant_id)
    tenant.stripe_account_id = account.id
    tenant.stripe_disconnected_at = None
    _apply(tenant, account)
    session.commit()
    return tenant


def refresh_status(session: Session, tenant_id: int, gateway: PaymentGateway) -> Tenant:
    """Ask Stripe for the account's status (the owner came back from onboarding); commits."""
    tenant = session.get(Tenant, tenant_id)
    account_id = tenant.stripe_account_id
    if not account_id or tenant.stripe_disconnected_at is not None:
        return tenant
    session.commit()
    account = gateway.retrieve_account(account_id)
    return apply_account(session, account) or session.get(Tenant, tenant_id)


def apply_account(session: Session, account: ConnectedAccount) -> Tenant | None:
    """Store what Stripe says about an account on the tenant that owns it; commits.
    None when no tenant owns the account (then nothing changes)."""
    tenant = tenant_for_account(session, account.id)
    if tenant is None:
        session.rollback()
        return None
    was = tenant.stripe_charges_enabled
    _apply(tenant, account)
    if was != tenant.stripe_charges_enabled:
        audit.record(session, tenant.id, "connect.charges_enabled" if tenant.stripe_charges_enabled
                     else "connect.charges_disabled", actor="stripe", stripe_account=account.id,
                     currently_due=list(account.currently_due))
    session.commit()
    return tenant


def _apply(tenant: Tenant, account: ConnectedAccount) -> None:
    tenant.stripe_charges_enabled = account.charges_enabled
    tenant.stripe_payouts_enabled = account.payouts_enabled
    tenant.stripe_details_submitted = account.details_submitted
    tenant.stripe_requirements = list(account.currently_due)
    tenant.stripe_disabled_reason = account.disabled_reason[:100]
    tenant.stripe_status_at = clock.now()


def disconnect(session: Session, account_id: str, links: Links) -> Tenant | None:
    """The vendor disconnected MAIS in Stripe (`account.application.deauthorized`): no more
    payments on that account; the owner is told once. Commits."""
    tenant = tenant_for_account(session, account_id)
    if tenant is None or tenant.stripe_disconnected_at is not None:
        session.rollback()
        return tenant
    now = clock.now()
    changed = session.execute(
        update(Tenant).where(Tenant.id == tenant.id, Tenant.stripe_disconnected_at.is_(None))
        .values(stripe_disconnected_at=now, stripe_charges_enabled=False,
                stripe_payouts_enabled=False)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        session.rollback()
        return tenant
    audit.record(session, tenant.id, "connect.disconnected", actor="stripe",
                 stripe_account=account_id)
    for address in account_addresses(session, tenant):
        email.queue_email(
            session, tenant.id, to=address, kind="stripe_disconnected",
            subject=f"{tenant.name}: your Stripe account was disconnected from MAIS",
            context={"account_id": account_id, "login_url": links.login()},
            dedupe_key=f"stripe-disconnected-{tenant.id}-{account_id}")
    session.commit()
    return session.get(Tenant, tenant.id, populate_existing=True)


@dataclass(frozen=True)
class AccountStatus:
    """What the Payments account page says. `state`: not_connected, disconnected, onboarding,
    requirements_due, active."""

    state: str
    account_id: str
    charges_enabled: bool
    payouts_enabled: bool
    missing: tuple[str, ...]
    next_step: str


def status_of(tenant: Tenant) -> AccountStatus:
    missing = tuple(dict.fromkeys(REQUIREMENT_WORDS.get(r, r.replace("_", " ").replace(".", ": "))
                                  for r in tenant.stripe_requirements or ()))
    account_id = tenant.stripe_account_id or ""
    if not account_id:
        state, step = "not_connected", ("Connect a Stripe account so couples can pay deposits "
                                        "online. Stripe asks for your business and bank details.")
    elif tenant.stripe_disconnected_at is not None:
        state, step = "disconnected", ("Your Stripe account was disconnected from MAIS. Connect "
                                       "again to take card payments.")
    elif not tenant.stripe_details_submitted:
        state, step = "onboarding", "Finish setting up your account with Stripe."
    elif not tenant.stripe_charges_enabled or missing:
        state, step = "requirements_due", ("Stripe needs more information before "
                                           + ("you can take payments." if not
                                              tenant.stripe_charges_enabled
                                              else "it can keep paying you out."))
    else:
        state, step = "active", "You can take card payments; Stripe pays out to your bank."
    return AccountStatus(state, account_id, tenant.can_take_charges,
                         tenant.stripe_payouts_enabled and tenant.stripe_disconnected_at is None,
                         missing, step)
