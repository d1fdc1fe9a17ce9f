"""The one source of "now" for services and tasks, so tests can move time."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

_lock = threading.Lock()
_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    """Aware UTC now, shifted or frozen by tests."""
    with _lock:
        if _frozen is not None:
            return _frozen
        return datetime.now(UTC) + _offset


def advance(delta: timedelta) -> None:
    global _offset, _frozen
    with _lock:
        if _frozen is not None:
            _frozen = _frozen + delta
        else:
            _offset += delta


def travel(to: datetime) -> None:
    """Jump to `to` and let time run on from there (tests of due times and retries)."""
    global _offset, _frozen
    with _lock:
        _frozen = None
        _offset = to - datetime.now(UTC)


def freeze(at: datetime) -> None:
    global _frozen
    with _lock:
        _frozen = at


def reset() -> None:
    global _offset, _frozen
    with _lock:
        _offset = timedelta(0)
        _frozen = None
