from __future__ import annotations

import pytest

from tests.integration.bookings.helpers import make_catalog


@pytest.fixture()
def shop(app, tenant_a):
    """Tenant A (USD, New York) with packages Gold and Silver, a tenant-wide add-on and a Silver one."""
    return make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)


@pytest.fixture()
def shop_b(app, tenant_b):
    return make_catalog(app, tenant_b.tenant_id, tenant_b.user_id)
