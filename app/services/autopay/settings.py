"""A tenant's autopay settings: whether couples are offered autopay and the retry schedule."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AutopaySettings
from app.services.shared import audit, clock
from app.services.shared.errors import ValidationFailed

DEFAULT_RETRY_DAYS = (1, 3, 5)
MAX_RETRIES = 6


@dataclass(frozen=True)
class Settings:
    offered: bool
    retry_days: tuple[int, ...]  # days to wait before each retry of a declined charge

    @property
    def retry_text(self) -> str:
        return ", ".join(str(d) for d in self.retry_days)


def _row(session: Session, tenant_id: int) -> AutopaySettings | None:
    return session.scalar(select(AutopaySettings).where(AutopaySettings.tenant_id == tenant_id))


def _days(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def settings_for(session: Session, tenant_id: int) -> Settings:
    row = _row(session, tenant_id)
    if row is None:
        return Settings(offered=True, retry_days=DEFAULT_RETRY_DAYS)
    return Settings(offered=row.offered, retry_days=_days(row.retry_days))


def parse_retry_days(text: str) -> tuple[int, ...]:
    """"1, 3, 5" -> (1, 3, 5); ValidationFailed for anything else ("" = no retries)."""
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    if len(parts) > MAX_RETRIES or not all(p.isascii() and p.isdigit() and 1 <= int(p) <= 30 for p in parts):
        raise ValidationFailed({"retry_days": f"List up to {MAX_RETRIES} waits of 1 to 30 days, "
                                              "separated by commas (for example 1, 3, 5)."})
    return tuple(int(p) for p in parts)


def update(session: Session, tenant_id: int, actor_user_id: int, *, offered: bool,
           retry_days_text: str) -> Settings:
    """Save the tenant's choice; bad input changes nothing. Commits."""
    days = parse_retry_days(retry_days_text)
    row = _row(session, tenant_id)
    if row is None:
        row = AutopaySettings(tenant_id=tenant_id)
        session.add(row)
    row.offered = offered
    row.retry_days = ",".join(str(d) for d in days)
    row.updated_at = clock.now()
    audit.record(session, tenant_id, "autopay.settings_changed", actor="user",
                 actor_user_id=actor_user_id, subject_type="tenant", subject_id=tenant_id,
                 offered=offered, retry_days=row.retry_days)
    session.commit()
    return Settings(offered=offered, retry_days=days)
