from __future__ import annotations

import pytest

from tests.integration.bookings.helpers import make_catalog


@pytest.fixture()
def shop(app, tenant_a):
    """Tenant A (USD): Gold $2,500.00 (30 % deposit $750.00, balance $1,750.00)."""
    return make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)


@pytest.fixture()
def shop_b(app, tenant_b):
    return make_catalog(app, tenant_b.tenant_id, tenant_b.user_id)
