import pytest

from app.web.redirects import safe_return_path

HOST = "portal.example"


@pytest.mark.parametrize("target", [
    "/\t/evil.com", "/\n/evil.com", "/\r\n/evil.com", "//evil.com", "\\\\evil.com", "/\\evil.com",
    " //evil.com", "\x00//evil.com", "https://evil.com/", "javascript:alert(1)", "http:evil.com",
    "https://portal.example.evil.com/x", "evil.com", "", None, "/" + "a" * 3000, "/a\x00b",
    "\x01/\t/evil.com",
])
def test_targets_a_browser_would_take_off_site_are_refused(target):
    assert safe_return_path(target, HOST) is None


@pytest.mark.parametrize("target,expected", [
    ("/dashboard/bookings?status=confirmed", "/dashboard/bookings?status=confirmed"),
    ("/dashboard/\tbookings", "/dashboard/bookings"),
    ("https://portal.example/dashboard/", "/dashboard/"),
    ("/dashboard/#top", "/dashboard/#top"),
])
def test_paths_on_this_site_are_kept_as_a_browser_reads_them(target, expected):
    assert safe_return_path(target, HOST) == expected
