"""Entry point: `gunicorn wsgi:app` for the web, `huey_consumer wsgi.huey` for workers."""
import sys

from app import create_app
from app.config import ConfigError
from app.queue import huey

try:
    app = create_app()
except ConfigError as exc:
    print(f"MAIS cannot start: {exc}", file=sys.stderr)
    sys.exit(2)

__all__ = ["app", "huey"]
