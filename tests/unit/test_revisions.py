"""Which tenants a bulk statement changes, read from its WHERE clause or rows (the page cache's
revisions); a statement that names none moves every tenant's."""
from sqlalchemy import delete, insert, update

from app.models import Booking, Reminder
from app.services.shared.revisions import ALL_TENANTS, _scopes_of


def test_a_tenant_named_by_equality_or_in_is_the_scope():
    assert _scopes_of(update(Booking).where(Booking.tenant_id == 7, Booking.id == 3).values(venue="x"), {}) == {7}
    assert _scopes_of(delete(Reminder).where(Reminder.tenant_id.in_([4, 9])), {}) == {4, 9}
    assert _scopes_of(update(Booking).where((Booking.tenant_id == 1) | (Booking.tenant_id == 2))
                      .values(venue="x"), {}) == {1, 2}


def test_a_statement_that_names_no_tenant_or_compares_it_otherwise_moves_every_tenant():
    assert _scopes_of(update(Booking).where(Booking.id == 3).values(venue="x"), {}) == set()
    assert _scopes_of(update(Booking).where(Booking.tenant_id > 3).values(venue="x"), {}) == {ALL_TENANTS}
    assert _scopes_of(update(Booking).values(venue="x"), {}) == set()


def test_inserted_rows_name_their_tenants():
    assert _scopes_of(insert(Booking), [{"tenant_id": 5}, {"tenant_id": 6}]) == {5, 6}
    assert _scopes_of(insert(Booking), [{"tenant_id": 5}, {"venue": "no tenant"}]) == set()
