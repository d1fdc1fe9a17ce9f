"""A refund spanning the deposit and the balance: its two parts settling at the same moment
complete the request and the booking once, and a request left open with every part final is
concluded by the sweeper."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from tests.integration.payments.helpers import booking_status
from tests.integration.refunds.helpers import (
    money,
    paid_booking,
    parts,
    reconcile,
    request_refund,
    requests,
    run_part,
)

FULL = 250000  # Gold: deposit 75,000 + balance 175,000


def _completed_emails(app, booking_id: int) -> list[str]:
    from app.extensions import db
    from app.models import Booking, OutboundEmail

    with app.app_context():
        address = db.session.get(Booking, booking_id).email
        rows = db.session.scalars(select(OutboundEmail.dedupe_key).where(
            OutboundEmail.to_addr == address, OutboundEmail.kind == "refund_completed")).all()
        db.session.remove()
    return list(rows)


def _two_parts_at_stripe(app, client, sim, account, package_id) -> tuple[int, list[int]]:
    booking_id = paid_booking(app, client, sim, account, package_id, balance=True)
    request_refund(app, account, booking_id, FULL)
    part_ids = [p["id"] for p in parts(app, booking_id)]
    assert len(part_ids) == 2
    for part_id in part_ids:
        assert run_part(app, part_id) == "processing"
    sim.control.settle_refunds()
    return booking_id, part_ids


@pytest.mark.postgres  # SQLite serializes writers: the two settlements cannot overlap there
def test_two_parts_settling_at_once_complete_the_request_and_the_booking(
        app, client, shop, tenant_a, payments_sim, monkeypatch):
    from app.services.refunds import processing as refund_processing

    booking_id, part_ids = _two_parts_at_stripe(app, client, payments_sim, tenant_a, shop.package_id)
    # Hold each settlement between its part's UPDATE and the request's recount until the other
    # arrives: without a lock both recount before either commits. With the booking lock the
    # second waits on the row instead, and the first goes on when the rendezvous times out.
    rendezvous = threading.Barrier(2, timeout=3)
    real_sync = refund_processing._sync_request

    def sync_after_rendezvous(session, request_id):
        try:
            rendezvous.wait()
        except threading.BrokenBarrierError:
            pass
        return real_sync(session, request_id)

    monkeypatch.setattr(refund_processing, "_sync_request", sync_after_rendezvous)
    outcomes: dict[int, str] = {}
    threads = [threading.Thread(target=lambda i=i: outcomes.update({i: reconcile(app, i)}))
               for i in part_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes == {part_ids[0]: "succeeded", part_ids[1]: "succeeded"}
    [request] = requests(app, booking_id)
    assert request["status"] == "succeeded"
    assert booking_status(app, booking_id) == "refunded"
    assert [m["refunded"] for m in money(app, booking_id)] == [75000, 175000]
    assert len(_completed_emails(app, booking_id)) == 1


def test_the_sweeper_concludes_a_request_left_processing_with_every_part_final(
        app, client, shop, tenant_a, payments_sim):
    from app.extensions import db
    from app.models import RefundRequest
    from app.services.refunds import processing as refund_processing

    booking_id, part_ids = _two_parts_at_stripe(app, client, payments_sim, tenant_a, shop.package_id)
    for part_id in part_ids:
        assert reconcile(app, part_id) == "succeeded"
    [request] = requests(app, booking_id)
    assert request["status"] == "succeeded"
    # What the race used to leave behind: every part final, the request still processing.
    with app.app_context():
        db.session.execute(update(RefundRequest).where(RefundRequest.id == request["id"])
                           .values(status="processing", completed_at=None))
        db.session.commit()
        db.session.remove()
    emails_before = _completed_emails(app, booking_id)
    with app.app_context():
        assert refund_processing.repair_requests(db.session) == 1
        assert refund_processing.repair_requests(db.session) == 0  # nothing left to repair
        db.session.remove()
    assert requests(app, booking_id)[0]["status"] == "succeeded"
    assert booking_status(app, booking_id) == "refunded"
    # The couple hears of the completion once: the repair's email folds into the earlier one.
    assert len(_completed_emails(app, booking_id)) == len(emails_before) == 1
