"""A tenant's branding: accent colour, a short public description, a logo and a cover photo.

Uploads are checked before anything is stored: at most LIMITS bytes, and an image Pillow can
decode as PNG, JPEG or WebP; anything else (an SVG, which can carry script, a PDF, text named
.png) is refused with a sentence. Accepted images are re-encoded (PNG for a logo, JPEG for a
cover), which drops metadata such as a photo's location and anything hidden after the image
data, and scaled down to what pages show.
"""
from __future__ import annotations

import base64
import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models import TenantBranding, TenantImage
from app.services.shared import audit, clock
from app.services.shared.errors import ValidationFailed

LIMITS = {"logo": 1 * 1024 * 1024, "cover": 5 * 1024 * 1024}
MAX_SIDE = {"logo": 512, "cover": 2000}
ACCEPTED_FORMATS = {"PNG", "JPEG", "WEBP"}
DESCRIPTION_MAX = 600
HEX_COLOUR = re.compile(r"^#[0-9a-f]{6}$")
DARK_INK = "#1f2430"
DEFAULT_ACCENT = "#7a3e9d"
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding


@dataclass(frozen=True)
class Branding:
    accent: str  # "" when the tenant keeps ours
    accent_ink: str  # text colour readable on the accent
    accent_soft: str
    accent_text: str  # the accent where it is readable as text on white, else our ink
    description: str
    logo: TenantImage | None
    cover: TenantImage | None


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ink_for(accent: str) -> str:
    """White or our near-black ink on the accent, whichever contrasts more (WCAG ratio)."""
    lum, dark = _luminance(accent), _luminance(DARK_INK)
    return "#ffffff" if 1.05 / (lum + 0.05) >= (lum + 0.05) / (dark + 0.05) else DARK_INK


def text_for(accent: str) -> str:
    """The accent for links and headings on white when it reaches 4.5:1 there, else our ink."""
    return accent if 1.05 / (_luminance(accent) + 0.05) >= 4.5 else DARK_INK


