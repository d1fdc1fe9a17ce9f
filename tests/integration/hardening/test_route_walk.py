"""Every route in url_map, with hostile path, query and form values: never a 500.

Runs on SQLite and on PostgreSQL (where NUL, out-of-range integers and bad dates are database
errors, not just odd data). Every POST carries the session's CSRF token and rate limits are off during the
walk, so hostile form values reach the forms and services instead of stopping at the door.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.fixtures.accounts import login
from tests.fixtures.portal import csrf_from
from tests.integration.bookings.helpers import make_catalog
from tests.integration.invoices.helpers import confirmed_booking

ROOT = Path(__file__).resolve().parents[3]
# Raw URL text: malformed percent-encoding is sent as is.
PATH_VALUES = ["9" * 40, "-1", "0", "%00", "%0A", "%1F", "a" * 3000, "%E0%A4%A", "%", "%ZZ",
               quote("山田"), "..%2F..%2Fetc%2Fpasswd"]
FIELD_VALUES = ["9" * 400, "-1", "\x00", "a\r\nb", "\x1f\x7f", "a" * 20000, "1e309", "NaN",
                "2030-02-31", "25:61", "山田 💍", "<script>x</script>", ""]
RAW_QUERY_VALUES = ["%E0%A4%A", "%", "%ZZ", "%00"]


def _names(pattern: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "app").rglob("*.py"):
        found |= set(re.findall(pattern, path.read_text()))
    return found


def _form_fields() -> set[str]:
    import importlib
    import pkgutil

    import app.blueprints as blueprints
    from app.blueprints.forms_common import Form

    for module in pkgutil.walk_packages(blueprints.__path__, "app.blueprints."):
        importlib.import_module(module.name)
    names: set[str] = set()
    stack = list(Form.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        names |= {k for k, v in vars(cls).items() if hasattr(v, "field_class")}
    return names


@pytest.fixture()
def walker(app, tenant_a, payments_sim):
    make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    confirmed_booking(app, tenant_a, 1)
    client = app.test_client()
    login(client, tenant_a.email)
    from app.extensions import limiter

    client.csrf = csrf_from(client.get("/auth/account").get_data(as_text=True))
    limiter.enabled = False
    yield client
    limiter.enabled = True


def _path(rule, hostile_arg: str | None, value: str) -> str:
    def fill(match):
        name = match.group(1).split(":")[-1]
        if name == hostile_arg:
            return value
        if name == "slug":
            return "alpha"
        if name == "action":
            return "enable"
        if name == "filename":
            return "css/app.css"
        return "1" if ("int:" in match.group(1)) else "x" * 43
    return re.sub(r"<([^>]+)>", fill, rule.rule)


def _send(client, method: str, url: str, data=None):
    try:
        if method == "GET":
            return client.get(url).status_code
        return client.post(url, data={**(data or {}), "csrf_token": client.csrf},
                           headers={"X-CSRFToken": client.csrf}).status_code
    except Exception as exc:  # a view that raises past the error handlers is a failure too
        return f"raised {type(exc).__name__}: {exc}"


def test_no_route_answers_500_to_hostile_input(app, walker, caplog):
    query_names = sorted(_names(r'request\.args\.get(?:list)?\("([a-z_]+)"') | {"q", "next"})
    form_names = sorted(_form_fields() | _names(r'request\.form\.get(?:list)?\("([a-z_]+)"'))
    failures = []
    # Ending one's own session would log the walker out (tested in tests/integration/auth).
    rules = [r for r in app.url_map.iter_rules()
             if r.endpoint not in ("auth.logout", "auth.end_session", "auth.end_other_sessions")]
    assert len(rules) > 60
    for rule in rules:
        methods = sorted(rule.methods & {"GET", "POST"})
        for arg in rule.arguments:
            for value in PATH_VALUES:
                url = _path(rule, arg, value)
                for method in methods:
                    status = _send(walker, method, url)
                    if status == 500 or isinstance(status, str):
                        failures.append((method, url[:120], status))
        base = _path(rule, None, "")
        for value in FIELD_VALUES + RAW_QUERY_VALUES:
            raw = value in RAW_QUERY_VALUES
            query = "&".join(f"{n}={value if raw else quote(value)}" for n in query_names)
            if "GET" in methods:
                status = _send(walker, "GET", f"{base}?{query}")
                if status == 500 or isinstance(status, str):
                    failures.append(("GET", f"{base}?…={value[:20]!r}", status))
            if "POST" in methods and not raw:
                status = _send(walker, "POST", base, {n: value for n in form_names})
                if status == 500 or isinstance(status, str):
                    failures.append(("POST", f"{base} fields={value[:20]!r}", status))
        # Still logged in: otherwise the dashboard routes would only ever answer a redirect.
        assert walker.get("/dashboard/").status_code == 200, rule.rule
    assert failures == [], "\n".join(map(str, failures))
    # On SQLite a GET reads without the write lock unless its view is marked @writes
    # (app/sqlite.py): a GET that writes unmarked would fail under load, so none may.
    unmarked = sorted({r.getMessage() for r in caplog.records if "without @writes" in r.getMessage()})
    assert unmarked == []
