import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import ActionToken
from app.services.shared import clock, tokens
from app.services.shared.errors import InvalidLink


@pytest.fixture()
def tenant_id(tenant_a):
    return tenant_a.tenant_id


def test_only_the_sha256_of_the_token_is_stored(db_session, tenant_id):
    raw = tokens.issue(db_session, tenant_id, "password_reset", 1)
    db_session.commit()
    row = db_session.scalars(select(ActionToken)).one()
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (row.token_hash, str(row.payload))
    assert len(raw) == 43  # 32 random bytes, url-safe base64


def test_peek_never_consumes_and_consume_works_once(db_session, tenant_id):
    raw = tokens.issue(db_session, tenant_id, "booking_cancel", 7)
    db_session.commit()
    for _ in range(3):
        assert tokens.peek(db_session, "booking_cancel", raw, tenant_id).subject_id == 7
    assert tokens.consume(db_session, "booking_cancel", raw, tenant_id).used_at is not None
    db_session.commit()
    with pytest.raises(InvalidLink):
        tokens.consume(db_session, "booking_cancel", raw, tenant_id)
    with pytest.raises(InvalidLink):
        tokens.peek(db_session, "booking_cancel", raw, tenant_id)


def test_token_is_bound_to_purpose_and_tenant(db_session, tenant_id, tenant_b):
    raw = tokens.issue(db_session, tenant_id, "booking_cancel", 7)
    db_session.commit()
    with pytest.raises(InvalidLink):
        tokens.peek(db_session, "booking_reschedule", raw, tenant_id)
    with pytest.raises(InvalidLink):
        tokens.consume(db_session, "booking_cancel", raw, tenant_b.tenant_id)
    assert tokens.peek(db_session, "booking_cancel", raw, tenant_id)


def test_expired_token_is_refused(db_session, tenant_id):
    raw = tokens.issue(db_session, tenant_id, "password_reset", 1)
    db_session.commit()
    clock.advance(timedelta(minutes=59))
    assert tokens.peek(db_session, "password_reset", raw)
    clock.advance(timedelta(minutes=2))
    with pytest.raises(InvalidLink):
        tokens.consume(db_session, "password_reset", raw)


@pytest.mark.parametrize("raw", ["", "short", "x" * 43 + "y", "../../etc/passwd" + "a" * 27, None])
def test_malformed_tokens_are_invalid_links(db_session, raw):
    with pytest.raises(InvalidLink):
        tokens.peek(db_session, "password_reset", raw)


def test_purge_removes_expired_and_old_used_tokens_only(db_session, tenant_id):
    live = tokens.issue(db_session, tenant_id, "booking_manage", 1)
    used = tokens.issue(db_session, tenant_id, "booking_cancel", 1)
    short = tokens.issue(db_session, tenant_id, "password_reset", 1)
    db_session.commit()
    tokens.consume(db_session, "booking_cancel", used)
    db_session.commit()
    clock.advance(timedelta(days=2))
    assert tokens.purge(db_session) == 1  # the reset token expired; the used one is recent
    clock.advance(timedelta(days=5, hours=1))
    assert tokens.purge(db_session) == 2  # now the used one is 7+ days old, and live expired
    assert db_session.scalars(select(ActionToken)).all() == []
    del live, short