def soft_for(accent: str) -> str:
    """The accent mixed 88 % with white: backgrounds of current items."""
    r, g, b = (int(accent[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c + (255 - c) * 0.88):02x}" for c in (r, g, b))


def branding_for(session: Session, tenant_id: int) -> Branding:
    row = session.scalar(select(TenantBranding).where(TenantBranding.tenant_id == tenant_id))
    images = {i.kind: i for i in session.scalars(select(TenantImage).where(TenantImage.tenant_id == tenant_id))}
    accent = row.accent_color if row else ""
    return Branding(accent=accent, accent_ink=ink_for(accent) if accent else "",
                    accent_soft=soft_for(accent) if accent else "",
                    accent_text=text_for(accent) if accent else "",
                    description=row.public_description if row else "",
                    logo=images.get("logo"), cover=images.get("cover"))


PDF_LOGO_SIDE = 240


EMAIL_LOGO_SIDE = 96


@lru_cache(maxsize=32)
def _small_png(data: bytes, side: int) -> bytes:
    image = Image.open(io.BytesIO(data))
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def email_look(session: Session, tenant_id: int) -> tuple[str, bytes | None]:
    """The accent and logo of a tenant's emails, read together (one look-up, not one each).
    The logo is a small PNG sent inline with each message (cid:), since an email has no base URL
    to point at and clients block remote images by default; None without one."""
    current = branding_for(session, tenant_id)
    logo = _small_png(current.logo.data, EMAIL_LOGO_SIDE) if current.logo is not None else None
    return current.accent_text or DEFAULT_ACCENT, logo


def document_brand(session: Session, tenant_id: int) -> dict:
    """What an issued document keeps of the branding, frozen in its snapshot: the accent and a
    small copy of the logo as a data URI (a later logo change never alters an issued PDF)."""
    current = branding_for(session, tenant_id)
    logo = ""
    if current.logo is not None:
        image = Image.open(io.BytesIO(current.logo.data))
        image.thumbnail((PDF_LOGO_SIDE, PDF_LOGO_SIDE))
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        logo = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")
    return {"accent": current.accent or DEFAULT_ACCENT, "logo": logo}


def save_branding(session: Session, tenant_id: int, *, accent: str, description: str,
                  actor_user_id: int) -> None:
    """The accent colour ("" for ours) and the public description; commits."""
    accent = (accent or "").strip().lower()
    problems = {}
    if accent and not HEX_COLOUR.match(accent):
        problems["accent_color"] = "Choose a colour such as #7a3e9d."
    if len(description or "") > DESCRIPTION_MAX:
        problems["public_description"] = f"Use at most {DESCRIPTION_MAX} characters."
    if problems:
        raise ValidationFailed(problems)
    row = session.scalar(select(TenantBranding).where(TenantBranding.tenant_id == tenant_id))
    if row is None:
        row = TenantBranding(tenant_id=tenant_id)
        session.add(row)
    row.accent_color, row.public_description, row.updated_at = accent, (description or "").strip(), clock.now()
    audit.record(session, tenant_id, "branding.saved", actor="user", actor_user_id=actor_user_id, accent=accent)
    session.commit()


def _decode(kind: str, data: bytes) -> Image.Image:
    field = kind
    if not data:
        raise ValidationFailed({field: "Choose an image file."})
    if len(data) > LIMITS[kind]:
        raise ValidationFailed({field: f"The file is over {LIMITS[kind] // (1024 * 1024)} MB: "
                                       "choose a smaller image."})
    head = data[:512].lstrip().lower()
    if head.startswith(b"<") or b"<svg" in head:
        raise ValidationFailed({field: "SVG and other text files are not accepted (they can carry "
                                       "scripts): upload a PNG, JPEG or WebP image."})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_FORMATS:
                raise ValidationFailed({field: "Upload a PNG, JPEG or WebP image."})
            if image.width * image.height > MAX_PIXELS:
                raise ValidationFailed({field: "The image is too large: use one under 40 megapixels."})
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationFailed({field: "That file is not an image we can read: upload a PNG, JPEG "
                                       "or WebP image."}) from None
    return ImageOps.exif_transpose(image)


def check_images(uploads: dict[str, bytes]) -> None:
    """Every upload's problem at once (ValidationFailed naming each field), before any is stored."""
    problems: dict[str, str] = {}
    for kind, data in uploads.items():
        try:
            _decode(kind, data)
        except ValidationFailed as exc:
            problems.update(exc.fields)
    if problems:
        raise ValidationFailed(problems)


def store_image(session: Session, tenant_id: int, kind: str, data: bytes, *, actor_user_id: int) -> TenantImage:
    """Check, re-encode and store the tenant's logo or cover (replacing the previous); commits."""
    if kind not in LIMITS:
        raise ValueError(f"unknown image kind {kind!r}")
    image = _decode(kind, data)
    image.thumbnail((MAX_SIDE[kind], MAX_SIDE[kind]))
    out = io.BytesIO()
    if kind == "logo":
        image = image.convert("RGBA") if image.mode not in ("RGB", "RGBA") else image
        image.save(out, "PNG", optimize=True)
        content_type = "image/png"
    else:
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True, progressive=True)
        content_type = "image/jpeg"
    body = out.getvalue()
    session.execute(delete(TenantImage).where(TenantImage.tenant_id == tenant_id, TenantImage.kind == kind))
    row = TenantImage(tenant_id=tenant_id, kind=kind, content_type=content_type, data=body, size=len(body),
                      width=image.width, height=image.height, sha256=hashlib.sha256(body).hexdigest(),
                      updated_at=clock.now())
    session.add(row)
    audit.record(session, tenant_id, f"branding.{kind}_uploaded", actor="user", actor_user_id=actor_user_id,
                 size=len(body))
    session.commit()
    return row


def remove_image(session: Session, tenant_id: int, kind: str, *, actor_user_id: int) -> None:
    session.execute(delete(TenantImage).where(TenantImage.tenant_id == tenant_id, TenantImage.kind == kind))
    audit.record(session, tenant_id, f"branding.{kind}_removed", actor="user", actor_user_id=actor_user_id)
    session.commit()


def image(session: Session, tenant_id: int, kind: str, sha_prefix: str) -> TenantImage | None:
    """The current image if the URL's hash prefix names it (an old URL finds nothing)."""
    row = session.scalar(select(TenantImage).where(TenantImage.tenant_id == tenant_id, TenantImage.kind == kind))
    return row if row is not None and sha_prefix and row.sha256.startswith(sha_prefix) else None
