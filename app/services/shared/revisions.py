"""Data revisions: a counter per tenant that moves in the same transaction as any change to that
tenant's rows, so that anything computed from the tenant's data at revision R is known to be
current for as long as R is (the page cache, app/web/page_cache.py, keys pages by it).

Every ORM session is watched (`install`, once per process):
- objects flushed (added, changed, deleted) name their tenant by their `tenant_id` (a Tenant by
  its id): every table has one (DESIGN.md's tenant rule);
- UPDATE/DELETE/INSERT statements run through a session name theirs by `tenant_id = ...` or
  `tenant_id IN (...)` in their WHERE clause or by the rows they insert; one that names none,
  and any textual statement that is not a read, moves scope 0, which every key includes, so the
  change is never missed, only cached pages of every tenant are rendered again;
- just before the commit, the touched scopes' counters move by one in that same transaction
  (in scope order, so two transactions never wait on each other's counters).
So a reader that reads the revision first and the data after may store newer data under an older
revision (harmless: that revision is already past), never older data under a newer one.
Writes that bypass the ORM session (raw DBAPI connections) are not seen; the app has none.
"""
from __future__ import annotations

import secrets

from sqlalchemy import Select, bindparam, event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, ColumnElement
from sqlalchemy.sql.visitors import iterate

from app.models import Base, PageRevision, Tenant

ALL_TENANTS = 0
TENANTS = Tenant.__tablename__
# Rows no cached page shows: a session's last-seen time moves every few minutes of every visit;
# the outbox's rows move several times an email (claimed, sent, retried), and only the dev
# mailbox and the notification jobs read them. A page that comes to show one of these tables
# must take it out of this list.
UNWATCHED_TABLES = frozenset({"user_sessions", "page_revisions", "outbound_emails", "email_attachments"})
_TOUCHED = "mais_touched_scopes"
_TEXTUAL = "mais_textual_write"
_READ = "mais_revisions_read"  # tenant id -> revisions read in the open transaction
_installed = False
# Built once: it runs on every request for a stored page.
_CURRENT = select(PageRevision.scope_id, PageRevision.revision).where(
    PageRevision.scope_id.in_(bindparam("scopes", expanding=True)))


def install() -> None:
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_execute)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_transaction_end", _end_of_transaction)
    _installed = True


def current(session: Session, tenant_id: int) -> tuple[int, int] | None:
    """(all tenants' revision, this tenant's), or None while the tenant has none yet: read with
    the tenant earlier in this transaction (`with_tenant`), else now."""
    if tenant_id in session.info.get(_READ, {}):
        return session.info[_READ][tenant_id]
    found = dict(session.execute(_CURRENT, {"scopes": [ALL_TENANTS, tenant_id]}).all())
    return _kept(session, tenant_id, found.get(ALL_TENANTS, 0), found.get(tenant_id))


def with_tenant(statement: Select, tenant_id) -> Select:
    """`statement` with the revisions of the tenant whose id is the column `tenant_id` as its two
    last columns, so that a request's first statement (its session, or its tenant by slug) reads
    them too: on PostgreSQL a stored page then costs one round trip fewer. Pass each row's to
    `remember`."""
    mine, everyone = aliased(PageRevision), aliased(PageRevision)
    return (statement.add_columns(mine.revision, everyone.revision)
            .outerjoin(mine, mine.scope_id == tenant_id)
            .outerjoin(everyone, everyone.scope_id == ALL_TENANTS))


def remember(session: Session, tenant_id: int, mine: int | None, everyone: int | None) -> None:
    _kept(session, tenant_id, everyone or 0, mine)


def _kept(session: Session, tenant_id: int, everyone: int, mine: int | None) -> tuple[int, int] | None:
    revision = None if mine is None else (everyone, mine)
    session.info.setdefault(_READ, {})[tenant_id] = revision
    return revision


def touched(session: Session) -> set[int]:
    """The scopes this session changed in its open transaction (not yet committed)."""
    return session.info.get(_TOUCHED) or set()


