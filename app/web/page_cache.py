"""Rendered pages kept per worker process, for as long as their tenant's data has not changed.

A page marked `@cached_page` is stored under everything it is drawn from:
- the tenant's data revision and the all-tenants one (app/services/shared/revisions.py), read
  before the page reads anything else, so a change committed by any process (web worker, queue
  consumer) makes the next request render afresh;
- the minute of the clock (pages say "today", "overdue", "in 3 days"): a page is at most a
  minute old in what time alone changes;
- the URL with its query, the htmx headers, the signed-in user and their session version.
Never stored: anything but a 200 HTML reply, a reply that sets a cookie, puts anything but
the CSRF secret in the session (a flash message shown), or writes. Never served: while the
session holds a flash message. The CSRF token in a stored page is the renderer's; each reply
gets its own reader's token in its place.

Profiling (bench/pages.py --profile) put a page's cost in dozens of small ORM statements and
template work, 8-25 ms a page against 3 ms for the trivial page; a stored page costs one
statement (the revision comes with the session or the tenant) and a dictionary look-up.
Disable with PAGE_CACHE=0; size with PAGE_CACHE_MAX_BYTES (per process).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from flask import Flask, current_app, g, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.extensions import db
from app.services.shared import clock, revisions

CSRF_MARK = b"\x00mais-csrf\x00"
_HTMX_HEADERS = ("HX-Request", "HX-Target", "HX-Trigger", "HX-Trigger-Name", "HX-Boosted",
                 "HX-History-Restore-Request", "HX-Current-URL")
_SESSION_BOOKKEEPING = frozenset({"csrf_token", "_fresh", "_id"})
_KEPT_HEADERS = ("Content-Type", "Cache-Control", "Vary", "HX-Trigger", "HX-Push-Url", "HX-Retarget",
                 "HX-Reswap", "Content-Language")


@dataclass(frozen=True)
class StoredPage:
    body: bytes
    headers: tuple[tuple[str, str], ...]
    has_csrf: bool
    valid_until: datetime | None = None


class PageStore:
    """A least-recently-used store bounded in bytes, shared by a process's threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = self.misses = 0
        self._pages: OrderedDict[tuple, StoredPage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> StoredPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key: tuple, page: StoredPage) -> None:
        if len(page.body) > self.max_bytes // 8:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self.size -= len(old.body)
            self._pages[key] = page
            self.size += len(page.body)
            while self.size > self.max_bytes:
                _, dropped = self._pages.popitem(last=False)
                self.size -= len(dropped.body)


def register(app: Flask) -> None:
    app.extensions["page_cache"] = PageStore(app.config["PAGE_CACHE_MAX_BYTES"])
    revisions.install()


def store() -> PageStore:
    return current_app.extensions["page_cache"]


def cached_page(view=None, *, valid_until=None):
    """Serve this GET view's page from the process's store while its tenant's data is unchanged
    (see the module's docstring for what the key holds and what is never stored).

    `valid_until`, given the view's arguments, checks what the URL carries (a couple's link)
    before a page is drawn, raising when it is not valid, and returns until when a stored page
    may stand for it (None: no limit). A link's validity changes only by a write (used, revoked:
    the revision moves) or by time (its expiry): so a stored page is served without asking again
    until then, and after that the check runs again and refuses the link."""
    if view is None:
        return lambda inner: cached_page(inner, valid_until=valid_until)

    @wraps(view)
    def wrapped(*args, **kwargs):
        tenant = g.get("tenant")
        if (not current_app.config["PAGE_CACHE"] or request.method != "GET" or tenant is None
                or session.get("_flashes")):
            return view(*args, **kwargs)
        revision = revisions.current(db.session, tenant.id)  # first: see the module docstring
        if revision is None:
            return view(*args, **kwargs)
        key = _key(tenant.id, revision)
        found = store().get(key)
        if found is not None and (found.valid_until is None or clock.now() < found.valid_until):
            return _reply(found)
        until = valid_until(*args, **kwargs) if valid_until is not None else None
        before = _session_state()
        response = make_response(view(*args, **kwargs))
        page = _storable(response, until) if _session_state() == before else None
        if page is not None:
            store().put(key, page)
        return response

    return wrapped


def _key(tenant_id: int, revision: tuple[int, int]) -> tuple:
    user = current_user.get_id() if current_user.is_authenticated else ""
    minute = clock.now().replace(second=0, microsecond=0)
    hx = tuple(request.headers.get(name, "") for name in _HTMX_HEADERS)
    return (request.endpoint, request.full_path, tenant_id, revision, minute, user, hx)


def _session_state() -> dict:
    """What the view may have put in the session, besides the CSRF secret (each reader gets a
    token of their own) and Flask-Login's bookkeeping: a flash message, a remembered id."""
    return {k: v for k, v in session.items() if k not in _SESSION_BOOKKEEPING}


def _storable(response, valid_until: datetime | None) -> StoredPage | None:
    if (response.status_code != 200 or response.direct_passthrough or response.is_streamed
            or response.mimetype != "text/html" or "Set-Cookie" in response.headers
            or revisions.touched(db.session) or g.get("page_not_cacheable")):
        return None
    body = response.get_data()
    token = g.get("csrf_token")
    has_csrf = bool(token) and token.encode() in body
    if has_csrf:
        body = body.replace(token.encode(), CSRF_MARK)
    headers = tuple((k, v) for k, v in response.headers.items() if k in _KEPT_HEADERS)
    return StoredPage(body=body, headers=headers, has_csrf=has_csrf, valid_until=valid_until)


def _reply(page: StoredPage):
    body = page.body.replace(CSRF_MARK, generate_csrf().encode()) if page.has_csrf else page.body
    response = current_app.response_class(body)
    for name, value in page.headers:
        response.headers[name] = value
    return response
