"""Page numbers from URLs, turned into row offsets the databases accept."""
from __future__ import annotations

# Far beyond any real list; a larger ?page= would overflow SQLite's and PostgreSQL's integers.
MAX_PAGE = 1_000_000


def offset(page: int, size: int) -> int:
    """Rows to skip for a 1-based page; out-of-range numbers read as the nearest valid page."""
    return (min(max(1, page), MAX_PAGE) - 1) * size
