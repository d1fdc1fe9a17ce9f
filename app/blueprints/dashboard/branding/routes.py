"""Dashboard: the business's branding (accent colour, description, logo, cover photo)."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.dashboard.branding.forms import BrandingForm
from app.blueprints.dashboard.scope import bp, owner_required
from app.blueprints.forms_common import apply_errors
from app.extensions import db
from app.services.accounts import branding
from app.services.shared.errors import ValidationFailed

REQUEST_LIMIT = 7 * 1024 * 1024  # both images at their limits, and the form


@bp.route("/settings/branding", methods=["GET", "POST"])
@owner_required
def branding_settings():
    request.max_content_length = REQUEST_LIMIT
    current = branding.branding_for(db.session, g.tenant.id)
    form = BrandingForm(data={"accent_color": current.accent or "#7a3e9d",
                              "public_description": current.description,
                              "use_default_accent": not current.accent})
    if request.method == "POST":
        form = BrandingForm()
    if form.validate_on_submit():
        uploads = {kind: getattr(form, kind).data.read() for kind in ("logo", "cover")
                   if getattr(form, kind).data and getattr(form, kind).data.filename
                   and not getattr(form, f"remove_{kind}").data}
        try:
            branding.check_images(uploads)  # nothing is saved when an image is refused
            branding.save_branding(db.session, g.tenant.id, actor_user_id=current_user.id,
                                   accent="" if form.use_default_accent.data else form.accent_color.data,
                                   description=form.public_description.data or "")
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            for kind in ("logo", "cover"):
                if getattr(form, f"remove_{kind}").data:
                    branding.remove_image(db.session, g.tenant.id, kind, actor_user_id=current_user.id)
                elif kind in uploads:
                    branding.store_image(db.session, g.tenant.id, kind, uploads[kind],
                                         actor_user_id=current_user.id)
            flash("Branding saved. Your booking page, couples' pages and emails use it now.", "success")
            return redirect(url_for("dashboard.branding_settings"))
    return render_template("dashboard/settings/branding.html", form=form, current=current), (
        400 if form.errors or form.form_errors else 200)
