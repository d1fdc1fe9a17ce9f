"""Money in integer minor units (Stripe's API units, see `currencies`): the one way to show an
amount (`format_money`, also the Jinja filter `money`), the one way to turn an amount back into
form text (`amount_to_form_text`), the one parser of typed amounts (`parse_amount`) and the
rounding every computed amount goes through (`share_of`).

Parsing is strict and in the tenant's locale: "12,50" is 12.50 in de_DE and refused in en_US;
anything Babel's strict parser would have to guess at is refused with the expected format.
No float ever touches an amount.
"""
from __future__ import annotations

import copy
import unicodedata
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
    parse_pattern,
)
from jinja2 import pass_context

from app.services.shared import currencies

DEFAULT_LOCALE = "en_US"
INPUT_MAX = 40
SPACES = " \u00a0\u202f"
# Zero digits of the numbering systems a locale may use by default besides Latin ones.
NATIVE_ZEROS = {"arab": "\u0660", "arabext": "\u06f0", "beng": "\u09e6", "deva": "\u0966",
                "mymr": "\u1040", "tibt": "\u0f20"}


class AmountError(ValueError):
    """A typed amount that cannot be read as it stands; the message says what to type."""


def to_major(amount_minor: int, currency: str) -> Decimal:
    """12345 EUR -> Decimal('123.45'); exact."""
    return Decimal(int(amount_minor)).scaleb(-currencies.get(currency).api_exponent)


def format_money(amount_minor: int, currency: str, locale: str | None = None) -> str:
    """An amount as people read it, in `locale` (Babel shows the currency's usual decimals, and
    more only for an old amount finer than them: a figure is never rounded for display)."""
    return _formatted(int(amount_minor), currency.upper(), locale)


@lru_cache(maxsize=16384)
def _formatted(amount_minor: int, currency: str, locale: str | None) -> str:
    """Babel takes ~70 us an amount and a list page shows ~50; the same few amounts recur
    (package prices, deposits), and the result depends on nothing else."""
    return format_currency(to_major(amount_minor, currency), currency,
                           locale=_locale(locale), decimal_quantization=False)


def amount_to_form_text(amount_minor: int, currency: str, locale: str | None = None) -> str:
    """An amount as it would be typed in a form in `locale` ("1.234,50" in de_DE), so that
    `parse_amount` reads it back to the same integer."""
    rules = currencies.get(currency)
    places = rules.display_exponent
    value = to_major(amount_minor, currency)
    if value != value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN):
        places = rules.api_exponent  # an old amount finer than the display: keep every digit
    loc = _locale(locale)
    # A copy: Babel shares the locale's pattern object, and changing it would change every
    # later format and strict parse in this locale.
    pattern = copy.copy(parse_pattern(loc.decimal_formats.get(None)))
    pattern.frac_prec = (places, places)
    return pattern.apply(value, loc)


def amount_example(currency: str, locale: str | None = None) -> str:
    """A sample amount in the tenant's format, for form hints ("1.234,50")."""
    rules = currencies.get(currency)
    sample = Decimal("1234.50").quantize(Decimal(1).scaleb(-rules.display_exponent),
                                         rounding=ROUND_DOWN)
    return amount_to_form_text(int(sample.scaleb(rules.api_exponent)), currency, locale)


@lru_cache(maxsize=128)
def _locale(locale: str | None) -> Locale:
    """Parsing a locale name costs half of a format_currency call; a page formats dozens."""
    try:
        return Locale.parse(locale or DEFAULT_LOCALE)
    except (ValueError, TypeError, UnknownLocaleError):
        return Locale.parse(DEFAULT_LOCALE)


def _latin_digits(text: str, loc: Locale) -> str:
    """Native digits of the locale's own numbering system become 0-9; any other non-Latin digit
    is refused (it is not how amounts are written in this locale)."""
    zero = NATIVE_ZEROS.get(getattr(loc, "default_numbering_system", "latn"))
    native = {chr(ord(zero) + n): str(n) for n in range(10)} if zero else {}
    out = []
    for ch in text:
        if ch in native:
            out.append(native[ch])
        elif unicodedata.category(ch) == "Nd" and not "0" <= ch <= "9":
            raise AmountError("")
        else:
            out.append(ch)
    return "".join(out)


