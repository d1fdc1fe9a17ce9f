"""Every absolute link the web layer hands to services, and the signed references inside them.

Links are built from the app's URL map bound to `BASE_URL` (no request context needed, so tasks
and the CLI build the same links as a request does). Two kinds of stateless, itsdangerous-signed
references travel in them (DESIGN.md "Tokens and links"):
- a checkout reference (tenant, stage): it can only take money for the stage it names, so it
  never expires and works from the booking flow, the portal and emails alike;
- a document reference (tenant, document), valid 30 days: it only lets someone download a PDF
  that was emailed to them.
A bad signature or another tenant's reference is "not found"; an expired document link gets
the page offering a fresh one. Action tokens (stored, single-use) are issued by services.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, current_app
from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer
from werkzeug.routing import MapAdapter

from app.services.shared import clock
from app.services.shared.errors import NotFound

STAGE_SALT = "mais-checkout-stage"
DOCUMENT_SALT = "mais-document-download"
DOCUMENT_VALID_FOR = timedelta(days=30)


class LinkExpired(Exception):
    """A genuine document link, older than 30 days."""


class _ClockSigner(TimestampSigner):
    """Timestamps from `clock.now()`, so tests can move time like everywhere else."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _stage_serializer(app: Flask) -> URLSafeSerializer:
    return URLSafeSerializer(app.config["SECRET_KEY"], salt=STAGE_SALT)


def _document_serializer(app: Flask) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=DOCUMENT_SALT,
                                  signer=_ClockSigner)


def stage_ref(app: Flask, tenant_id: int, stage_id: int) -> str:
    return _stage_serializer(app).dumps([tenant_id, stage_id])


def read_stage_ref(app: Flask, tenant_id: int, ref: str) -> int:
    """The stage id in `ref`, or NotFound for a bad signature or another tenant's stage."""
    try:
        ref_tenant, stage_id = _stage_serializer(app).loads(ref)
    except (BadData, ValueError, TypeError):
        raise NotFound() from None
    if ref_tenant != tenant_id or not isinstance(stage_id, int):
        raise NotFound()
    return stage_id


def document_ref(app: Flask, tenant_id: int, document_id: int) -> str:
    return _document_serializer(app).dumps([tenant_id, document_id])


def read_document_ref(app: Flask, tenant_id: int, ref: str) -> int:
    """The document id in `ref`; NotFound for a tampered or another tenant's link, LinkExpired
    for a genuine one past its 30 days."""
    serializer = _document_serializer(app)
    try:
        ref_tenant, document_id = serializer.loads(
            ref, max_age=int(DOCUMENT_VALID_FOR.total_seconds()))
    except SignatureExpired as exc:
        try:
            ref_tenant, _ = (serializer.load_payload(exc.payload) if exc.payload is not None
                             else (None, None))
        except (BadData, ValueError, TypeError):
            raise NotFound() from None
        if ref_tenant != tenant_id:
            raise NotFound() from None
        raise LinkExpired() from None
    except (BadData, ValueError, TypeError):
        raise NotFound() from None
    if ref_tenant != tenant_id or not isinstance(document_id, int):
        raise NotFound()
    return document_id


def _url_adapter(app: Flask) -> MapAdapter:
    """The URL map bound to BASE_URL, built once per app (url_map does not change after start)."""
    cached = app.extensions.get("mais_link_adapter")
    if cached is None or cached[0] != app.config["BASE_URL"]:
        base = urlsplit(app.config["BASE_URL"])
        adapter = app.url_map.bind(base.netloc, script_name=base.path or "/",
                                   url_scheme=base.scheme or "http")
        cached = (app.config["BASE_URL"], adapter)
        app.extensions["mais_link_adapter"] = cached
    return cached[1]


class WebLinks:
    """Implements `app.services.shared.links.Links` for the services that write emails."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def url(self, endpoint: str, **values: object) -> str:
        return _url_adapter(self.app).build(endpoint, values, force_external=True)

    def password_reset(self, token: str) -> str:
        return self.url("auth.reset_password", token=token)

    def staff_invite(self, token: str) -> str:
        return self.url("auth.accept_invite", token=token)

    def verify_email(self, token: str) -> str:
        return self.url("auth.verify_email", token=token)

    def login(self) -> str:
        return self.url("auth.login")

    def forgot_password(self) -> str:
        return self.url("auth.forgot_password")

    def booking_manage(self, slug: str, token: str) -> str:
        return self.url("portal.manage", slug=slug, token=token)

    def booking_reschedule(self, slug: str, token: str) -> str:
        return self.url("portal.reschedule", slug=slug, token=token)

    def booking_cancel(self, slug: str, token: str) -> str:
        return self.url("portal.cancel", slug=slug, token=token)

    def booking_fresh_link(self, slug: str) -> str:
        return self.url("portal.fresh_link", slug=slug)

    def stage_checkout(self, slug: str, tenant_id: int, stage_id: int) -> str:
        return self.url("pay.checkout_page", slug=slug, ref=stage_ref(self.app, tenant_id, stage_id))

    def document_download(self, slug: str, tenant_id: int, document_id: int) -> str:
        return self.url("portal.document_by_link", slug=slug,
                        ref=document_ref(self.app, tenant_id, document_id))


def current_links() -> WebLinks:
    return WebLinks(current_app._get_current_object())
