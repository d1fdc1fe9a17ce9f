"""The platform fee MAIS takes on each card payment, as Stripe's `application_fee_amount`.

Rule (docs/decisions.md, "Stripe Connect"): fee = round-half-up(amount * percent) + the fixed
part for the currency, never more than the amount. A refund gives the fee back in proportion to
the amount refunded (`refund_application_fee=true`): MAIS is paid on the money the vendor keeps.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Payment
from app.services.shared import currencies, money

REFUND_APPLICATION_FEE = True


@dataclass(frozen=True)
class FeePolicy:
    """`percent_bp` in basis points (1.5 % = 150); `fixed_minor` per ISO 4217 currency."""

    percent_bp: int = 0
    fixed_minor: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping) -> FeePolicy:
        return cls(int(config.get("PLATFORM_FEE_BP") or 0),
                   dict(config.get("PLATFORM_FEE_FIXED") or {}))

    def fee_for(self, amount_minor: int, currency: str) -> int:
        """Round half up to the currency's rounding step (KWD fees end in 0, like every
        amount Stripe takes in three-decimal currencies)."""
        share = money.share_of(amount_minor, self.percent_bp, 10_000, currency)
        step = currencies.get(currency).step
        fixed = int(self.fixed_minor.get(currency.upper(), 0)) // step * step
        return max(0, min(amount_minor, share + fixed))

    def describe(self) -> str:
        parts = [f"{self.percent_bp / 100:g} %"] if self.percent_bp else []
        parts += [f"{amount} {currency} minor units" for currency, amount
                  in sorted(self.fixed_minor.items()) if amount]
        return " + ".join(parts) or "no fee"


def parse_fixed(text: str) -> dict[str, int]:
    """`"USD:30,EUR:25,JPY:30"` -> {"USD": 30, ...}; raises ValueError on anything else."""
    fixed: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        currency, _, amount = item.partition(":")
        if len(currency.strip()) != 3 or not amount.strip().isdigit():
            raise ValueError(f"expected CURRENCY:MINOR_UNITS, got {item!r}")
        fixed[currency.strip().upper()] = int(amount)
    return fixed


def fee_refund_share(payment: Payment, refunded_minor: int) -> int:
    """The part of the payment's fee that came back with `refunded_minor` (Stripe's
    proportional refund of the application fee, rounded half up)."""
    if not payment.application_fee_minor or payment.amount_minor <= 0:
        return 0
    share = (payment.application_fee_minor * refunded_minor * 2 + payment.amount_minor) \
        // (2 * payment.amount_minor)
    return min(share, payment.application_fee_minor)


@dataclass(frozen=True)
class StatementLine:
    currency: str
    payments: int
    charged_minor: int
    fees_minor: int
    fees_refunded_minor: int

    @property
    def net_fees_minor(self) -> int:
        return self.fees_minor - self.fees_refunded_minor


def monthly_statement(session: Session, tenant_id: int, start: datetime, end: datetime
                      ) -> list[StatementLine]:
    """Card payments received in [start, end) and the platform fees on them, per currency.
    Fee refunds follow the rule above, from what has been refunded so far."""
    rows = session.scalars(select(Payment).where(
        Payment.tenant_id == tenant_id, Payment.method == "card",
        Payment.received_at >= start, Payment.received_at < end))
    totals: dict[str, list[int]] = {}
    for payment in rows:
        line = totals.setdefault(payment.currency, [0, 0, 0, 0])
        line[0] += 1
        line[1] += payment.amount_minor
        line[2] += payment.application_fee_minor
        line[3] += fee_refund_share(payment, payment.refunded_minor)
    return [StatementLine(c, *v) for c, v in sorted(totals.items())]
