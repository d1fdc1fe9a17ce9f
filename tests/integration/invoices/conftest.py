from __future__ import annotations

import pytest

from tests.integration.bookings.helpers import make_catalog


@pytest.fixture()
def shop(app, tenant_a):
    """Tenant A (USD): Gold $2,500.00, Silver $1,200.00, Album add-on $300.50."""
    return make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
