"""Return URLs (`?next=`) read the way a browser reads them, kept only when they stay here.

Browsers drop ASCII tabs and newlines anywhere in a URL, trim leading and trailing control
characters and spaces, and treat a backslash as a slash in http(s) URLs (WHATWG URL standard).
So `/\t/evil.com` is `//evil.com` to them: a checker that looks at the raw string is fooled.
We normalise first, then accept only a path on this site.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def browser_normalised(target: str) -> str:
    """The URL string as a browser would parse it (before resolving it)."""
    cleaned = _TAB_OR_NEWLINE.sub("", target).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b"
                                                   "\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16"
                                                   "\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
    return cleaned.replace("\\", "/")


def safe_return_path(target: str | None, host: str) -> str | None:
    """A path on this site (`host` is the request's host[:port]) to return to, or None."""
    if not target or len(target) > 2048:
        return None
    url = browser_normalised(target)
    if _CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower():
            return None
    path = parts.path
    if not path.startswith("/") or path.startswith("//"):
        return None
    return urlunsplit(("", "", path, parts.query, parts.fragment))