def _mark(session: Session, scopes) -> None:
    session.info.setdefault(_TOUCHED, set()).update(scopes)


def _after_flush(session: Session, _context) -> None:
    scopes = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, Base) or obj.__table__.name in UNWATCHED_TABLES:
            continue  # another model's session (a library's, a test's) is none of ours
        scope = obj.id if isinstance(obj, Tenant) else getattr(obj, "tenant_id", None)
        scopes.add(scope if isinstance(scope, int) else ALL_TENANTS)
    if scopes:
        _mark(session, scopes)


def _on_execute(state) -> None:
    statement = state.statement
    if state.is_select:
        return
    if getattr(statement, "_is_textual", False):
        if statement.text.lstrip()[:6].upper() not in ("SELECT", "PRAGMA"):
            _mark(state.session, {ALL_TENANTS})
            state.session.info[_TEXTUAL] = True
        return
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(statement, "table", None)
    if table is not None and (table.name in UNWATCHED_TABLES or table.name not in Base.metadata.tables):
        return
    _mark(state.session, _scopes_of(statement, state.parameters) or {ALL_TENANTS})


def _scopes_of(statement, parameters) -> set[int]:
    if statement.is_insert:
        rows = parameters if isinstance(parameters, list) else [parameters or {}]
        values = [row.get("tenant_id") for row in rows]
        if rows and all(isinstance(v, int) for v in values):
            return set(values)
        return set()
    where = getattr(statement, "whereclause", None)
    if where is None:
        return set()
    table = getattr(statement, "table", None)
    return _tenant_ids_in(where, "id" if getattr(table, "name", None) == TENANTS else "tenant_id")


def _tenant_ids_in(clause: ColumnElement, column: str = "tenant_id") -> set[int]:
    """Tenant ids a WHERE clause pins: `tenant_id = :v` or `tenant_id IN (...)` anywhere in it
    (an OR of two of them names both, since each is collected); `column` is `id` for the
    tenants table itself (then only the tenants table's own `id`, not a subquery's)."""
    found: set[int] = set()
    for element in iterate(clause):
        if not isinstance(element, BinaryExpression) or getattr(element.left, "name", None) != column:
            continue
        if column == "id" and getattr(getattr(element.left, "table", None), "name", None) != TENANTS:
            continue
        right = element.right
        if element.operator is operators.eq and isinstance(right, BindParameter) and isinstance(right.value, int):
            found.add(right.value)
        elif element.operator is operators.in_op and isinstance(right, BindParameter) and right.expanding:
            values = right.value or []
            if all(isinstance(v, int) for v in values):
                found.update(values)
            else:
                found.add(ALL_TENANTS)
        else:
            found.add(ALL_TENANTS)  # tenant_id compared some other way: do not guess
    return found


def _before_commit(session: Session) -> None:
    session.flush()  # the commit's own flush would come after this hook
    scopes = session.info.pop(_TOUCHED, None)
    textual = session.info.pop(_TEXTUAL, False)
    if not scopes:
        return
    if textual and not inspect(session.connection()).has_table(PageRevision.__tablename__):
        return  # SQL typed by hand on a schema from before page revisions (migration tests)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # One statement; rows in scope order, the order every transaction locks them in: no deadlocks.
    statement = insert(PageRevision).values([{"scope_id": scope, "revision": secrets.randbits(62)}
                                             for scope in sorted(scopes)])
    session.execute(statement.on_conflict_do_update(
        index_elements=[PageRevision.scope_id], set_={"revision": PageRevision.revision + 1}))


def _end_of_transaction(session: Session, transaction) -> None:
    """Committed or rolled back: what the transaction read and changed is forgotten (a savepoint's
    end keeps it: the outer transaction may still commit)."""
    if transaction.parent is None:
        for key in (_READ, _TOUCHED, _TEXTUAL):
            session.info.pop(key, None)
