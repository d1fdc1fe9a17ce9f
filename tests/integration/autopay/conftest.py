# Tenant A's and B's catalogs, as in the payments tests (Gold $2,500.00: deposit $750, balance
# $1,750), and `plan_shop`: Gold in four installments of $625.00.
from __future__ import annotations

import pytest

from tests.integration.autopay.helpers import installments_shop
from tests.integration.payments.conftest import shop, shop_b  # noqa: F401


@pytest.fixture()
def plan_shop(app, tenant_a):
    return installments_shop(app, tenant_a)
