from __future__ import annotations

import pytest

from tests.integration.bookings.helpers import make_catalog


@pytest.fixture()
def shop(app, tenant_a):
    """Tenant A (USD): Gold $2,500.00 and Silver $1,200.00 (default schedule: 30 % deposit)."""
    return make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)


@pytest.fixture()
def shop_b(app, tenant_b):
    return make_catalog(app, tenant_b.tenant_id, tenant_b.user_id)