def read_number(text: str, locale: str | None, expected: str) -> Decimal:
    """Typed text in `locale` to a non-negative Decimal, or AmountError(`expected`).

    Accepted: digits (0-9, or the locale's own digits), the locale's grouping (correctly
    placed) and decimal symbols; spaces count as grouping only where the locale groups with
    spaces. Refused: signs, exponents, NaN and Infinity, currency symbols, digits of another
    script, and whatever Babel's strict parser would have to guess at ("1,2,3")."""
    loc = _locale(locale)
    raw = (text or "").strip()
    if not raw or len(raw) > INPUT_MAX:
        raise AmountError(expected)
    try:
        raw = _latin_digits(raw, loc)
    except AmountError:
        raise AmountError(expected) from None
    group, decimal = get_group_symbol(loc), get_decimal_symbol(loc)
    if getattr(loc, "default_numbering_system", "latn") != "latn":
        raw = (raw.replace(get_group_symbol(loc, numbering_system="default"), group)
               .replace(get_decimal_symbol(loc, numbering_system="default"), decimal))
    if group in SPACES:
        raw = "".join(group if ch in SPACES else ch for ch in raw)
    if any(not ("0" <= ch <= "9" or ch in (group, decimal)) for ch in raw):
        raise AmountError(expected)
    if not ("0" <= raw[0] <= "9" and "0" <= raw[-1] <= "9") or raw.count(decimal) > 1:
        raise AmountError(expected)
    try:
        return parse_decimal(raw, loc, strict=True)
    except NumberFormatError:
        raise AmountError(expected) from None


def parse_amount(text: str, currency: str, locale: str | None = None) -> int:
    """Typed text in `locale` to minor units, or AmountError saying what to type instead:
    `read_number`'s rules, plus no more decimals than the currency shows, the currency's
    rounding step, and no more than Stripe can charge."""
    rules = currencies.get(currency)
    locale = str(_locale(locale))
    example = amount_example(currency, locale)
    if not (text or "").strip():
        raise AmountError(f"Enter an amount, as in {example}.")
    value = read_number(text, locale, f"Enter the amount as in {example} (no currency sign).")
    places = rules.display_exponent
    if value != value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN):
        if places == 0:
            raise AmountError(f"{rules.code} amounts are whole numbers, as in {example}.")
        raise AmountError(f"{rules.code} amounts have at most {places} decimals, as in {example}.")
    amount = int(value.scaleb(rules.api_exponent))
    if amount % rules.step:
        shown = amount_to_form_text(amount - amount % rules.step, currency, locale)
        raise AmountError(f"{rules.code} amounts end in 0 (e.g. {shown}).")
    if amount > rules.max_charge:
        raise AmountError(f"The largest amount Stripe can charge in {rules.code} is "
                          f"{format_money(rules.max_charge, currency, locale)}.")
    return amount


def parse_percent_bp(text: str, locale: str | None = None) -> int:
    """"12,5" (de_DE) or "12.5 %" to basis points (1250); at most two decimals, 0 to 100."""
    expected = f"Enter a percentage such as 30 or {format_percent_bp(1250, locale)}."
    value = read_number((text or "").strip().rstrip("%").strip(), locale, expected)
    if value > 100:
        raise AmountError("Enter a percentage between 0 and 100.")
    bp = value * 100
    if bp != bp.to_integral_value():
        raise AmountError("Use at most two decimals.")
    return int(bp)


def format_percent_bp(bp: int, locale: str | None = None) -> str:
    """1250 -> "12.5" (en_US) or "12,5" (de_DE): percentages as typed in forms."""
    return format_decimal(Decimal(bp).scaleb(-2), locale=_locale(locale))


def share_of(total_minor: int, numerator: int, denominator: int, currency: str) -> int:
    """round-half-up(total * numerator / denominator) to the currency's rounding step, in
    integers (a 30 % deposit of 1.005 KWD is 0.300, never 0.302)."""
    if total_minor < 0 or numerator < 0 or denominator <= 0:
        raise ValueError("amounts and shares are never negative")
    step = currencies.get(currency).step
    return (2 * total_minor * numerator + denominator * step) // (2 * denominator * step) * step


@pass_context
def money_filter(context, amount_minor: int | None, currency: str | None = None,
                 locale: str | None = None) -> str:
    """`{{ amount|money(currency) }}`: the Jinja filter of pages, emails and PDFs. The locale
    (and the currency, when not given) come from the template's `money_locale`/`money_currency`,
    else from its `tenant`; a template that knows better may pass the locale."""
    if amount_minor is None:
        return ""
    tenant = context.get("tenant")
    locale = locale or context.get("money_locale") or getattr(tenant, "locale", None)
    currency = currency or context.get("money_currency") or getattr(tenant, "currency", None)
    return format_money(amount_minor, currency, locale)
