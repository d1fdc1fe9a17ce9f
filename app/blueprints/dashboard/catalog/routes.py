"""Dashboard: packages and add-ons, created, edited and deactivated inline with htmx."""
from __future__ import annotations

from flask import g, redirect, render_template, url_for
from flask_login import current_user

from app.blueprints.dashboard.catalog.forms import AddOnForm, PackageForm
from app.blueprints.dashboard.scope import bp
from app.blueprints.forms_common import ToggleForm, apply_errors
from app.extensions import db, htmx
from app.services.bookings import catalog
from app.services.shared.errors import ValidationFailed
from app.services.shared.money import amount_to_form_text


def _context(**extra) -> dict:
    tenant = g.tenant
    packages = catalog.packages(db.session, tenant.id)
    return {"tenant": tenant, "packages": packages, "titles": {p.id: p.title for p in packages},
            "add_ons": catalog.add_ons(db.session, tenant.id), "toggle": ToggleForm(), **extra}


def _add_on_form(packages, **kwargs) -> AddOnForm:
    form = AddOnForm(**kwargs)
    form.package_id.choices = [("", "Any package")] + [(str(p.id), p.title) for p in packages]
    return form


def _package_id(form: AddOnForm) -> int | None | str:
    raw = form.package_id.data or ""
    return int(raw) if raw.isdigit() else (None if raw == "" else raw)



def _edit(form, save, kind: str, **row):
    """An edit form of the catalog: save when valid (the service's field errors go back on the
    form), then the changed row; otherwise the form again, 400 when it has errors."""
    if form.validate_on_submit():
        try:
            save()
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            return _row_or_catalog(f"dashboard/catalog/_{kind}_row.html", **row)
    return render_template(f"dashboard/catalog/_{kind}_edit.html", form=form, **row, **_context()), (
        400 if form.errors else 200)


def _toggle(item_id: int, get, set_active, kind: str, name: str):
    """(De)activate a package or add-on (404 for another tenant's), then show its row."""
    get(db.session, g.tenant.id, item_id)
    form = ToggleForm()
    if form.validate_on_submit():
        set_active(db.session, g.tenant.id, current_user.id, item_id, form.active.data == "1")
    return _row_or_catalog(f"dashboard/catalog/_{kind}_row.html",
                           **{name: get(db.session, g.tenant.id, item_id)})


def _row_or_catalog(template: str, **values):
    """htmx swaps the changed row in place; a plain form post goes back to the catalog."""
    if not htmx:
        return redirect(url_for("dashboard.catalog_page"))
    return render_template(template, **values, **_context())

@bp.get("/catalog")
def catalog_page():
    context = _context()
    return render_template("dashboard/catalog/index.html", package_form=PackageForm(),
                           add_on_form=_add_on_form(context["packages"]), **context)


@bp.post("/catalog/packages")
def package_create():
    form = PackageForm()
    status = 200
    if form.validate_on_submit():
        try:
            catalog.save_package(db.session, g.tenant.id, current_user.id, title=form.title.data,
                                 description=form.description.data or "", price_text=form.price.data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            form = PackageForm(formdata=None)
    if form.errors:
        status = 400
    if not htmx:
        return redirect(url_for("dashboard.catalog_page")) if status == 200 else (
            render_template("dashboard/catalog/index.html", package_form=form,
                            add_on_form=_add_on_form(catalog.packages(db.session, g.tenant.id)),
                            **_context()), status)
    return render_template("dashboard/catalog/_packages.html", package_form=form, **_context()), status


@bp.route("/catalog/packages/<int:package_id>", methods=["GET"])
def package_row(package_id: int):
    package = catalog.get_package(db.session, g.tenant.id, package_id)
    return render_template("dashboard/catalog/_package_row.html", p=package, **_context())


@bp.route("/catalog/packages/<int:package_id>/edit", methods=["GET", "POST"])
def package_edit(package_id: int):
    package = catalog.get_package(db.session, g.tenant.id, package_id)
    form = PackageForm(data={"title": package.title, "description": package.description,
                             "price": amount_to_form_text(package.price_minor, package.currency, g.tenant.locale)})
    return _edit(form, lambda: catalog.save_package(
        db.session, g.tenant.id, current_user.id, title=form.title.data,
        description=form.description.data or "", price_text=form.price.data, package_id=package_id),
        "package", p=package)


@bp.post("/catalog/packages/<int:package_id>/active")
def package_active(package_id: int):
    return _toggle(package_id, catalog.get_package, catalog.set_package_active, "package", "p")


@bp.post("/catalog/add-ons")
def add_on_create():
    packages = catalog.packages(db.session, g.tenant.id)
    form = _add_on_form(packages)
    if form.validate_on_submit():
        try:
            catalog.save_add_on(db.session, g.tenant.id, current_user.id, title=form.title.data,
                                description=form.description.data or "", price_text=form.price.data,
                                package_id=_package_id(form))
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            form = _add_on_form(packages, formdata=None)
    status = 400 if form.errors else 200
    if not htmx:
        return redirect(url_for("dashboard.catalog_page")) if status == 200 else (
            render_template("dashboard/catalog/index.html", package_form=PackageForm(formdata=None),
                            add_on_form=form, **_context()), status)
    return render_template("dashboard/catalog/_add_ons.html", add_on_form=form, **_context()), status


@bp.get("/catalog/add-ons/<int:add_on_id>")
def add_on_row(add_on_id: int):
    add_on = catalog.get_add_on(db.session, g.tenant.id, add_on_id)
    return render_template("dashboard/catalog/_add_on_row.html", a=add_on, **_context())


@bp.route("/catalog/add-ons/<int:add_on_id>/edit", methods=["GET", "POST"])
def add_on_edit(add_on_id: int):
    add_on = catalog.get_add_on(db.session, g.tenant.id, add_on_id)
    packages = catalog.packages(db.session, g.tenant.id)
    form = _add_on_form(packages, data={
        "title": add_on.title, "description": add_on.description,
        "price": amount_to_form_text(add_on.price_minor, add_on.currency, g.tenant.locale),
        "package_id": str(add_on.package_id or "")})
    return _edit(form, lambda: catalog.save_add_on(
        db.session, g.tenant.id, current_user.id, title=form.title.data,
        description=form.description.data or "", price_text=form.price.data,
        package_id=_package_id(form), add_on_id=add_on_id),
        "add_on", a=add_on)


@bp.post("/catalog/add-ons/<int:add_on_id>/active")
def add_on_active(add_on_id: int):
    return _toggle(add_on_id, catalog.get_add_on, catalog.set_add_on_active, "add_on", "a")
