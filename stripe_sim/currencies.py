"""Stripe's currency rules, as the simulator enforces them on PaymentIntents and Refunds.

Source: https://docs.stripe.com/currencies ("Supported presentment currencies",
"Zero-decimal currencies", "Three-decimal currencies", "Special cases", "Minimum and maximum
charge amounts") and Stripe support's ISK note, read on 2026-11-30.

This is deliberately a copy, not an import of the app's table: the simulator stands in for
Stripe and imports nothing from app/, so a mistake in the app's rules shows up as a refused
request in tests, as it would with Stripe. A test asserts the two tables agree.
"""
from __future__ import annotations

from . import errors

ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())
SUPPORTED = frozenset("""
usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp byn
bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf
gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr
lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd omr pab pen
pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd std szl thb tjs tnd
top try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw""".split())
# Amounts must be a multiple of: ISK whole krónur (two-decimal in the API), three-decimal
# currencies' last digit 0.
STEPS = {"isk": 100, **{code: 10 for code in THREE_DECIMAL}}
# Minimum charge amounts for the settlement currencies (API minor units); for other currencies
# Stripe converts first, which the simulator does not model.
MINIMUMS = {"usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50,
            "czk": 1500, "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50,
            "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200,
            "sek": 300, "sgd": 50, "thb": 1000}
MAXIMUM_DEFAULT = 99_999_999
MAXIMUMS = {"idr": 999_999_999_999}


def exponent(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2


def shown(amount: int, currency: str) -> str:
    """An amount as Stripe's messages write it ("0.50 usd", "50 jpy")."""
    places = exponent(currency)
    if not places:
        return f"{amount} {currency}"
    whole, frac = divmod(amount, 10 ** places)
    return f"{whole}.{frac:0{places}d} {currency}"


def check_currency(currency: str) -> None:
    if currency not in SUPPORTED:
        raise errors.invalid(f"Invalid currency: {currency}. Stripe currently supports these "
                             f"currencies: {', '.join(sorted(SUPPORTED))}", param="currency")


def check_amount(amount: int, currency: str, *, charge: bool = True) -> None:
    """Refuse an amount Stripe would refuse: off the currency's step, or (for a charge) under
    the minimum or over the maximum."""
    step = STEPS.get(currency, 1)
    if amount % step:
        if currency == "isk":
            raise errors.invalid("Invalid amount. Currency ISK has become effectively "
                                 "zero-decimal and charged amounts must be evenly divisible by "
                                 "100.", code="invalid_charge_amount_no_decimal_compatible",
                                 param="amount")
        raise errors.invalid(f"Invalid amount. The last digit of {currency.upper()} amounts "
                             "must be 0.", code="invalid_charge_amount", param="amount")
    if not charge:
        return
    minimum = MINIMUMS.get(currency, 1)
    if amount < minimum:
        raise errors.invalid(f"Amount must be at least {shown(minimum, currency)}",
                             code="amount_too_small", param="amount")
    maximum = MAXIMUMS.get(currency, MAXIMUM_DEFAULT)
    if amount > maximum:
        raise errors.invalid(f"Amount must be no more than {shown(maximum, currency)}",
                             code="amount_too_large", param="amount")
