# Tenant A's and B's catalogs, as in the payments tests (Gold $2,500.00: deposit $750, balance $1,750).
from tests.integration.payments.conftest import shop, shop_b  # noqa: F401
