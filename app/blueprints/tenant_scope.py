"""Blueprints under /t/<slug>: load the tenant once per request, 404 for an unknown slug."""
from __future__ import annotations

from flask import Blueprint, g

from app.extensions import db
from app.services.accounts import tenants


def scope_to_tenant(bp: Blueprint) -> None:
    @bp.url_value_preprocessor
    def load_tenant(endpoint, values):
        g.tenant = tenants.for_page(db.session, (values or {}).pop("slug", ""))  # NotFound -> 404

    @bp.url_defaults
    def add_slug(endpoint, values):
        tenant = g.get("tenant")
        if "slug" not in values and tenant is not None:
            values["slug"] = tenant.slug
