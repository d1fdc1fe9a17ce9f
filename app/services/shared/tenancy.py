"""Tenant isolation in one place: another tenant's row is "not found", exactly like a missing one."""
from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from app.services.shared.errors import NotFound

T = TypeVar("T")


def get_owned(session: Session, model: type[T], tenant_id: int, row_id: object) -> T:
    """The `model` row `row_id` if it belongs to `tenant_id`; NotFound (404) otherwise, so the
    existence of another tenant's records never leaks."""
    row = session.get(model, row_id) if row_id is not None else None
    if row is None or row.tenant_id != tenant_id:
        raise NotFound()
    return row
