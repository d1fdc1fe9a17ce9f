"""Absolute links for emails, built with url_for against BASE_URL (works outside requests)."""
from __future__ import annotations

from flask import Flask, url_for


class WebLinks:
    """Implements `app.services.links.Links` for the services that write emails."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def url(self, endpoint: str, **values: object) -> str:
        with self.app.test_request_context(base_url=self.app.config["BASE_URL"]):
            return url_for(endpoint, _external=True, **values)

    def password_reset(self, token: str) -> str:
        return self.url("auth.reset_password", token=token)

    def staff_invite(self, token: str) -> str:
        return self.url("auth.accept_invite", token=token)

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
        from app.payments_web import stage_ref

        return self.url("pay.checkout_page", slug=slug, ref=stage_ref(self.app, tenant_id, stage_id))

    def document_download(self, slug: str, tenant_id: int, document_id: int) -> str:
        from app.document_links import document_ref

        return self.url("portal.document_by_link", slug=slug,
                        ref=document_ref(self.app, tenant_id, document_id))


def current_links() -> WebLinks:
    from flask import current_app

    return WebLinks(current_app._get_current_object())
