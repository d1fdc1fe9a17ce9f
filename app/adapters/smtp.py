"""Email transports: SMTP for real delivery, the outbox itself for the embedded default."""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from app.services.email.outbox import TransportError


class SmtpTransport:
    """Sends through `SMTP_URL`: smtp://[user:pass@]host[:port], smtps:// for TLS, ?starttls=1."""

    name = "smtp"

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("SMTP_URL must start with smtp:// or smtps://")
        self.host = parts.hostname or "localhost"
        self.tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.tls else 25)
        self.starttls = "starttls=1" in (parts.query or "")
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    def send(self, message: EmailMessage, accepted: Callable[[], None]) -> None:
        client = None
        try:
            if self.tls:
                client = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                client.starttls(context=ssl.create_default_context())
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            if client is not None:
                client.close()
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        try:
            accepted()  # the server answered 250 to the data: record it before anything else
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()  # the message was accepted; a failed goodbye changes nothing


class DevMailboxTransport:
    """Embedded default: the outbox row is the delivered message, read at /dev/mailbox."""

    name = "dev-mailbox"

    def send(self, message: EmailMessage, accepted: Callable[[], None]) -> None:
        accepted()


def transport_for(smtp_url: str):
    return SmtpTransport(smtp_url) if smtp_url else DevMailboxTransport()
