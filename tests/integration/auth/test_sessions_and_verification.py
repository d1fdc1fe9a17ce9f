"""Server-side sessions that really end, and signup that never says whether an email is known."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models import OutboundEmail, User, UserSession
from tests.fixtures.accounts import PASSWORD, login
from tests.fixtures.portal import csrf_from, post_form

SIGNUP = {"business_name": "Golden Hour Films", "slug": "golden-hour", "owner_name": "Ana",
          "email": "ana@golden.example", "password": "a-long-password", "timezone": "Europe/Lisbon",
          "currency": "EUR"}
VERIFY = re.compile(r"/auth/verify/([A-Za-z0-9_-]{43})")
RESET = re.compile(r"/auth/reset/([A-Za-z0-9_-]{43})")


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _with_cookie(app, value):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def _post(client, url, data=None, page="/auth/account"):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token})


def test_a_copy_of_the_cookie_taken_before_logout_is_anonymous_after_it(app, tenant_a):
    client = app.test_client()
    login(client, tenant_a.email)
    copied = _cookie(client)
    assert _with_cookie(app, copied).get("/dashboard/").status_code == 200
    _post(client, "/auth/logout", page="/dashboard/")
    assert _with_cookie(app, copied).get("/dashboard/").status_code == 302
    assert client.get("/dashboard/").status_code == 302


def test_account_page_lists_sessions_and_ends_another_one(app, tenant_a, db_session):
    phone = app.test_client()
    login(phone, tenant_a.email)  # the test client's default user agent
    laptop = app.test_client()
    laptop.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0")
    login(laptop, tenant_a.email)
    page = laptop.get("/auth/account").get_data(as_text=True)
    assert "Firefox on Windows" in page and "This session" in page and page.count("<tr>") == 3
    other = db_session.scalars(select(UserSession).where(UserSession.device != "Firefox on Windows")).one()
    assert _post(laptop, f"/auth/sessions/{other.id}/end").status_code == 302
    assert phone.get("/dashboard/").status_code == 302
    assert laptop.get("/dashboard/").status_code == 200


def test_someone_elses_session_cannot_be_ended(app, tenant_a, tenant_b, db_session):
    victim = app.test_client()
    login(victim, tenant_b.email)
    attacker = app.test_client()
    login(attacker, tenant_a.email)
    theirs = db_session.scalars(select(UserSession).where(UserSession.user_id == tenant_b.user_id)).one()
    assert _post(attacker, f"/auth/sessions/{theirs.id}/end").status_code == 404
    assert victim.get("/dashboard/").status_code == 200


def test_log_out_everywhere_else_keeps_only_this_session(app, tenant_a):
    clients = [app.test_client() for _ in range(3)]
    for c in clients:
        login(c, tenant_a.email)
    assert _post(clients[0], "/auth/sessions/end-others").status_code == 302
    assert [c.get("/dashboard/").status_code for c in clients] == [200, 302, 302]


def test_password_change_ends_other_sessions_and_needs_the_current_password(app, tenant_a, db_session):
    mine, other = app.test_client(), app.test_client()
    login(mine, tenant_a.email)
    login(other, tenant_a.email)
    wrong = _post(mine, "/auth/account", {"current_password": "not-it-at-all",
                                          "password": "a-new-password-2", "confirm": "a-new-password-2"})
    assert wrong.status_code == 400 and "not your current password" in wrong.get_data(as_text=True)
    assert other.get("/dashboard/").status_code == 200
    ok = _post(mine, "/auth/account", {"current_password": PASSWORD, "password": "a-new-password-2",
                                       "confirm": "a-new-password-2"})
    assert ok.status_code == 302
    assert mine.get("/dashboard/").status_code == 200
    assert other.get("/dashboard/").status_code == 302
    assert db_session.scalars(select(OutboundEmail.kind)).all() == ["password_changed"]


def test_password_reset_ends_every_session(app, tenant_a, db_session):
    from app.extensions import db
    from app.services.accounts import users as accounts
    from app.web.links import WebLinks

    client = app.test_client()
    login(client, tenant_a.email)
    with app.app_context():
        accounts.request_password_reset(db.session, tenant_a.email, WebLinks(app))
        db.session.remove()
    body = db_session.scalars(select(OutboundEmail.text_body)).one()
    raw = RESET.search(body).group(1)
    response = post_form(app.test_client(), f"/auth/reset/{raw}",
                         {"password": "another-password", "confirm": "another-password"})
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 302


def _emails(db_session, to):
    return db_session.scalars(select(OutboundEmail).where(OutboundEmail.to_addr == to)).all()


def test_signup_answers_the_same_for_a_known_address_and_emails_a_reset_link(client, db_session, tenant_a):
    new = post_form(client, "/auth/signup", SIGNUP)
    known = post_form(client, "/auth/signup", {**SIGNUP, "slug": "other-slug",
                                                             "email": tenant_a.email.upper()})
    assert new.status_code == known.status_code == 200
    # CSRF tokens (in form fields and htmx headers) carry a timestamp; the rest must be equal.
    strip = lambda r: re.sub(r'(value="|"X-CSRFToken": ")[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(new) == strip(known)
    assert client.get("/dashboard/").status_code == 302
    [exists] = _emails(db_session, tenant_a.email)
    assert exists.kind == "account_exists" and RESET.search(exists.text_body)
    [verify] = _emails(db_session, SIGNUP["email"])
    assert verify.kind == "verify_email" and VERIFY.search(verify.text_body)
    # The known address's account is untouched and no second business exists.
    assert db_session.scalar(select(User.password_hash).where(User.id == tenant_a.user_id)) != ""
    assert len(db_session.scalars(select(User)).all()) == 2


def test_verification_link_is_single_use_logs_in_and_opens_payments(app, client, db_session):
    post_form(client, "/auth/signup", SIGNUP)
    raw = VERIFY.search(_emails(db_session, SIGNUP["email"])[0].text_body).group(1)
    page = client.get(f"/auth/verify/{raw}")  # a mail scanner's GET consumes nothing
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert client.get(f"/auth/verify/{raw}").status_code == 200
    response = client.post(f"/auth/verify/{raw}", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200
    db_session.expire_all()
    assert db_session.scalars(select(User)).one().email_verified_at is not None
    assert client.get(f"/auth/verify/{raw}").status_code == 410
    again = post_form(app.test_client(), f"/auth/verify/{raw}", {}, get_url="/auth/login")
    assert again.status_code == 410


@pytest.mark.parametrize("raw", ["x" * 43, "short", "A" * 500])
def test_an_unknown_verification_link_is_the_invalid_link_page(client, raw):
    assert client.get(f"/auth/verify/{raw}").status_code == 410


def test_an_unverified_owner_can_log_in_and_set_up_but_not_take_payments(app, client, db_session,
                                                                          payments_sim):
    from tests.fixtures.accounts import Account
    from tests.integration.bookings.helpers import make_catalog
    from tests.integration.payments.helpers import checkout_path, new_booking, stages

    post_form(client, "/auth/signup", SIGNUP)
    login(client, SIGNUP["email"], SIGNUP["password"])
    assert client.get("/dashboard/").status_code == 200
    assert "not confirmed yet" in client.get("/auth/account").get_data(as_text=True)
    owner = db_session.scalars(select(User)).one()
    account = Account(owner.tenant_id, owner.id, SIGNUP["slug"], SIGNUP["email"])
    shop = make_catalog(app, owner.tenant_id, owner.id)
    booking_id = new_booking(app, account, shop.package_id)
    path = checkout_path(app, SIGNUP["slug"], owner.tenant_id, stages(app, booking_id)[0]["id"])
    couple = app.test_client()
    refused = couple.get(path)
    assert refused.status_code == 409 and "cannot take card payments yet" in refused.get_data(as_text=True)
    assert payments_sim.control.requests("/v1/payment_intents", method="POST") == []
    raw = VERIFY.search(_emails(db_session, SIGNUP["email"])[0].text_body).group(1)
    page = client.get(f"/auth/verify/{raw}").get_data(as_text=True)
    client.post(f"/auth/verify/{raw}", data={"csrf_token": csrf_from(page)})
    assert couple.get(path).status_code == 200
