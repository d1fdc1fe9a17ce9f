import pytest
from sqlalchemy import select

from app.models import AuditEvent, Tenant, User
from app.services.shared import tokens
from tests.fixtures.accounts import login
from tests.fixtures.portal import post_form
from tests.fixtures.smtp import text_of

SETTINGS = {"name": "Alpha Studio", "timezone": "Asia/Kathmandu", "currency": "JPY", "locale": "ja_JP",
            "contact_email": "hi@alpha.example", "address": "1 Main St", "tax_id": "DE123"}


def test_owner_changes_settings_and_the_change_is_audited(owner_client, db_session, tenant_a):
    response = post_form(owner_client, "/dashboard/settings", SETTINGS)
    assert response.status_code == 302
    tenant = db_session.get(Tenant, tenant_a.tenant_id)
    assert (tenant.timezone, tenant.currency, tenant.locale) == ("Asia/Kathmandu", "JPY", "ja_JP")
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "settings.updated")).one()
    assert event.details["changes"]["currency"] == ["USD", "JPY"]


@pytest.mark.parametrize("field,value", [
    ("timezone", "Europe/Atlantis"), ("currency", "EURO"), ("currency", "ABC"), ("locale", "xx_YY_ZZ"),
    ("contact_email", "nope"), ("name", "n" * 121), ("address", "a" * 501),
])
def test_bad_settings_are_refused_and_nothing_changes(owner_client, db_session, tenant_a, field, value):
    response = post_form(owner_client, "/dashboard/settings", {**SETTINGS, field: value})
    assert response.status_code == 400
    tenant = db_session.get(Tenant, tenant_a.tenant_id)
    assert (tenant.name, tenant.timezone, tenant.currency) == ("Alpha", "America/New_York", "USD")


def test_invited_staff_member_accepts_and_logs_in(app, owner_client, db_session, tenant_a, tenant_b,
                                                   consumer, inbox):
    response = post_form(owner_client, "/dashboard/team", {"email": "sam@staff.example", "role": "staff"})
    assert response.status_code == 302
    mail = inbox.wait_for("sam@staff.example", subject="invited")[0]
    link = next(w for w in text_of(mail).split() if "/auth/invite/" in w)
    path = link.split("127.0.0.1", 1)[-1].split(":", 1)[-1]
    path = path[path.index("/"):]

    newcomer = app.test_client()
    assert newcomer.get(path).status_code == 200
    assert newcomer.get(path).status_code == 200  # a GET (mail scanner) never consumes it
    accepted = post_form(newcomer, path, {"name": "Sam", "password": "sam-password-1"})
    assert accepted.status_code == 302, accepted.get_data(as_text=True)[-1500:]
    user = db_session.scalars(select(User).where(User.email == "sam@staff.example")).one()
    assert (user.tenant_id, user.role) == (tenant_a.tenant_id, "staff")
    assert "Alpha" in newcomer.get("/dashboard/").get_data(as_text=True)
    # Staff see the dashboard but not owner pages; used link is dead.
    assert newcomer.get("/dashboard/settings").status_code == 403
    again = app.test_client().get(path)
    assert again.status_code == 410 and "expired or was already used" in again.get_data(as_text=True)

    other = app.test_client()
    login(other, "sam@staff.example", "sam-password-1")
    assert "Bravo" not in other.get("/dashboard/").get_data(as_text=True)


def test_an_invitation_of_tenant_a_never_grants_access_to_b(app, db_session, tenant_a, tenant_b):
    raw = tokens.issue(db_session, tenant_a.tenant_id, "staff_invite", None,
                       {"email": "x@y.example", "role": "owner"})
    db_session.commit()
    c = app.test_client()
    post_form(c, f"/auth/invite/{raw}", {"name": "X", "password": "x-password-1"})
    user = db_session.scalars(select(User).where(User.email == "x@y.example")).one()
    assert user.tenant_id == tenant_a.tenant_id
    body = c.get("/dashboard/settings").get_data(as_text=True)
    assert "Alpha" in body and "Bravo" not in body


def test_staff_cannot_invite(app, db_session, tenant_a):
    raw = tokens.issue(db_session, tenant_a.tenant_id, "staff_invite", None,
                       {"email": "st@y.example", "role": "staff"})
    db_session.commit()
    c = app.test_client()
    post_form(c, f"/auth/invite/{raw}", {"name": "St", "password": "st-password-1"})
    assert c.get("/dashboard/team").status_code == 403


def test_inviting_an_existing_email_is_refused(owner_client, db_session, tenant_b):
    response = post_form(owner_client, "/dashboard/team", {"email": tenant_b.email, "role": "staff"})
    assert response.status_code == 400
    assert "already has an account" in response.get_data(as_text=True)
