import hashlib
import logging
import re
from datetime import timedelta

from sqlalchemy import select

from app.models import ActionToken, OutboundEmail
from app.services.shared import clock
from tests.fixtures.accounts import PASSWORD, login
from tests.fixtures.portal import csrf_from, post_form, without_csrf
from tests.fixtures.smtp import text_of

RESET_LINK = re.compile(r"https?://\S+/auth/reset/([A-Za-z0-9_-]{43})")


def ask_reset(client, email):
    return post_form(client, "/auth/forgot", {"email": email})


def reset_token_from(mail) -> str:
    return RESET_LINK.search(text_of(mail)).group(1)


normalise = without_csrf


def test_unknown_email_gets_exactly_the_answer_of_a_known_one(app, tenant_a, consumer, inbox):
    known = ask_reset(app.test_client(), tenant_a.email)
    unknown = ask_reset(app.test_client(), "nobody@nowhere.example")
    assert known.status_code == unknown.status_code == 200
    assert normalise(known.get_data(as_text=True)) == normalise(unknown.get_data(as_text=True))
    assert set(known.headers.keys()) == set(unknown.headers.keys())
    inbox.wait_for(tenant_a.email, subject="Reset")
    assert inbox.to("nobody@nowhere.example") == []


def test_reset_flow_sets_new_password_and_link_works_once(app, db_session, tenant_a, consumer, inbox):
    ask_reset(app.test_client(), tenant_a.email)
    raw = reset_token_from(inbox.wait_for(tenant_a.email, subject="Reset")[0])
    stored = db_session.scalars(select(ActionToken)).one()
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest() and stored.token_hash != raw

    c = app.test_client()
    page = c.get(f"/auth/reset/{raw}")
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert c.get(f"/auth/reset/{raw}").status_code == 200  # GETs never consume
    done = post_form(c, f"/auth/reset/{raw}", {"password": "brand-new-pass", "confirm": "brand-new-pass"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/auth/login")

    assert post_form(app.test_client(), "/auth/login",
                     {"email": tenant_a.email, "password": PASSWORD}).status_code == 400
    login(app.test_client(), tenant_a.email, "brand-new-pass")
    again = app.test_client().get(f"/auth/reset/{raw}")
    assert again.status_code == 410
    body = again.get_data(as_text=True)
    assert "expired or was already used" in body and "/auth/forgot" in body
    inbox.wait_for(tenant_a.email, subject="password was changed")


def test_the_same_reset_post_twice_changes_the_password_once(app, db_session, tenant_a, consumer, inbox):
    ask_reset(app.test_client(), tenant_a.email)
    raw = reset_token_from(inbox.wait_for(tenant_a.email, subject="Reset")[0])
    c = app.test_client()
    token = csrf_from(c.get(f"/auth/reset/{raw}").get_data(as_text=True))
    data = {"password": "first-new-pass", "confirm": "first-new-pass", "csrf_token": token}
    assert c.post(f"/auth/reset/{raw}", data=data).status_code == 302
    second = c.post(f"/auth/reset/{raw}", data={**data, "password": "other-pass-22", "confirm": "other-pass-22"})
    assert second.status_code == 410
    login(app.test_client(), tenant_a.email, "first-new-pass")


def test_expired_reset_link_is_refused(app, tenant_a, consumer, inbox):
    ask_reset(app.test_client(), tenant_a.email)
    raw = reset_token_from(inbox.wait_for(tenant_a.email, subject="Reset")[0])
    clock.advance(timedelta(hours=1, seconds=1))
    c = app.test_client()
    assert c.get(f"/auth/reset/{raw}").status_code == 410
    login(c, tenant_a.email, PASSWORD)  # nothing changed


def test_reset_requests_are_rate_limited_per_email_and_ip(app, tenant_a):
    c = app.test_client()
    statuses = [ask_reset(c, tenant_a.email).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    other = [ask_reset(c, f"x{i}@example.com").status_code for i in range(2)]
    assert other == [200, 429]  # 5 per 15 minutes per address of the requester


def test_reset_logs_out_the_users_other_sessions(app, tenant_a, consumer, inbox):
    elsewhere = app.test_client()
    login(elsewhere, tenant_a.email)
    assert elsewhere.get("/dashboard/").status_code == 200
    ask_reset(app.test_client(), tenant_a.email)
    raw = reset_token_from(inbox.wait_for(tenant_a.email, subject="Reset")[0])
    post_form(app.test_client(), f"/auth/reset/{raw}", {"password": "brand-new-pass", "confirm": "brand-new-pass"})
    assert elsewhere.get("/dashboard/").status_code == 302


def test_mismatched_or_short_password_changes_nothing(app, db_session, tenant_a, consumer, inbox):
    ask_reset(app.test_client(), tenant_a.email)
    raw = reset_token_from(inbox.wait_for(tenant_a.email, subject="Reset")[0])
    c = app.test_client()
    r1 = post_form(c, f"/auth/reset/{raw}", {"password": "brand-new-pass", "confirm": "different-pass"})
    r2 = post_form(c, f"/auth/reset/{raw}", {"password": "short", "confirm": "short"})
    assert r1.status_code == r2.status_code == 400
    assert db_session.scalars(select(ActionToken)).one().used_at is None
    login(app.test_client(), tenant_a.email, PASSWORD)


def test_tokens_never_reach_the_logs(app, live_server, tenant_a, consumer, inbox, caplog):
    import urllib.request

    caplog.set_level(logging.DEBUG)
    ask_reset(app.test_client(), tenant_a.email)
    mail = inbox.wait_for(tenant_a.email, subject="Reset")[0]
    raw = reset_token_from(mail)
    with urllib.request.urlopen(f"{live_server}/auth/reset/{raw}") as response:
        assert response.status == 200
    post_form(app.test_client(), f"/auth/reset/{raw}", {"password": "brand-new-pass", "confirm": "brand-new-pass"})
    assert any("/auth/reset/" in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]
    assert all(raw not in r.getMessage() for r in caplog.records)
    assert all(raw not in (e.last_error or "") for e in app_emails(app))


def app_emails(app):
    from app.extensions import db

    with app.app_context():
        return db.session.scalars(select(OutboundEmail)).all()
