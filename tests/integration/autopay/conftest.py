from __future__ import annotations

import pytest

from tests.integration.bookings.helpers import make_catalog


@pytest.fixture()
def shop(app, tenant_a):
    """Tenant A (USD, New York): Gold $2,500.00 paid in four installments of $625.00: at
    booking, then 150, 120 and 90 days before the event."""
    from app.extensions import db
    from app.services.payments import settings as payment_settings

    catalog = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    with app.app_context():
        payment_settings.save_rule(db.session, tenant_a.tenant_id, None, payment_settings.RuleForm(
            mode="installments", installments=(("25", "booking", "0"), ("25", "event", "150"),
                                               ("25", "event", "120"), ("25", "event", "90"))),
            actor_user_id=tenant_a.user_id)
        db.session.remove()
    return catalog
