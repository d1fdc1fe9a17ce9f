"""Decoding and validating Stripe's form-encoded parameters.

Stripe's v1 API takes ``application/x-www-form-urlencoded`` bodies with
bracketed keys: ``metadata[k]=v``, ``expand[0]=x`` (the SDK's list encoding) or
``expand[]=x`` (Stripe.js and curl). :func:`decode` turns them into nested
dicts and lists. Every leaf value stays a string, as on the wire; the
``as_*`` helpers convert and raise Stripe's validation errors.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from . import errors

_KEY = re.compile(r"([^\[\]]+)|\[([^\[\]]*)\]")


def _split(key: str) -> list[str]:
    parts = [m.group(1) if m.group(1) is not None else m.group(2) for m in _KEY.finditer(key)]
    return parts or [key]


def _listify(node: Any) -> Any:
    """Turn dicts keyed "0", "1", ... (or "" appends) into lists, recursively."""
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v) for k, v in node.items()}
    if node and all(k.isdigit() or k.startswith("\x00") for k in node):
        return [node[k] for k in sorted(node, key=_order)]
    return node


def _order(k: str) -> tuple[int, int]:
    return (1, int(k[1:])) if k.startswith("\x00") else (0, int(k))


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest bracketed form pairs; an empty ``[]`` appends to a list."""
    root: dict[str, Any] = {}
    counter = 0
    for key, value in pairs:
        parts = _split(key)
        node = root
        for i, part in enumerate(parts):
            if part == "":
                # Unique sortable placeholder so repeated `x[]` keys keep order.
                part = f"\x00{counter}"
                counter += 1
            last = i == len(parts) - 1
            if last:
                node[part] = value
            else:
                nxt = node.get(part)
                if not isinstance(nxt, dict):
                    nxt = {}
                    node[part] = nxt
                node = nxt
    return _listify(root)


def check_known(params: dict[str, Any], allowed: Iterable[str], prefix: str = "") -> None:
    """Refuse any parameter Stripe would not accept on this endpoint."""
    allowed_set = set(allowed)
    for name in params:
        if name not in allowed_set:
            raise errors.unknown_param(f"{prefix}[{name}]" if prefix else name)


def as_int(params: dict[str, Any], name: str, *, required: bool = False,
           minimum: int | None = None) -> int | None:
    """Parse an integer as Stripe does (no decimals or blanks), with a lower bound."""
    raw = params.get(name)
    if raw is None:
        if required:
            raise errors.missing_param(name)
        return None
    text = str(raw).strip()
    if not re.fullmatch(r"-?\d+", text):
        raise errors.invalid(f"Invalid integer: {raw}", code="parameter_invalid_integer",
                             param=name)
    value = int(text)
    if minimum is not None and value < minimum:
        raise errors.invalid(f"This value must be greater than or equal to {minimum}.",
                             code="parameter_invalid_integer", param=name)
    return value


def as_str(params: dict[str, Any], name: str, *, required: bool = False,
           choices: Iterable[str] | None = None) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise errors.missing_param(name)
        return None
    if not isinstance(raw, str):
        raise errors.invalid(f"Invalid string: {raw!r}", code="parameter_invalid_string",
                             param=name)
    if choices is not None:
        opts = list(choices)
        if raw not in opts:
            raise errors.invalid(
                f"Invalid {name}: must be one of {', '.join(opts)}", param=name)
    return raw


def as_bool(params: dict[str, Any], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None:
        return None
    if raw in ("true", True):
        return True
    if raw in ("false", False):
        return False
    raise errors.invalid(f"Invalid boolean: {raw}", param=name)


def as_list(params: dict[str, Any], name: str) -> list[Any] | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if isinstance(raw, list):
        return raw
    raise errors.invalid(f"Invalid array: {name}", code="parameter_invalid_array", param=name)


def merge_metadata(current: dict[str, str], raw: Any) -> dict[str, str]:
    """Apply Stripe's metadata update rules: "" unsets a key, or all keys."""
    if raw is None:
        return dict(current)
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise errors.invalid("Invalid hash", code="parameter_invalid_empty", param="metadata")
    out = dict(current)
    for k, v in raw.items():
        if not isinstance(v, str):
            raise errors.invalid("Metadata values must be strings",
                                 param=f"metadata[{k}]")
        if v == "":
            out.pop(k, None)
        else:
            out[k] = v
    if len(out) > 50:
        raise errors.invalid("Metadata can have at most 50 keys", param="metadata")
    return out
