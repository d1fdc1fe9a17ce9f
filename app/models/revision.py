"""A data revision per tenant: see app/services/shared/revisions.py."""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class PageRevision(Base):
    """`scope_id` is a tenant's id, or 0 for a change whose tenant a statement did not name.
    `revision` starts at a random number (a restored or recreated database never repeats the
    revisions of the one before) and moves by one in every transaction that changes the scope."""

    __tablename__ = "page_revisions"

    scope_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger)
