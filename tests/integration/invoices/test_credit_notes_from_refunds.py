"""A refund that succeeds at Stripe produces one credit note, and the register shows the credit."""
from __future__ import annotations

from tests.fixtures.portal import RunningConsumer
from tests.integration.invoices.helpers import documents, pdf_text, squash
from tests.integration.payments.helpers import wait_until
from tests.integration.refunds.helpers import paid_booking, parts, request_refund, settle_at_stripe


def test_a_refund_produces_a_credit_note_and_the_register_shows_the_invoice_credited(
        app, client, owner_client, tenant_a, shop, payments_sim):
    from app.queue import huey
    from app.tasks.invoices import refund_part_succeeded, sweep_documents

    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)  # $750 deposit
    payments_sim.control.configure(refund_delay=-1)
    running = RunningConsumer(huey)
    running.start()
    try:
        request_refund(app, tenant_a, booking_id, 30000)
        part = parts(app, booking_id)[0]
        assert settle_at_stripe(app, payments_sim, part["id"]) in ("succeeded", "applied")

        def credited():
            return any(d["kind"] == "credit_note" and d["pdf"] for d in documents(app, booking_id))

        wait_until(credited)
        # A replayed job and the sweeper find the same note instead of issuing another.
        refund_part_succeeded(part["id"])
        sweep_documents()
        import time

        time.sleep(1.0)
    finally:
        running.stop()
    docs = documents(app, booking_id)
    notes = [d for d in docs if d["kind"] == "credit_note"]
    invoice = next(d for d in docs if d["kind"] == "invoice")
    assert len(notes) == 1
    note = notes[0]
    assert note["total"] == -30000 and note["invoice_id"] == invoice["id"]
    text = squash(pdf_text(note["pdf"]))
    assert "-$300.00" in text and invoice["number"] in text and "requested by the customer" in text
    page = owner_client.get("/dashboard/invoices?status=credited").get_data(as_text=True)
    assert f'data-number="{invoice["number"]}" data-status="credited"' in page


def test_the_sweeper_issues_a_credit_note_whose_job_was_lost(app, client, owner_client, tenant_a, shop,
                                                               payments_sim):
    from app.extensions import db
    from app.queue import huey
    from app.services.invoices import credit_notes
    from tests.integration.refunds.helpers import reconcile

    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    payments_sim.control.configure(refund_delay=-1)
    running = RunningConsumer(huey)
    running.start()
    try:
        request_refund(app, tenant_a, booking_id, 10000)
        part = parts(app, booking_id)[0]
        wait_until(lambda: parts(app, booking_id)[0]["stripe_id"])  # Stripe holds the refund
    finally:
        running.stop()
    payments_sim.control.settle_refunds()
    reconcile(app, part["id"])  # succeeded; its credit-note job is enqueued...
    huey.flush()  # ...and lost with the queue
    # Meanwhile the booking's documents panel says a credit note is on its way and looks again.
    panel = owner_client.get(f"/dashboard/bookings/{booking_id}/documents").get_data(as_text=True)
    assert 'data-testid="credit-note-coming"' in panel and 'hx-trigger="load delay:1s"' in panel
    with app.app_context():
        assert credit_notes.parts_without_credit_note(db.session) == [part["id"]]
        credit_notes.credit_refund_part(db.session, part["id"])
        assert credit_notes.parts_without_credit_note(db.session) == []
        db.session.remove()
    assert len([d for d in documents(app, booking_id) if d["kind"] == "credit_note"]) == 1
    panel = owner_client.get(f"/dashboard/bookings/{booking_id}/documents").get_data(as_text=True)
    assert "credit-note-coming" not in panel and "Credit note" in panel
