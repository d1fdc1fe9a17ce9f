"""Append-only audit trail."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import AuditEvent
from app.services.shared import clock


def record(
    session: Session,
    tenant_id: int,
    action: str,
    *,
    actor: str = "system",
    actor_user_id: int | None = None,
    subject_type: str = "",
    subject_id: int | None = None,
    **details: object,
) -> None:
    session.add(
        AuditEvent(
            tenant_id=tenant_id,
            actor=actor,
            actor_user_id=actor_user_id,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            details=details,
            created_at=clock.now(),
        )
    )
