import pytest
from sqlalchemy import func, select

from app.models import Tenant, User
from tests.fixtures.accounts import PASSWORD, login
from tests.fixtures.portal import csrf_from, post_form

GOOD = {
    "business_name": "Golden Hour Films", "slug": "golden-hour", "owner_name": "Ana",
    "email": "ana@golden.example", "password": "a-long-password", "timezone": "Europe/Lisbon",
    "currency": "EUR",
}


def counts(db_session):
    return (db_session.scalar(select(func.count(Tenant.id))),
            db_session.scalar(select(func.count(User.id))))


def test_signup_creates_tenant_and_unverified_owner_and_asks_to_check_email(client, db_session):
    response = post_form(client, "/auth/signup", GOOD)
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    tenant = db_session.scalars(select(Tenant)).one()
    assert (tenant.slug, tenant.timezone, tenant.currency) == ("golden-hour", "Europe/Lisbon", "EUR")
    owner = db_session.scalars(select(User)).one()
    assert owner.role == "owner" and owner.tenant_id == tenant.id
    assert owner.password_hash != GOOD["password"] and owner.email_verified_at is None
    # Not logged in by the signup itself: the reply must not differ for a known address.
    assert client.get("/dashboard/").status_code == 302


@pytest.mark.parametrize("field,value,message", [
    ("email", "not-an-email", "Invalid email"),
    ("business_name", "x" * 121, "120"),
    ("timezone", "Mars/Olympus", "timezone"),
    ("currency", "XYZ", "Stripe can charge"),
    ("currency", "XTS", "Stripe can charge"),
    ("slug", "Bad Slug!", "lowercase"),
    ("password", "short", "10"),
])
def test_bad_signup_input_shows_form_errors_and_writes_nothing(client, db_session, field, value, message):
    response = post_form(client, "/auth/signup", {**GOOD, field: value})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert counts(db_session) == (0, 0)


def test_taken_slug_is_refused(client, db_session, tenant_a):
    r1 = post_form(client, "/auth/signup", {**GOOD, "slug": tenant_a.slug})
    assert r1.status_code == 400 and "taken" in r1.get_data(as_text=True)
    assert counts(db_session) == (1, 1)


def test_forms_without_csrf_token_are_rejected(client, db_session):
    response = client.post("/auth/signup", data=GOOD)
    assert response.status_code == 400
    assert counts(db_session) == (0, 0)


def test_wrong_password_and_unknown_email_get_the_same_message(client, tenant_a):
    wrong = post_form(client, "/auth/login", {"email": tenant_a.email, "password": "nope-nope-nope"})
    unknown = post_form(client, "/auth/login", {"email": "who@nowhere.example", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 400
    message = "That email and password do not match an account."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_login_is_rate_limited(client, tenant_a):
    page = client.get("/auth/login").get_data(as_text=True)
    token = csrf_from(page)
    statuses = [client.post("/auth/login", data={"email": tenant_a.email, "password": "wrong-wrong",
                                                  "csrf_token": token}).status_code for _ in range(12)]
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]
    assert "Too many attempts" in client.post("/auth/login", data={"csrf_token": token}).get_data(as_text=True)


def test_logout_ends_the_session(client, tenant_a):
    login(client, tenant_a.email, PASSWORD)
    assert client.get("/dashboard/").status_code == 200
    page = client.get("/dashboard/").get_data(as_text=True)
    assert client.post("/auth/logout", data={"csrf_token": csrf_from(page)}).status_code == 302
    assert client.get("/dashboard/").status_code == 302


def test_open_redirect_after_login_is_refused(client, tenant_a):
    page = client.get("/auth/login?next=//evil.example").get_data(as_text=True)
    response = client.post("/auth/login?next=//evil.example",
                           data={"email": tenant_a.email, "password": PASSWORD, "csrf_token": csrf_from(page)})
    assert response.headers["Location"] == "/dashboard/"
