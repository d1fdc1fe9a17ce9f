"""Money in integer minor units: parsing, splitting and formatting (Babel)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, get_currency_precision


def exponent(currency: str) -> int:
    """Digits after the decimal point: 2 for EUR, 0 for JPY."""
    return get_currency_precision(currency)


def to_minor(amount: Decimal, currency: str) -> int:
    return int((amount * (10 ** exponent(currency))).to_integral_value(rounding=ROUND_HALF_UP))


def parse_amount(text: str, currency: str) -> int:
    """Decimal text ("1,250.50") to minor units; ValueError on anything else or too many decimals."""
    cleaned = (text or "").strip().replace(",", "").replace(" ", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter an amount such as 1250.00.") from None
    if not value.is_finite() or value < 0:
        raise ValueError("Enter a positive amount.")
    places = exponent(currency)
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(f"{currency} amounts have at most {places} decimals.")
    return to_minor(value, currency)


def percent_of(total: int, percent: Decimal) -> int:
    """round-half-up(total * percent / 100), in minor units."""
    return int((Decimal(total) * Decimal(percent) / 100).to_integral_value(rounding=ROUND_HALF_UP))


def format_money(amount_minor: int, currency: str, locale: str = "en_US") -> str:
    value = Decimal(amount_minor).scaleb(-exponent(currency))
    return format_currency(value, currency, locale=_locale(locale))


@lru_cache(maxsize=64)
def _locale(name: str) -> Locale:
    """Parsing a locale name costs half of a format_currency call; a page formats dozens."""
    return Locale.parse(name)
