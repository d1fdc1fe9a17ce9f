"""The branding form: accent colour, public description, logo and cover photo."""
from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length

from app.blueprints.forms_common import Form
from app.services.accounts.branding import DESCRIPTION_MAX


class BrandingForm(Form):
    accent_color = StringField("Accent colour", render_kw={"type": "color"},
                               description="Buttons, links and headings on your booking page and emails.")
    use_default_accent = BooleanField("Use the MAIS purple instead")
    public_description = TextAreaField("Short description", validators=[Length(max=DESCRIPTION_MAX)],
                                       description="Shown under your name on your booking page.")
    logo = FileField("Logo", render_kw={"accept": "image/png,image/jpeg,image/webp"},
                     description="PNG, JPEG or WebP, up to 1 MB. Shown on your booking page, couples' "
                                 "pages, emails and PDF documents.")
    remove_logo = BooleanField("Remove the logo")
    cover = FileField("Cover photo", render_kw={"accept": "image/png,image/jpeg,image/webp"},
                      description="PNG, JPEG or WebP, up to 5 MB; wide photos look best.")
    remove_cover = BooleanField("Remove the cover photo")
