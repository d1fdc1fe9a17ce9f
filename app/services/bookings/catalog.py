"""The tenant's catalog: packages and add-ons.

Invariants: prices are integers in the minor unit of the tenant's currency, stored with that
currency; a record of another tenant is NotFound; nothing is deleted (bookings point at it), a
package or add-on is deactivated instead and disappears from the public page.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.models import AddOn, Package
from app.services.accounts import tenants
from app.services.shared import audit, clock
from app.services.shared.errors import ValidationFailed
from app.services.shared.money import AmountError, parse_amount
from app.services.shared.tenancy import get_owned

TITLE_MAX = 120
DESCRIPTION_MAX = 2000


def _check_text(title: str, description: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not title.strip():
        problems["title"] = "Enter a title."
    elif len(title.strip()) > TITLE_MAX:
        problems["title"] = f"Use at most {TITLE_MAX} characters."
    if len(description) > DESCRIPTION_MAX:
        problems["description"] = f"Use at most {DESCRIPTION_MAX} characters."
    return problems


def _parse_price(price_text: str, tenant, problems: dict[str, str]) -> int:
    """The price typed in the tenant's locale, in the tenant's currency."""
    try:
        return parse_amount(price_text, tenant.currency, tenant.locale)
    except AmountError as exc:
        problems["price"] = str(exc)
        return 0


def packages(session: Session, tenant_id: int, *, active_only: bool = False) -> list[Package]:
    query = select(Package).where(Package.tenant_id == tenant_id)
    if active_only:
        query = query.where(Package.active.is_(True))
    return list(session.scalars(query.order_by(Package.price_minor, Package.id)))


def add_ons(session: Session, tenant_id: int, *, active_only: bool = False) -> list[AddOn]:
    query = select(AddOn).where(AddOn.tenant_id == tenant_id)
    if active_only:
        query = query.where(AddOn.active.is_(True))
    return list(session.scalars(query.order_by(AddOn.package_id.is_not(None), AddOn.title, AddOn.id)))


def add_ons_for(session: Session, tenant_id: int, package: Package) -> list[AddOn]:
    """The active add-ons a booking of `package` can have: its own and the tenant-wide ones, in
    its currency (the same rule `bookable_selection` enforces)."""
    return list(session.scalars(
        select(AddOn).where(AddOn.tenant_id == tenant_id, AddOn.active.is_(True),
                            or_(AddOn.package_id.is_(None), AddOn.package_id == package.id),
                            AddOn.currency == package.currency).order_by(AddOn.id)))


def get_package(session: Session, tenant_id: int, package_id: int) -> Package:
    package = get_owned(session, Package, tenant_id, package_id)
    return package


def get_add_on(session: Session, tenant_id: int, add_on_id: int) -> AddOn:
    add_on = get_owned(session, AddOn, tenant_id, add_on_id)
    return add_on


def _stamp(session: Session, row, tenant, title: str, description: str, price: int):
    """Write a package's or add-on's checked fields (a new row starts active); flushes. The
    price is in the tenant's currency, which the row takes with it."""
    now = clock.now()
    if row.id is None:
        row.active, row.created_at = True, now
        session.add(row)
    row.title, row.description = title.strip(), description.strip()
    row.price_minor, row.currency, row.updated_at = price, tenant.currency, now
    session.flush()
    return row


def save_package(session: Session, tenant_id: int, actor_user_id: int, *, title: str, description: str,
                 price_text: str, package_id: int | None = None) -> Package:
    """Create (package_id None) or edit a package; the price is parsed in the tenant's currency."""
    tenant = tenants.get_tenant(session, tenant_id)
    package = get_package(session, tenant_id, package_id) if package_id is not None else None
    problems = _check_text(title, description)
    price = _parse_price(price_text, tenant, problems)
    if problems:
        raise ValidationFailed(problems)
    package = _stamp(session, package or Package(tenant_id=tenant_id), tenant, title, description, price)
    audit.record(session, tenant_id, "package.saved", actor="user", actor_user_id=actor_user_id,
                 subject_type="package", subject_id=package.id, title=package.title, price_minor=price)
    session.commit()
    return package


