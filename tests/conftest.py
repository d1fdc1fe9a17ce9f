"""Shared fixtures. The environment is prepared before anything imports the app."""
from __future__ import annotations

import os

import pytest

from tests.fixtures.environment import ENV

ENV.setup()

pytest_plugins = [
    "tests.fixtures.browser",
    "tests.fixtures.smtp",
    "tests.fixtures.portal",
    "tests.fixtures.accounts",
    "tests.fixtures.payments",
] + (["tests.fixtures.stripe_sim"] if os.path.exists(
    os.path.join(os.path.dirname(__file__), "fixtures", "stripe_sim.py")) else [])

_e2e = {"passed": 0, "skipped": 0, "failed": 0}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker("postgres") and not ENV.postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))


def pytest_runtest_logreport(report):
    if "e2e" not in report.keywords:
        return
    if report.when == "call" and report.passed:
        _e2e["passed"] += 1
    elif report.skipped:
        _e2e["skipped"] += 1
    elif report.failed:
        _e2e["failed"] += 1


def pytest_sessionfinish(session, exitstatus):
    ENV.teardown()
    if os.environ.get("MAIS_REQUIRE_E2E") == "1" and session.testscollected:
        if _e2e["passed"] == 0 or _e2e["skipped"]:
            print(f"\nEND-TO-END TESTS DID NOT ALL RUN: {_e2e} (MAIS_REQUIRE_E2E=1)")
            session.exitstatus = 1
