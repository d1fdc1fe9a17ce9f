"""Money rows for the report tests."""
from __future__ import annotations


def record_cash(app, account, booking_id: int) -> None:
    from app.extensions import db
    from app.services.payments import recording as payments
    from app.services.payments import stages as payment_stages
    from app.web.links import WebLinks

    with app.app_context():
        due = [s.id for s in payment_stages.stages_for(db.session, account.tenant_id, booking_id)
               if s.status == "due"]
        payments.record_offline_payment(db.session, account.tenant_id, booking_id,
                                        payments.OfflinePayment(stage_ids=due[:1], method="cash"),
                                        WebLinks(app), actor_user_id=account.user_id)
        db.session.remove()
