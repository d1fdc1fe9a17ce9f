import re

import pytest

from app.extensions import csrf


def test_security_headers_on_every_page(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "https://js.stripe.com" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # only in production


def test_hsts_in_production(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAIS_ENV", "production")
    assert "max-age=" in client.get("/auth/login").headers["Strict-Transport-Security"]


def test_404_is_a_page_and_an_htmx_fragment(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "<html" in page.get_data(as_text=True)
    fragment = client.get("/no/such/page", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 404 and "<html" not in body and 'data-status="404"' in body


def test_405_page(client):
    response = client.get("/auth/logout")
    assert response.status_code == 405 and 'data-status="405"' in response.get_data(as_text=True)


def test_403_for_staff_on_owner_pages(app, db_session, tenant_a):
    from app.services.shared import tokens
    from tests.fixtures.portal import post_form

    raw = tokens.issue(db_session, tenant_a.tenant_id, "staff_invite", None, {"email": "s@x.example", "role": "staff"})
    db_session.commit()
    c = app.test_client()
    post_form(c, f"/auth/invite/{raw}", {"name": "S", "password": "s-password-123"})
    response = c.get("/dashboard/settings", headers={"HX-Request": "true"})
    assert response.status_code == 403 and "<html" not in response.get_data(as_text=True)


def test_500_rolls_back_and_shows_a_page_without_details(app, client, monkeypatch):
    from app.blueprints.public import routes

    def boom():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(routes.health, "database_ok", lambda session: boom())
    response = client.get("/healthz")
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and "secret internals" not in body and "went wrong" in body


def sample_value(name: str) -> str:
    if name == "slug":
        return "alpha"  # tenant_a: an unknown tenant would 404 before the CSRF check
    if name == "token":
        return "T" * 43
    return "1" if "id" in name else "x"


def test_every_post_route_refuses_a_request_without_csrf_token(app, owner_client):
    exempt = {view for view in csrf._exempt_views}
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in ("static",):
            continue
        view = app.view_functions[rule.endpoint]
        if f"{view.__module__}.{view.__name__}" in exempt or rule.rule.startswith("/webhooks"):
            continue
        url = re.sub(r"<any\(([^,)]+)[^>]*>", lambda m: m.group(1).strip(), rule.rule)
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: sample_value(m.group(1)), url)
        response = owner_client.post(url, data={"anything": "1"})
        assert response.status_code == 400, (rule.rule, response.status_code)
        checked += 1
    assert checked >= 6


def test_dashboard_needs_login(client):
    response = client.get("/dashboard/settings")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_dev_mailbox_lists_messages_with_clickable_links(app, client, tenant_a, db_session):
    from app.services.email import outbox as email

    email.queue_email(db_session, tenant_a.tenant_id, to="c@x.example", kind="password_changed",
                      subject="Linky <b>", context={"user": {"name": "C", "email": "c@x.example"},
                                                    "login_url": "http://127.0.0.1/auth/login?a=1&b=2",
                                                    "forgot_url": "http://127.0.0.1/auth/forgot"})
    db_session.commit()
    listing = client.get("/dev/mailbox").get_data(as_text=True)
    assert "Linky &lt;b&gt;" in listing
    message_url = re.search(r'href="(/dev/mailbox/\d+)"', listing).group(1)
    message = client.get(message_url).get_data(as_text=True)
    assert '<a href="http://127.0.0.1/auth/login?a=1&amp;b=2">' in message


def test_no_dev_mailbox_in_production(tmp_path, monkeypatch):
    from app import create_app

    monkeypatch.setenv("MAIS_INSTANCE_PATH", str(tmp_path))
    prod = create_app({"DEV_MAILBOX": False, "MAIS_ENV": "production"})
    assert prod.test_client().get("/dev/mailbox").status_code == 404


@pytest.mark.parametrize("path", ["/auth/reset/" + "A" * 43, "/auth/invite/" + "B" * 43, "/auth/reset/short"])
def test_unknown_links_get_the_friendly_page(client, path):
    response = client.get(path)
    assert response.status_code == 410
    assert "Email me a fresh link" in response.get_data(as_text=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"
