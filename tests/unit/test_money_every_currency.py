"""Money in every supported currency: stage splits, tax and refund allocations sum exactly,
never go negative and stay on the currency's rounding step; typed amounts read back exactly."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.invoices import tax
from app.services.payments.schedules import FULL, Installment, ScheduleRule, plan
from app.services.refunds.requests import allocate
from app.services.shared import currencies
from app.services.shared.money import (
    AmountError,
    amount_example,
    amount_to_form_text,
    format_money,
    parse_amount,
    share_of,
)

CODES = currencies.supported()
LOCALES = ["en_US", "de_DE", "fr_FR", "de_CH", "ja_JP", "is_IS", "hu_HU", "ar_KW", "id_ID",
           "en_IN", "ar_EG", "fa_IR"]


@st.composite
def amounts(draw, code: str, max_units: int = 10**7):
    """A multiple of the currency's step, up to the currency's maximum."""
    rules = currencies.get(code)
    top = min(max_units * rules.step, rules.max_charge) // rules.step
    return draw(st.integers(0, top)) * rules.step


@st.composite
def rules_for(draw, code: str):
    kind = draw(st.sampled_from(("percent", "fixed", "installments")))
    if kind == "percent":
        return ScheduleRule(mode="deposit", deposit_bp=draw(st.integers(0, FULL)))
    if kind == "fixed":
        return ScheduleRule(mode="deposit", deposit_bp=None, deposit_fixed_minor=draw(amounts(code)))
    count = draw(st.integers(2, 4))
    cuts = sorted(draw(st.lists(st.integers(0, FULL), min_size=count - 1, max_size=count - 1)))
    shares = [b - a for a, b in zip([0, *cuts], [*cuts, FULL], strict=True)]
    return ScheduleRule(mode="installments", deposit_bp=None,
                        installments=tuple(Installment(s) for s in shares))


@st.composite
def currency_and_total(draw):
    code = draw(st.sampled_from(CODES))
    return code, draw(amounts(code))


@settings(max_examples=400, deadline=None)
@given(case=currency_and_total(), data=st.data())
def test_stages_sum_to_the_total_and_stay_on_the_step(case, data) -> None:
    code, total = case
    step = currencies.get(code).step
    stages = plan(data.draw(rules_for(code)), total, step)
    assert sum(s.amount_minor for s in stages) == total
    assert all(s.amount_minor > 0 and s.amount_minor % step == 0 for s in stages)


@settings(max_examples=400, deadline=None)
@given(case=currency_and_total(), rate=st.integers(0, 10_000), inclusive=st.booleans(),
       negative=st.booleans())
def test_tax_totals_add_up_and_stay_on_the_step(case, rate, inclusive, negative) -> None:
    code, lines = case
    step = currencies.get(code).step
    lines = -lines if negative else lines
    totals = tax.compute(lines, rate, inclusive, step)
    assert totals.subtotal_minor + totals.tax_minor == totals.total_minor
    assert all(v % step == 0 for v in (totals.subtotal_minor, totals.tax_minor, totals.total_minor))
    sign = -1 if negative else 1
    assert sign * totals.tax_minor >= 0 and sign * totals.subtotal_minor >= 0
    assert totals.total_minor == (lines if inclusive else lines + totals.tax_minor)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), code=st.sampled_from(CODES))
def test_refund_allocations_and_policy_shares_stay_on_the_step(data, code) -> None:
    step = currencies.get(code).step
    available = data.draw(st.lists(amounts(code), min_size=1, max_size=5))
    amount = data.draw(st.integers(0, sum(available) // step)) * step
    takes = allocate(amount, available)
    assert sum(takes) == amount
    assert all(0 <= t <= left and t % step == 0 for t, left in zip(takes, available, strict=True))
    share = share_of(sum(available), data.draw(st.integers(0, FULL)), FULL, code)
    assert 0 <= share <= sum(available) and share % step == 0


@settings(max_examples=300, deadline=None)
@given(data=st.data(), code=st.sampled_from(CODES), locale=st.sampled_from(LOCALES))
def test_an_amount_shown_in_a_form_reads_back_to_the_same_integer(data, code, locale) -> None:
    amount = data.draw(amounts(code, max_units=10**9))
    assert parse_amount(amount_to_form_text(amount, code, locale), code, locale) == amount


@pytest.mark.parametrize(("code", "minor", "shown"), [
    ("ISK", 150_000, "ISK1,500"), ("HUF", 1_750_000, "HUF17,500"),
    ("KWD", 1_250, "KWD1.250"), ("JPY", 5_000, "¥5,000"), ("IDR", 150_000_000, "IDR1,500,000"),
])
def test_amounts_display_in_the_units_stripe_charges(code, minor, shown) -> None:
    assert format_money(minor, code, "en_US") == shown


@pytest.mark.parametrize(("text", "locale", "code", "minor"), [
    ("12,50", "de_DE", "EUR", 1250), ("1.500,00", "de_DE", "EUR", 150_000),
    ("1,000.00", "en_US", "USD", 100_000), ("1 000,50", "fr_FR", "EUR", 100_050),
    ("1\u202f000,50", "fr_FR", "EUR", 100_050), ("1'000.50", "de_CH", "CHF", 100_050),
    ("1.500", "is_IS", "ISK", 150_000), ("1,250", "en_US", "KWD", 1_250_000),
    ("1.250", "en_US", "KWD", 1_250), ("١٢٣", "ar_EG", "EGP", 12_300), ("5000", "ja_JP", "JPY", 5_000),
])
def test_amounts_are_read_in_the_tenants_locale(text, locale, code, minor) -> None:
    assert parse_amount(text, code, locale) == minor


BAD = ["1,2,3", "1e30", "1E3", "NaN", "nan", "Infinity", "-5", "+5", "12.5.0", "€12", "12 €",
       "0x10", "1_000", ".5", "5.", "١٢٣", "12345678901234567890", "9" * 50, "", "  "]


@pytest.mark.parametrize("text", BAD + ["1 000,50", "1.50", "12,505"])
def test_malformed_or_ambiguous_amounts_are_refused_in_de_DE(text) -> None:
    with pytest.raises(AmountError) as exc:
        parse_amount(text, "EUR", "de_DE")
    assert str(exc.value)


@pytest.mark.parametrize("text", BAD + ["12,50", "1 000.50", "1.505"])
def test_malformed_or_ambiguous_amounts_are_refused_in_en_US(text) -> None:
    with pytest.raises(AmountError):
        parse_amount(text, "USD", "en_US")


def test_the_refusal_shows_the_format_of_the_locale() -> None:
    with pytest.raises(AmountError, match="1.234,50"):
        parse_amount("1,2,3", "EUR", "de_DE")
    assert amount_example("EUR", "fr_FR") == "1\u202f234,50"
    assert amount_example("JPY", "ja_JP") == "1,234"
    assert amount_example("KWD", "en_US") == "1,234.500"


@pytest.mark.parametrize(("text", "code", "message"), [
    ("1.255", "KWD", "end in 0"), ("1,5", "ISK", "whole numbers"), ("1.234", "USD", "2 decimals"),
    ("1000000", "USD", "largest amount"), ("1000000000000", "IDR", "largest amount"),
])
def test_amounts_off_the_currency_rules_say_why(text, code, message) -> None:
    locale = "is_IS" if code == "ISK" else "en_US"
    with pytest.raises(AmountError, match=message):
        parse_amount(text, code, locale)


@pytest.mark.parametrize("code", ["XXX", "XTS", "XAU", "EEK", "usdd", ""])
def test_currencies_stripe_cannot_charge_are_not_accepted(code) -> None:
    assert currencies.currency_problem(code)


def test_the_table_keeps_stripes_special_cases() -> None:
    assert (currencies.get("ISK").api_exponent, currencies.get("ISK").step) == (2, 100)
    assert (currencies.get("HUF").api_exponent, currencies.get("HUF").display_exponent) == (2, 0)
    assert currencies.get("KWD").step == 10 and currencies.get("BHD").api_exponent == 3
    assert currencies.get("JPY").api_exponent == 0 and currencies.get("UGX").api_exponent == 0
    assert currencies.get("IDR").max_charge > currencies.get("USD").max_charge
    assert all(c.display_exponent <= c.api_exponent for c in currencies.table().values())
