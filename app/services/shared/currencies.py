"""The one currency table: which currencies MAIS accepts and the rules their amounts follow.

Source: Stripe, "Supported currencies" (https://docs.stripe.com/currencies: presentment
currencies for cards, "Zero-decimal currencies", "Three-decimal currencies", "Special cases",
"Minimum and maximum charge amounts") and Stripe support's note on ISK ("Deprecation of
fractional ISK charges and refunds"), read on 2026-11-30. Re-read them when Stripe changes its
list; `tests/integration/stripe_sim/test_contract_currencies.py` checks these rules against
Stripe test mode when STRIPE_TEST_SECRET_KEY is set.

Every amount in MAIS is an integer in the minor unit *Stripe's API* uses (`api_exponent`), so
what we store is what we send and what Stripe's events report. That is not always what Babel
(CLDR) shows: Babel writes ISK, HUF, IDR, COP and a few others without decimals, Stripe's API
takes them with two (ISK 5 is `500`). `display_exponent` is Babel's; formatting and parsing
convert between the two here and nowhere else.

`step` is the granularity every amount keeps (deposits, installments, tax, refunds):
- three-decimal currencies (BHD, JOD, KWD, OMR, TND): Stripe requires the last digit to be 0,
  so 10;
- ISK: Stripe requires multiples of 100 (whole krónur);
- currencies Babel shows without decimals but Stripe's API takes with two (HUF, IDR, COP, ...):
  Stripe would accept fractions, but we keep whole units (100) so that what a page, invoice or
  email shows is exactly what is charged (and HUF payouts are whole forints anyway);
- 1 otherwise.
`stripe_step` is Stripe's own rule (what Stripe refuses), mirrored by the simulator.

Limits, in API minor units: the minimum charge Stripe documents for the currencies it settles
in (elsewhere Stripe converts to the account's settlement currency first, which we cannot know
here: `min_charge` is None); the maximum is eight digits (99999999) except IDR, which Stripe
allows up to twelve digits (our reading of the page; the test-mode contract test checks it).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from babel.numbers import get_currency_precision

ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())
# Card presentment currencies (two-decimal unless listed above).
SUPPORTED_CODES = frozenset("""
USD AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BWP BYN
BZD CAD CDF CHF CLP CNY COP CRC CVE CZK DJF DKK DOP DZD EGP ETB EUR FJD FKP GBP GEL GIP GMD GNF
GTQ GYD HKD HNL HTG HUF IDR ILS INR ISK JMD JOD JPY KES KGS KHR KMF KRW KWD KYD KZT LAK LBP LKR
LRD LSL MAD MDL MGA MKD MMK MNT MOP MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SEK SGD SHP SLE SOS SRD STD SZL THB TJS TND
TOP TRY TTD TWD TZS UAH UGX UYU UZS VND VUV WST XAF XCD XOF XPF YER ZAR ZMW""".split())
# Stripe's own divisibility rules beyond the exponent.
STRIPE_STEPS = {"ISK": 100, **{code: 10 for code in THREE_DECIMAL}}
# Minimum charge amounts for Stripe's settlement currencies, in API minor units.
MIN_CHARGE = {"USD": 50, "AED": 200, "AUD": 50, "BGN": 100, "BRL": 50, "CAD": 50, "CHF": 50,
              "CZK": 1500, "DKK": 250, "EUR": 50, "GBP": 30, "HKD": 400, "HUF": 17500,
              "INR": 50, "JPY": 50, "MXN": 1000, "MYR": 200, "NOK": 300, "NZD": 50,
              "PLN": 200, "RON": 200, "SEK": 300, "SGD": 50, "THB": 1000}
MAX_CHARGE_DEFAULT = 99_999_999
MAX_CHARGE = {"IDR": 999_999_999_999}


@dataclass(frozen=True)
class Currency:
    code: str
    api_exponent: int  # digits after the point in Stripe's API amounts
    display_exponent: int  # digits Babel (CLDR) shows
    stripe_step: int  # Stripe refuses amounts that are not a multiple of this
    step: int  # every MAIS amount is a multiple of this (see the module docstring)
    min_charge: int | None
    max_charge: int


def _api_exponent(code: str) -> int:
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def _build(code: str) -> Currency:
    api = _api_exponent(code)
    display = min(get_currency_precision(code), api)
    stripe_step = STRIPE_STEPS.get(code, 1)
    whole_units = 10 ** (api - display)
    step = max(stripe_step, whole_units)  # both are powers of ten: the larger is their lcm
    return Currency(code, api, display, stripe_step, step, MIN_CHARGE.get(code),
                    MAX_CHARGE.get(code, MAX_CHARGE_DEFAULT))


@lru_cache(maxsize=1)
def table() -> dict[str, Currency]:
    return {code: _build(code) for code in sorted(SUPPORTED_CODES)}


def supported() -> list[str]:
    return list(table())


def get(code: str) -> Currency:
    """The rules for a supported currency; for a code we no longer accept (rows written before
    the table existed), the rules Stripe's exponent implies, so old amounts still display."""
    found = table().get(code.upper())
    if found is not None:
        return found
    try:
        display = get_currency_precision(code.upper())
    except Exception:  # noqa: BLE001 - Babel raises several types for unknown codes
        display = 2
    return Currency(code.upper(), display, display, 1, 1, None, MAX_CHARGE_DEFAULT)


def currency_problem(code: str) -> str | None:
    """Why a tenant cannot take payments in `code`, or None."""
    if (code or "").upper() in table():
        return None
    return ("Choose a currency Stripe can charge cards in, as a 3-letter code such as USD, EUR, "
            "GBP or JPY.")
