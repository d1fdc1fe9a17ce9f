from __future__ import annotations

import pytest

from tests.integration.autopay.helpers import installments_shop


@pytest.fixture()
def shop(app, tenant_a):
    return installments_shop(app, tenant_a)
