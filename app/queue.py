"""The Huey instance, built from the environment when first imported (huey_consumer needs it).

This is the one place that reads configuration at import time (see DESIGN.md). Tasks reach the
Flask app through `bind_app`, which `create_app` calls.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask
from huey import Huey, RedisHuey, SqliteHuey

from app.config import instance_path


def build_huey(environ: Mapping[str, str]) -> Huey:
    redis_url = environ.get("REDIS_URL")
    name = environ.get("MAIS_QUEUE_NAME", "mais")
    if redis_url:
        return RedisHuey(name, url=redis_url, utc=True)
    path = environ.get("MAIS_HUEY_PATH") or str(instance_path(environ) / "huey.db")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return SqliteHuey(name, filename=path, utc=True, timeout=30)


huey = build_huey(os.environ)

_bound: dict[str, Flask] = {}


def bind_app(app: Flask) -> None:
    """Tasks run under this app's context (the last app created in the process wins)."""
    _bound["app"] = app


def bound_app() -> Flask:
    try:
        return _bound["app"]
    except KeyError:
        raise RuntimeError("no Flask app bound to the queue: import wsgi or call create_app") from None
