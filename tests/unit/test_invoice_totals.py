"""Document totals: tax rounded half-up once on the subtotal, total == lines + tax exactly."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.invoices import tax
from app.services.shared.money import format_money

CURRENCIES = ["USD", "EUR", "JPY", "GBP", "KWD", "CHF"]


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


lines_strategy = st.lists(
    st.tuples(st.integers(min_value=1, max_value=50), st.integers(min_value=0, max_value=5_000_000)),
    min_size=1, max_size=8)


@settings(max_examples=400, deadline=None)
@given(lines=lines_strategy, rate_bp=st.integers(min_value=0, max_value=10_000),
       inclusive=st.booleans(), currency=st.sampled_from(CURRENCIES))
def test_total_is_lines_plus_tax_exactly(lines, rate_bp, inclusive, currency):
    items = [tax.Line(f"line {i}", qty, unit) for i, (qty, unit) in enumerate(lines)]
    totals = tax.totals_for(items, rate_bp, inclusive)
    lines_sum = sum(q * u for q, u in lines)
    assert totals.lines_minor == lines_sum
    assert totals.total_minor == totals.subtotal_minor + totals.tax_minor
    if inclusive:
        # Lines are gross: the total is what the lines say; the tax is carved out of it.
        assert totals.total_minor == lines_sum
        assert totals.subtotal_minor == _half_up(Decimal(lines_sum) * 10_000 / (10_000 + rate_bp))
    else:
        assert totals.total_minor == lines_sum + totals.tax_minor
        assert totals.tax_minor == _half_up(Decimal(lines_sum) * rate_bp / 10_000)
    assert 0 <= totals.tax_minor <= max(lines_sum, 0)
    # Amounts are whole minor units in every currency (JPY has none below the yen).
    text = format_money(totals.total_minor, currency)
    digits = "".join(ch for ch in text if ch.isdigit())
    assert int(digits) == totals.total_minor


@given(amount=st.integers(min_value=1, max_value=10**9), rate_bp=st.integers(0, 10_000))
def test_a_credit_note_mirrors_the_same_amount_to_the_cent(amount, rate_bp):
    positive = tax.compute(amount, rate_bp, True)
    negative = tax.compute(-amount, rate_bp, True)
    assert (negative.subtotal_minor, negative.tax_minor, negative.total_minor) == (
        -positive.subtotal_minor, -positive.tax_minor, -positive.total_minor)


def test_half_a_cent_of_tax_rounds_up_on_the_subtotal_not_per_line():
    # Three lines of 0.05 at 10 %: per line 0.005 -> 0.01 each (0.03); on the subtotal 0.015 -> 0.02.
    totals = tax.totals_for([tax.Line("a", 1, 5)] * 3, 1000, inclusive=False)
    assert (totals.subtotal_minor, totals.tax_minor, totals.total_minor) == (15, 2, 17)


def test_jpy_tax_is_whole_yen():
    totals = tax.compute(12_345, 1000, inclusive=False)
    assert (totals.tax_minor, totals.total_minor) == (1235, 13_580)
    assert format_money(totals.total_minor, "JPY") == "¥13,580"


def test_rate_text():
    assert tax.rate_text(2000) == "20 %" and tax.rate_text(1250) == "12.5 %" and tax.rate_text(0) == "0 %"
