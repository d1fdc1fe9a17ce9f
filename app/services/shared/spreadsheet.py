"""CSV cells that are safe to open in a spreadsheet, and amounts written for machines."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from app.services.shared.money import exponent

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A spreadsheet must never run a cell as a formula (CSV injection): prefix a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def decimal_text(minor: int, currency: str) -> str:
    """Minor units as major units with a dot and no grouping (-12.50; 1200 for JPY). Amounts are
    ours and numeric, so they are written as they are (the formula guard would quote a minus)."""
    places = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10 ** places) if places else (abs(minor), 0)
    return f"{sign}{whole}.{frac:0{places}d}" if places else f"{sign}{whole}"


def csv_text(header: list[str], rows: Iterable[list[object]]) -> str:
    """Rows as CSV; each text cell must already be passed through `safe_cell` by the caller."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
