"""The tenant's branding for every page that has a tenant (g.tenant): its accent colour as CSS
variables, its logo in the top bar, its cover and description on the booking page."""
from __future__ import annotations

from flask import Flask, g, url_for

from app.extensions import db
from app.services.accounts import branding


def brand_image_url(tenant, image, **kwargs) -> str | None:
    if image is None:
        return None
    return url_for("booking.brand_image", slug=tenant.slug, kind=image.kind, ref=image.sha256[:16], **kwargs)


def register(app: Flask) -> None:
    @app.context_processor
    def inject_brand():
        tenant = g.get("tenant")
        if tenant is None:
            return {"brand": None}
        if "brand" not in g:  # once per request, however many templates render
            g.brand = branding.branding_for(db.session, tenant.id)
        return {"brand": g.brand, "brand_tenant": tenant, "brand_image_url": brand_image_url}
