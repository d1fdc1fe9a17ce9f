"""Keep action tokens out of logs: request lines carry them in the path (/auth/reset/<token>)."""
from __future__ import annotations

import logging
import re

# Our tokens are 43 url-safe characters (32 bytes); signed links carry an itsdangerous signature.
TOKEN_PATTERN = re.compile(
    r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"  # our action tokens
    r"|[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_.-]{20,}"  # itsdangerous signatures
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return TOKEN_PATTERN.sub(REDACTED, text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


LOGGERS = ("werkzeug", "app", "huey", "gunicorn.access", "gunicorn.error", "flask_limiter")


def install_log_redaction() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
