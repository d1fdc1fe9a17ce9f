"""Branding: the logo upload refuses a non-image, an SVG with script and a file over the limit,
each with a message; accepted images are served with long caching; the booking page, couple
pages, emails and PDF documents show the accent colour and the logo."""
from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from tests.e2e.test_dashboard_design import SHOTS
from tests.fixtures.portal import csrf_from
from tests.integration.bookings.helpers import make_catalog
from tests.integration.invoices.helpers import confirmed_booking, deliver_all, documents, pdf_text

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def png(width=64, height=32, colour=(200, 30, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def noise_png(side: int) -> bytes:
    import os

    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    return out.getvalue()


def upload(client, files: dict, **fields):
    page = client.get("/dashboard/settings/branding").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "accent_color": "#0b6e4f", "public_description": "", **fields}
    for name, (content, filename) in files.items():
        data[name] = (io.BytesIO(content), filename)
    return client.post("/dashboard/settings/branding", data=data, content_type="multipart/form-data")


def stored(app, tenant_id):
    from app.extensions import db
    from app.models import TenantImage

    with app.app_context():
        rows = db.session.scalars(select(TenantImage).where(TenantImage.tenant_id == tenant_id)).all()
        result = {r.kind: (r.content_type, r.sha256, r.width) for r in rows}
        db.session.remove()
    return result


def test_logo_upload_refuses_what_is_not_a_safe_image_with_a_message(app, owner_client, tenant_a):
    cases = {
        "text named .png": ((b"hello, not an image" * 10, "logo.png"), "not an image we can read"),
        "svg with script": ((SVG, "logo.png"), "SVG"),
        "svg without prolog": ((b"<svg onload='alert(1)'/>", "logo.svg"), "SVG"),
        "over the limit": ((noise_png(700), "big.png"), "over 1 MB"),
        "a pdf": ((b"%PDF-1.4 fake", "logo.pdf"), "not an image we can read"),
    }
    for name, (file, message) in cases.items():
        response = upload(owner_client, {"logo": file})
        text = response.get_data(as_text=True)
        assert response.status_code == 400, name
        assert message in text and 'id="logo-error"' in text, name
    assert stored(app, tenant_a.tenant_id) == {}


def test_a_logo_and_cover_are_stored_reencoded_and_served_with_long_caching(app, owner_client, tenant_a):
    response = upload(owner_client, {"logo": (png(1024, 512), "logo.png"), "cover": (png(300, 100), "c.png")},
                      public_description="Film photography for small weddings.")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    images = stored(app, tenant_a.tenant_id)
    assert images["logo"][0] == "image/png" and images["logo"][2] == 512  # scaled down
    assert images["cover"][0] == "image/jpeg"
    public = app.test_client().get(f"/t/{tenant_a.slug}/").get_data(as_text=True)
    logo_url = f"/t/{tenant_a.slug}/brand/logo-{images['logo'][1][:16]}"
    assert logo_url in public and "Film photography for small weddings." in public
    assert "--accent: #0b6e4f" in public
    served = app.test_client().get(logo_url)
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert "immutable" in served.headers["Cache-Control"] and served.headers["ETag"]
    assert app.test_client().get(logo_url, headers={"If-None-Match": served.headers["ETag"]}).status_code == 304
    assert app.test_client().get(f"/t/{tenant_a.slug}/brand/logo-{'0' * 16}").status_code == 404
    assert app.test_client().get(f"/t/bravo-none/brand/logo-{images['logo'][1][:16]}").status_code == 404


def test_emails_and_documents_carry_the_brand(app, owner_client, tenant_a):
    from app.extensions import db
    from app.models import OutboundEmail

    assert upload(owner_client, {"logo": (png(), "logo.png")}).status_code == 302
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    booking_id = confirmed_booking(app, tenant_a, shop.package_id)
    with app.app_context():
        bodies = db.session.scalars(select(OutboundEmail.html_body).where(
            OutboundEmail.tenant_id == tenant_a.tenant_id)).all()
        db.session.remove()
    assert bodies and all("color: #0b6e4f" in b for b in bodies)
    # The logo travels inside each email (clients block remote images): an inline PNG part of
    # the HTML, referenced by its Content-ID, and no attachment in the couple's list.
    from app.services.email import outbox

    with app.app_context():
        row = db.session.scalars(select(OutboundEmail).where(
            OutboundEmail.tenant_id == tenant_a.tenant_id).order_by(OutboundEmail.id)).first()
        assert 'src="cid:logo@mais"' in row.html_body
        message = outbox.build_message(row, "MAIS <mail@example.com>", "example.com")
        db.session.remove()
    related = [p for p in message.walk() if p.get("Content-ID") == "<logo@mais>"]
    assert len(related) == 1 and related[0].get_content_type() == "image/png"
    assert related[0].get_content().startswith(b"\x89PNG")
    assert all(part.get("Content-ID") != "<logo@mais>" for part in message.iter_attachments())
    deliver_all(app)
    invoice = next(d for d in documents(app, booking_id) if d["kind"] == "invoice")
    from app.models import Document

    with app.app_context():
        snapshot = db.session.get(Document, invoice["id"]).snapshot
        db.session.remove()
    assert snapshot["brand"]["accent"] == "#0b6e4f" and snapshot["brand"]["logo"].startswith("data:image/png")
    assert "Alpha" in pdf_text(invoice["pdf"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "branded-invoice.pdf").write_bytes(invoice["pdf"])  # an artifact to look at


def test_a_light_accent_keeps_text_readable(app, owner_client, tenant_a):
    assert upload(owner_client, {}, accent_color="#ffe066").status_code == 302
    page = owner_client.get("/dashboard/").get_data(as_text=True)
    assert "--accent: #ffe066; --accent-ink: #1f2430" in page and "--accent-text: #1f2430" in page
