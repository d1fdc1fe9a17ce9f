"""Fault injection: make the next N matching API calls fail.

Kinds: ``"500"`` (api_error), ``"429"`` (rate_limit) and ``"timeout"`` (sleep
``delay`` seconds before answering, longer than the client waits). After a
timeout the request is still executed (``then="answer"``, the realistic and
dangerous case: the client gave up but the charge happened) or answered with
a 500 without executing (``then="fail"``). Faults match on a path prefix and
optionally a method; the oldest matching fault is consumed first.

A fault with a ``rate`` (0 < rate <= 1) is not consumed: it strikes each matching call with
that probability, drawn from a generator seeded by ``seed`` (a chaos run's "10 % of calls
fail"), until the faults are cleared. ``injected`` counts the faults served, per kind, across
clears.
"""
from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

KINDS = {"500": "500", "api_error": "500", "429": "429", "rate_limit": "429",
         "timeout": "timeout"}


@dataclass
class Fault:
    kind: str
    remaining: int = 1
    path_prefix: str = "/v1/"
    method: str | None = None
    delay: float = 2.0
    then: str = "answer"
    rate: float | None = None

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and (
            self.method is None or self.method.upper() == method.upper())


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rng = random.Random(0)
        self.injected: dict[str, int] = {}

    def add(self, kind: str | int, count: int = 1, path_prefix: str | None = None,
            method: str | None = None, delay: float | None = None,
            then: str = "answer", rate: float | None = None, seed: int | None = None) -> Fault:
        norm = KINDS.get(str(kind))
        if norm is None:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(KINDS)}")
        if then not in ("answer", "fail"):
            raise ValueError("then must be 'answer' or 'fail'")
        if rate is not None and not 0 < float(rate) <= 1:
            raise ValueError("rate must be in (0, 1]")
        fault = Fault(norm, max(1, int(count)), path_prefix or "/v1/", method,
                      2.0 if delay is None else float(delay), then,
                      None if rate is None else float(rate))
        with self._lock:
            if seed is not None:
                self._rng = random.Random(int(seed))
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the oldest fault matching this request."""
        with self._lock:
            for fault in self._faults:
                if fault.rate is None and fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return self._count(fault)
            draw = self._rng.random()
            for fault in self._faults:  # rate faults share one draw: their rates add up
                if fault.rate is not None and fault.matches(method, path):
                    if draw < fault.rate:
                        return self._count(fault)
                    draw -= fault.rate
        return None

    def _count(self, fault: Fault) -> Fault:
        self.injected[fault.kind] = self.injected.get(fault.kind, 0) + 1
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._faults]
