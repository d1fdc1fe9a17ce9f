"""Document totals: lines, tax and total in integer minor units.

Invariant: total == subtotal + tax exactly, for every rate and currency. Tax is rounded half-up
once, on the subtotal (never per line, which drifts by a cent per line):
- exclusive prices: subtotal = sum of lines, tax = round(subtotal * rate), total = subtotal + tax;
- inclusive prices: total = sum of lines, subtotal = round(total / (1 + rate)), tax = total - subtotal.
Tax (and an inclusive subtotal) is rounded to the currency's rounding step (10 for KWD), so a
total charged through Stripe stays on the step. Negative amounts (credit notes) are computed on
the absolute value and negated, so a credit note
for a whole invoice mirrors it to the cent.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

BP = 10_000  # basis points in 100 %


@dataclass(frozen=True)
class Line:
    description: str
    quantity: int
    unit_minor: int

    @property
    def amount_minor(self) -> int:
        return self.quantity * self.unit_minor


@dataclass(frozen=True)
class Totals:
    lines_minor: int
    subtotal_minor: int
    tax_minor: int
    total_minor: int


def round_half_up(value: Decimal, step: int = 1) -> int:
    return int((value / step).to_integral_value(rounding=ROUND_HALF_UP)) * step


def compute(lines_minor: int, rate_bp: int, inclusive: bool, step: int = 1) -> Totals:
    if not 0 <= rate_bp <= BP:
        raise ValueError("tax rate must be between 0 and 100 %")
    if lines_minor < 0:
        positive = compute(-lines_minor, rate_bp, inclusive, step)
        return Totals(lines_minor, -positive.subtotal_minor, -positive.tax_minor, -positive.total_minor)
    if inclusive:
        subtotal = min(round_half_up(Decimal(lines_minor) * BP / (BP + rate_bp), step), lines_minor)
        return Totals(lines_minor, subtotal, lines_minor - subtotal, lines_minor)
    tax = round_half_up(Decimal(lines_minor) * rate_bp / BP, step)
    return Totals(lines_minor, lines_minor, tax, lines_minor + tax)


def totals_for(lines: list[Line], rate_bp: int, inclusive: bool, step: int = 1) -> Totals:
    return compute(sum(line.amount_minor for line in lines), rate_bp, inclusive, step)


def rate_text(rate_bp: int) -> str:
    """2000 -> '20 %', 1250 -> '12.5 %'."""
    text = f"{Decimal(rate_bp) / 100:f}".rstrip("0").rstrip(".") if rate_bp % 100 else str(rate_bp // 100)
    return f"{text} %"
