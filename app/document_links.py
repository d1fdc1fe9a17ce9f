"""Signed download links for documents in emails: itsdangerous, stateless, valid 30 days.

A document link only lets someone download a PDF that was emailed to them, so it is a signature
over (tenant, document) with a timestamp rather than a stored token. A bad signature or another
tenant's reference is "not found"; an expired one gets the page offering a fresh link.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask
from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from app.services import clock
from app.services.errors import NotFound

SALT = "mais-document-download"
VALID_FOR = timedelta(days=30)


class _ClockSigner(TimestampSigner):
    """Timestamps from `clock.now()`, so tests can move time like everywhere else."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(app: Flask) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALT, signer=_ClockSigner)


def document_ref(app: Flask, tenant_id: int, document_id: int) -> str:
    return _serializer(app).dumps([tenant_id, document_id])


class LinkExpired(Exception):
    """A genuine link, older than 30 days."""


def read_document_ref(app: Flask, tenant_id: int, ref: str) -> int:
    """The document id in `ref`; NotFound for a tampered or another tenant's link, LinkExpired
    for a genuine one past its 30 days."""
    serializer = _serializer(app)
    try:
        ref_tenant, document_id = serializer.loads(ref, max_age=int(VALID_FOR.total_seconds()))
    except SignatureExpired as exc:
        payload = exc.payload
        try:
            ref_tenant, _ = serializer.load_payload(payload) if payload is not None else (None, None)
        except BadData:
            raise NotFound() from None
        if ref_tenant != tenant_id:
            raise NotFound() from None
        raise LinkExpired() from None
    except (BadData, ValueError, TypeError):
        raise NotFound() from None
    if ref_tenant != tenant_id or not isinstance(document_id, int):
        raise NotFound()
    return document_id
