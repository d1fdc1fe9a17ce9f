"""CSV cells that are safe to open in a spreadsheet, and amounts written for machines."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

from app.services.shared import currencies
from app.services.shared.money import to_major

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A spreadsheet must never run a cell as a formula (CSV injection): prefix a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def decimal_text(minor: int, currency: str) -> str:
    """Major units with a dot and no grouping, as many decimals as the currency shows (-12.50;
    1500 ISK; 1200 JPY): a sheet sums them exactly whatever the locale. Amounts are ours and
    numeric, so they are written as they are (the formula guard would quote a minus)."""
    value = to_major(minor, currency)
    shown = value.quantize(Decimal(1).scaleb(-currencies.get(currency).display_exponent))
    return f"{shown if shown == value else value:f}"


def csv_text(header: list[str], rows: Iterable[list[object]]) -> str:
    """Rows as CSV; each text cell must already be passed through `safe_cell` by the caller."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
