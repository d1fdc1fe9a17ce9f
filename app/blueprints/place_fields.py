"""Select fields for where a business is: its IANA time zone (grouped by region, searchable in
the page), its currency and its locale, each offered as a list instead of a code to type."""
from __future__ import annotations

from functools import lru_cache

from babel.numbers import get_currency_name
from wtforms import SelectField
from wtforms.validators import ValidationError

from app.services.accounts.tenants import (
    currency_problem,
    locale_problem,
    locales,
    timezone_problem,
    timezones,
)
from app.services.shared import currencies as currency_table

COMMON_CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "JPY", "MXN")


@lru_cache(maxsize=1)
def timezone_choices() -> dict[str, list[tuple[str, str]]]:
    """{"Europe": [("Europe/Berlin", "Europe/Berlin"), ...], ...}: optgroups by region; the full
    name stays in the label, since a closed select does not show its group."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(timezones()):
        region, _, place = name.partition("/")
        if not place or region in ("Etc", "SystemV", "US", "Canada", "Brazil", "Chile", "Mexico"):
            continue  # aliases and legacy names; stored values stay valid (see with_current)
        groups.setdefault(region, []).append((name, name.replace("_", " ")))
    groups["Other"] = [("UTC", "UTC")]
    return groups


@lru_cache(maxsize=1)
def currency_choices() -> list[tuple[str, str]]:
    def label(code: str) -> str:
        return f"{code} – {get_currency_name(code, locale='en')}"

    rest = sorted(c for c in currency_table.supported() if c not in COMMON_CURRENCIES and len(c) == 3)
    return [(c, label(c)) for c in COMMON_CURRENCIES] + [(c, label(c)) for c in rest]


def locale_choices() -> list[tuple[str, str]]:
    """Locales with a territory (en_US, de_DE...), as the settings service accepts them."""
    return locales()


def with_current(choices, current: str | None):
    """Keep a stored value that the list does not offer (an alias such as US/Eastern)."""
    flat = [v for group in (choices.values() if isinstance(choices, dict) else [choices]) for v, _ in group]
    if not current or current in flat:
        return choices
    if isinstance(choices, dict):
        return {**choices, "Other": [*choices.get("Other", []), (current, current)]}
    return [*choices, (current, current)]


class _ListField(SelectField):
    """A select of `options()`, keeping a stored value the list lacks, and refusing anything
    else with the service's own sentence (the service checks again on save)."""

    searchable = ""

    def __init__(self, label=None, **kwargs):
        kwargs.setdefault("render_kw", {"data-searchable": self.searchable})
        super().__init__(label, choices=self.options(), **kwargs)

    @staticmethod
    def options():
        raise NotImplementedError

    @staticmethod
    def problem(value: str) -> str | None:
        raise NotImplementedError

    def process_data(self, value):
        super().process_data(value)
        self.choices = with_current(self.options(), value)

    def pre_validate(self, form):
        message = self.problem(self.data or "")
        if message:
            raise ValidationError(message)


class TimezoneField(_ListField):
    searchable = "time zones"
    options = staticmethod(timezone_choices)
    problem = staticmethod(timezone_problem)


class CurrencyField(_ListField):
    searchable = "currencies"
    options = staticmethod(currency_choices)
    problem = staticmethod(currency_problem)


class LocaleField(_ListField):
    searchable = "locales"
    options = staticmethod(locale_choices)
    problem = staticmethod(locale_problem)
