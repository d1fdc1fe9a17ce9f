"""`flask money-check`: what an operator reviews after the currency rules changed."""
from __future__ import annotations

from sqlalchemy import update


def test_money_check_lists_refused_currencies_and_amounts_off_the_step(app, make_account) -> None:
    from app.extensions import db
    from app.models import Package, Tenant
    from app.services.bookings import catalog

    clean = app.test_cli_runner().invoke(args=["money-check"])
    assert clean.exit_code == 0, clean.output

    legacy = make_account("legacy", currency="USD")
    kuwait = make_account("kuwait", currency="KWD")
    iceland = make_account("iceland", currency="ISK")
    with app.app_context():
        db.session.execute(update(Tenant).where(Tenant.id == legacy.tenant_id).values(currency="XTS"))
        package = catalog.save_package(db.session, kuwait.tenant_id, kuwait.user_id, title="Hall",
                                       description="", price_text="1.250")
        # A price stored before the rounding step existed.
        db.session.execute(update(Package).where(Package.id == package.id).values(price_minor=1255))
        package_id = package.id
        db.session.commit()
        db.session.remove()

    result = app.test_cli_runner().invoke(args=["money-check"])
    assert result.exit_code == 1
    assert f"tenant {legacy.tenant_id} (legacy): currency XTS cannot be charged" in result.output
    assert f"package #{package_id} price is off the KWD rounding step" in result.output
    assert f"tenant {iceland.tenant_id} (iceland): ISK amounts are now in Stripe's units" in result.output
