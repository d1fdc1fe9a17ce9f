"""Email transports: SMTP for real delivery, the outbox itself for the embedded default."""
from __future__ import annotations

import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from email.message import Message
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

    def server_key(self) -> tuple:
        return (self.host, self.port, self.tls, self.starttls, self.username)

    def _connect(self) -> smtplib.SMTP:
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
        return client

    def send(self, message: Message, accepted: Callable[[], None]) -> None:
        """Send over this thread's open connection (checked with NOOP first when it has been
        idle), or a new one, and call `accepted` the moment the server has answered 250.

        A failure drops the connection and raises TransportError: the message is never retried
        here, since the server may have accepted it already (the outbox decides what next). The
        connection stays open for the next message, so no goodbye stands between the server's
        acceptance and our record of it."""
        try:
            client = _open_connection(self)
            client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            _drop_connection(self)
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        _connections.used[self.server_key()] = time.monotonic()
        accepted()


# One SMTP connection per worker thread and server, reused from message to message: connecting,
# EHLO, STARTTLS and login cost more than sending a reminder. A connection used within
# CHECK_IDLE_AFTER seconds is trusted without a NOOP (a round trip per message in a batch);
# should the server have dropped it meanwhile, the send fails before any data was accepted and
# the outbox retries that one message.
CHECK_IDLE_AFTER = 5.0
_connections = threading.local()


def _open_connection(transport: SmtpTransport) -> smtplib.SMTP:
    key = transport.server_key()
    if not hasattr(_connections, "by_server"):
        _connections.by_server, _connections.used = {}, {}
    cached = _connections.by_server.get(key)
    if cached is not None:
        if time.monotonic() - _connections.used.get(key, 0.0) < CHECK_IDLE_AFTER:
            return cached
        try:
            if cached.noop()[0] == 250:
                return cached
        except (OSError, smtplib.SMTPException):
            pass
        _drop_connection(transport)
    client = transport._connect()
    _connections.by_server[key] = client
    return client


def _drop_connection(transport: SmtpTransport) -> None:
    key = transport.server_key()
    client = getattr(_connections, "by_server", {}).pop(key, None)
    getattr(_connections, "used", {}).pop(key, None)
    if client is not None:
        try:
            client.close()
        except OSError:
            pass


class DevMailboxTransport:
    """Embedded default: the outbox row is the delivered message, read at /dev/mailbox."""

    name = "dev-mailbox"

    def send(self, message: Message, accepted: Callable[[], None]) -> None:
        accepted()


def transport_for(smtp_url: str):
    return SmtpTransport(smtp_url) if smtp_url else DevMailboxTransport()
