"""Whether the request being served only reads (set by app/web/transactions.py): each database's
connection set-up (app/sqlite.py, app/postgres.py) begins such a request's transactions more
cheaply, and a statement that writes after all is still handled safely."""
from __future__ import annotations

from contextvars import ContextVar

# The endpoint of the GET or HEAD request being served whose view is not marked `@writes`.
read_only_request: ContextVar[str | None] = ContextVar("read_only_request", default=None)
