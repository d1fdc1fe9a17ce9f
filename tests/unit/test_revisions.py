"""Which tenants a bulk statement changes, read from its WHERE clause or rows (the page cache's
revisions); a statement that names none moves every tenant's."""
from sqlalchemy import delete, insert, select, update

from app.models import Booking, Reminder, Tenant, User
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


def test_a_change_to_the_tenant_row_names_that_tenant_by_its_id():
    assert _scopes_of(update(Tenant).where(Tenant.id == 8).values(name="x"), {}) == {8}
    # Another table's id (here in a subquery) is not a tenant id.
    owner_tenant = select(User.tenant_id).where(User.id == 5).scalar_subquery()
    assert _scopes_of(update(Tenant).where(Tenant.id == owner_tenant).values(name="x"), {}) == {ALL_TENANTS}
    assert _scopes_of(update(Booking).where(Booking.id == 8).values(venue="x"), {}) == set()