def save_add_on(session: Session, tenant_id: int, actor_user_id: int, *, title: str, description: str,
                price_text: str, package_id: int | None, add_on_id: int | None = None) -> AddOn:
    """Create or edit an add-on, tenant-wide (package_id None) or for one of this tenant's packages."""
    tenant = tenants.get_tenant(session, tenant_id)
    add_on = get_add_on(session, tenant_id, add_on_id) if add_on_id is not None else None
    problems = _check_text(title, description)
    price = _parse_price(price_text, tenant, problems)
    if package_id is not None:
        # The form passes what it could not read as an id through, for this message; only an
        # id in range reaches the database (PostgreSQL refuses to compare text with integers).
        known = isinstance(package_id, int) and 0 < package_id < 2**31
        package = session.get(Package, package_id) if known else None
        if package is None or package.tenant_id != tenant_id:
            problems["package_id"] = "Choose one of your packages, or all packages."
    if problems:
        raise ValidationFailed(problems)
    add_on = add_on or AddOn(tenant_id=tenant_id)
    add_on.package_id = package_id
    add_on = _stamp(session, add_on, tenant, title, description, price)
    audit.record(session, tenant_id, "add_on.saved", actor="user", actor_user_id=actor_user_id,
                 subject_type="add_on", subject_id=add_on.id, title=add_on.title, price_minor=price)
    session.commit()
    return add_on


def _set_active(session: Session, tenant_id: int, actor_user_id: int, item: Package | AddOn,
                kind: str, active: bool) -> None:
    item.active, item.updated_at = active, clock.now()
    audit.record(session, tenant_id, f"{kind}.{'activated' if active else 'deactivated'}",
                 actor="user", actor_user_id=actor_user_id, subject_type=kind, subject_id=item.id)
    session.commit()


def set_package_active(session: Session, tenant_id: int, actor_user_id: int, package_id: int,
                       active: bool) -> Package:
    package = get_package(session, tenant_id, package_id)
    _set_active(session, tenant_id, actor_user_id, package, "package", active)
    return package


def set_add_on_active(session: Session, tenant_id: int, actor_user_id: int, add_on_id: int,
                      active: bool) -> AddOn:
    add_on = get_add_on(session, tenant_id, add_on_id)
    _set_active(session, tenant_id, actor_user_id, add_on, "add_on", active)
    return add_on


ID_LIMIT = 2**31 - 1  # ids are 32-bit columns on PostgreSQL; SQLite refuses past 64 bits


def _row_id(raw: object) -> int | None:
    """A submitted id as an int, or None when it cannot name a row (not a number, or out of
    the range any id column holds, which the database would refuse with an error)."""
    try:
        value = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return value if 0 < value <= ID_LIMIT else None


def bookable_selection(session: Session, tenant_id: int, package_id: object,
                       add_on_ids: Sequence[object]) -> tuple[Package | None, list[AddOn], dict[str, str]]:
    """Resolve ids a couple submitted to this tenant's active package and add-ons.

    Unknown ids, another tenant's ids, inactive ones, add-ons of another package and add-ons in
    another currency than the package are all reported the same way, as field errors, so nothing
    about other tenants leaks.
    """
    problems: dict[str, str] = {}
    package = None
    pid = _row_id(package_id)
    if pid is not None:
        package = session.scalars(select(Package).where(
            Package.id == pid, Package.tenant_id == tenant_id, Package.active.is_(True))).first()
    if package is None:
        problems["package_id"] = "Choose one of the packages shown."
    wanted: set[int] = set()
    for raw in add_on_ids:
        add_on_id = _row_id(raw)
        if add_on_id is None:
            problems["add_on_ids"] = "Choose add-ons from the list shown."
        else:
            wanted.add(add_on_id)
    chosen: list[AddOn] = []
    if wanted:
        query = select(AddOn).where(AddOn.id.in_(wanted), AddOn.tenant_id == tenant_id,
                                    AddOn.active.is_(True))
        if package is not None:
            # An add-on priced before the tenant changed currency cannot be added to this total.
            query = query.where(or_(AddOn.package_id.is_(None), AddOn.package_id == package.id),
                                AddOn.currency == package.currency)
        chosen = list(session.scalars(query.order_by(AddOn.id)))
        if len(chosen) != len(wanted):
            problems["add_on_ids"] = "Choose add-ons from the list shown for your package."
    return package, chosen, problems
