"""The vendor's balance and recent payouts, read from its Stripe account and cached briefly.

Stripe is the only source: nothing is stored. The cache (per process, per account) keeps a
dashboard that is reloaded often from calling Stripe on every view; a minute is short enough
for "when does my money arrive".
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.models import Tenant
from app.services.payments.gateway import Balance, GatewayError, PaymentGateway, Payout

CACHE_SECONDS = 60.0
_cache: dict[str, tuple[float, MoneyMovement]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class MoneyMovement:
    balance: Balance | None
    payouts: tuple[Payout, ...]
    error: str = ""


def money_movement(session: Session, tenant_id: int, gateway: PaymentGateway, *,
                   clock: Callable[[], float] = time.monotonic) -> MoneyMovement | None:
    """The tenant's balance and last payouts (None without a connected account)."""
    tenant = session.get(Tenant, tenant_id)
    account = tenant.stripe_account_id if tenant.stripe_disconnected_at is None else None
    session.commit()
    if not account:
        return None
    now = clock()
    with _lock:
        cached = _cache.get(account)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
    try:
        movement = MoneyMovement(gateway.balance(account=account),
                                 tuple(gateway.list_payouts(account=account, limit=10)))
    except GatewayError as exc:
        return MoneyMovement(None, (), exc.message)  # not cached: the next view tries again
    with _lock:
        _cache[account] = (now, movement)
    return movement


def forget(account: str) -> None:
    """Drop the cached figures (a payout event arrived, or a test wants fresh ones)."""
    with _lock:
        _cache.pop(account, None)
