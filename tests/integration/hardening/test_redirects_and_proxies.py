"""Return URLs after login, and client addresses behind trusted proxies."""
import pytest

from tests.fixtures.accounts import PASSWORD
from tests.fixtures.portal import csrf_from


def _login(client, email, query=""):
    page = client.get("/auth/login" + query).get_data(as_text=True)
    return client.post("/auth/login" + query, data={
        "email": email, "password": PASSWORD, "csrf_token": csrf_from(page)})


@pytest.mark.parametrize("query", ["?next=/%09/evil.com", "?next=/%0A/evil.com",
                                   "?next=/%0D%0A/evil.com", "?next=%5C%5Cevil.com",
                                   "?next=https://evil.com",
                                   "?next=%E0%A4%A"])
def test_login_never_redirects_off_site(client, tenant_a, query):
    response = _login(client, tenant_a.email, query)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"


def test_login_returns_to_a_page_on_this_site(client, tenant_a):
    response = _login(client, tenant_a.email, "?next=/dashboard/bookings")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/bookings"


@pytest.fixture()
def proxied(app):
    def configure(hops):
        app.config["TRUSTED_PROXY_HOPS"] = hops
    yield configure
    app.config["TRUSTED_PROXY_HOPS"] = 0


def _failed_logins(app, forwarded_for, count):
    """POST wrong passwords from the balancer's address with this X-Forwarded-For."""
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    statuses = []
    for n in range(count):
        statuses.append(client.post(
            "/auth/login", data={"email": f"nobody{n}@x.example", "password": "wrong-password",
                                 "csrf_token": csrf_from(page)},
            headers={"X-Forwarded-For": forwarded_for},
            environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code)
    return statuses


def test_two_clients_behind_two_trusted_proxies_are_limited_separately(app, proxied):
    proxied(2)
    # client, then the CDN's address appended by the balancer; 10.0.0.2 is the balancer.
    first = _failed_logins(app, "198.51.100.7, 203.0.113.1", 11)
    second = _failed_logins(app, "198.51.100.8, 203.0.113.1", 3)
    assert first[:10] == [400] * 10 and first[10] == 429
    assert second == [400, 400, 400]


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(app, proxied):
    proxied(0)
    _failed_logins(app, "198.51.100.7", 10)
    assert _failed_logins(app, "198.51.100.99", 1) == [429]


def test_behind_a_tls_proxy_the_request_is_https_and_returns_stay_on_site(app, proxied, tenant_a):
    proxied(1)
    client = app.test_client()
    page = client.get("/auth/login", headers={"X-Forwarded-Proto": "https",
                                              "X-Forwarded-For": "198.51.100.7"})
    assert page.status_code == 200
    response = client.post("/auth/login?next=https://localhost/dashboard/", data={
        "email": tenant_a.email, "password": PASSWORD,
        "csrf_token": csrf_from(page.get_data(as_text=True))},
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7",
                 "Referer": "https://localhost/auth/login"})
    # The https URL of this very site is recognised as this site only because the proxy said so.
    assert response.headers["Location"] == "/dashboard/"
