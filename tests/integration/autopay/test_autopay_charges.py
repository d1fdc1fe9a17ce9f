"""Autopay end to end on the simulator: consent at the deposit, the card saved on the vendor's
account, one off-session charge per stage on its due date, receipts; declines retried on the
tenant's schedule; the bank asking for the couple; switching off; cross-tenant refusals."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.fixtures.portal import csrf_from
from tests.integration.autopay.helpers import (
    charges,
    choose_autopay,
    confirm_as_stripe_js,
    mandate,
    off_session_creates,
    open_deposit_checkout,
    pay_deposit_with_autopay,
    run_due_charges,
    travel_to_charge_moment,
    wait_until,
)
from tests.integration.payments.helpers import (
    booking_status,
    checkout_path,
    client_secret,
    intent_id,
    new_booking,
    payments_of,
    stages,
    vendor,
)


def _reminder_kinds(app, stage_id: int) -> list[str]:
    from app.extensions import db
    from app.models import Reminder

    with app.app_context():
        kinds = list(db.session.scalars(select(Reminder.kind).where(
            Reminder.stage_id == stage_id, Reminder.status.in_(("scheduled", "sent")))))
        db.session.remove()
    return kinds


def _switch_card(app, sim, tenant, booking_id: int, payment_method: str) -> None:
    """The couple saves another card from their booking page (a SetupIntent confirmed as
    Stripe.js would, passing the bank's check when the card asks for one)."""
    from app.adapters.stripe_gateway import gateway_for
    from app.extensions import db
    from app.services.autopay import enrolment

    with app.app_context():
        setup = enrolment.start_card_change(db.session, tenant.tenant_id, booking_id,
                                            gateway_for(app))
        db.session.remove()
    confirmed = vendor(sim, tenant).v1.setup_intents.confirm(
        setup.id, params={"payment_method": payment_method})
    if confirmed.status == "requires_action":
        sim.control.authenticate_setup_intent(setup.id, "complete")
    with app.app_context():
        enrolment.finish_card_change(db.session, tenant.tenant_id, booking_id, setup.id,
                                     gateway_for(app))
        db.session.remove()


def _activate(app, booking_id: int) -> dict:
    return wait_until(lambda: (m := mandate(app, booking_id)) and m["status"] == "active" and m,
                      "autopay turning on after the deposit")


def test_three_installments_are_charged_off_session_on_their_due_dates_and_the_booking_ends_paid(
        app, client, plan_shop, tenant_a, payments_sim, consumer, inbox):
    booking_id = new_booking(app, tenant_a, plan_shop.package_id, days=200)
    deposit_pi = pay_deposit_with_autopay(app, client, payments_sim, tenant_a, booking_id)

    saved = _activate(app, booking_id)
    assert (saved["brand"], saved["last4"]) == ("visa", "4242")
    assert "I authorise Alpha to charge this card automatically" in saved["consent"]
    assert "$625.00" in saved["consent"]
    # The card is saved on the vendor's account, on the couple's Customer there.
    seller = vendor(payments_sim, tenant_a)
    pi = seller.v1.payment_intents.retrieve(deposit_pi)
    assert pi.setup_future_usage == "off_session" and pi.customer == saved["customer"]
    assert seller.v1.payment_methods.retrieve(saved["pm"]).customer == saved["customer"]
    planned = charges(app, booking_id)
    assert [c["status"] for c in planned] == ["scheduled"] * 3

    later = stages(app, booking_id)[1:]
    for n, stage in enumerate(later, start=1):
        assert run_due_charges(app) == []  # not due yet
        travel_to_charge_moment(app, tenant_a, stage["due"])
        assert run_due_charges(app) == ["paid"]
        assert [c["status"] for c in charges(app, booking_id)][:n] == ["paid"] * n

    creates = off_session_creates(payments_sim)
    assert len(creates) == 3  # one PaymentIntent per stage, each confirmed off-session
    assert [c["idempotency_key"] for c in creates] == [
        f"stage-{s['id']}-autopay-1" for s in later]
    assert all(c["params"]["confirm"] in ("true", True) and c["status"] == 200 for c in creates)
    assert {c["stripe_account"] for c in creates} == {tenant_a.stripe_account}
    assert [c["object_status"] for c in creates] == ["succeeded"] * 3
    assert [s["status"] for s in stages(app, booking_id)] == ["paid"] * 4
    assert booking_status(app, booking_id) == "paid_in_full"
    assert [p["amount"] for p in payments_of(app, booking_id)] == [62500] * 4
    receipts = inbox.wait_for("couple@example.com", count=4, subject="Receipt")
    assert len(receipts) == 4


def test_unticked_box_saves_nothing_and_no_charge_is_planned(app, client, plan_shop, tenant_a,
                                                             payments_sim, consumer):
    booking_id = new_booking(app, tenant_a, plan_shop.package_id, days=200)
    path, html = open_deposit_checkout(app, client, tenant_a, booking_id)
    assert choose_autopay(client, path, html, True).status_code == 200
    assert choose_autopay(client, path, html, False).status_code == 200  # changed their mind
    pi = intent_id(client_secret(html))
    assert vendor(payments_sim, tenant_a).v1.payment_intents.retrieve(pi).setup_future_usage \
        in (None, "")
    confirm_as_stripe_js(payments_sim, pi, "pm_card_visa")
    client.get(f"{path}/return?payment_intent={pi}")
    assert booking_status(app, booking_id) == "confirmed"
    assert mandate(app, booking_id)["status"] == "off" and charges(app, booking_id) == []


def test_a_declined_card_is_retried_on_the_schedule_then_past_due_and_the_couple_pays_by_hand(
        app, client, plan_shop, tenant_a, payments_sim, consumer, inbox):

    booking_id = new_booking(app, tenant_a, plan_shop.package_id, days=200)
    pay_deposit_with_autopay(app, client, payments_sim, tenant_a, booking_id)
    _activate(app, booking_id)
    # The couple switches to a card that saves fine but whose charges fail (0341).
    _switch_card(app, payments_sim, tenant_a, booking_id, "pm_card_chargeCustomerFail")
    assert mandate(app, booking_id)["last4"] == "0341"

    second = stages(app, booking_id)[1]
    moment = travel_to_charge_moment(app, tenant_a, second["due"])
    assert run_due_charges(app) == ["retrying"]
    [first_try, *_] = charges(app, booking_id)
    assert first_try["attempts"] == 1 and first_try["code"] == "card_declined"
    assert first_try["next"] >= moment + timedelta(days=1)
    inbox.wait_for("couple@example.com", subject="did not go through")
    outcomes = []
    for wait in (1, 3, 5):
        from app.services.shared import clock

        assert run_due_charges(app) == []  # the next try waits its days
        clock.advance(timedelta(days=wait, minutes=1))
        outcomes += run_due_charges(app)
    assert outcomes == ["retrying", "retrying", "failed"]
    charge = charges(app, booking_id)[0]
    assert (charge["status"], charge["attempts"]) == ("failed", 4)
    assert inbox.wait_for("couple@example.com", count=3, subject="did not go through")
    overdue = inbox.wait_for("couple@example.com", subject="overdue")[0]
    assert "/pay/" in overdue.get_body(preferencelist=("plain",)).get_content()
    inbox.wait_for(tenant_a.email, subject="Automatic payment of the")
    assert stages(app, booking_id)[1]["status"] == "due"
    assert len(off_session_creates(payments_sim)) == 4
    # Past due: the tenant's past-due reminders for the stage are still on their way.
    assert _reminder_kinds(app, second["id"]).count("past_due") == 2

    # The couple pays the overdue stage by hand with another card (4242) from the email's link.
    page = client.get(checkout_path(app, tenant_a.slug, tenant_a.tenant_id, second["id"]))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Pay $625.00" in html
    pi = intent_id(client_secret(html))
    confirm_as_stripe_js(payments_sim, pi, "pm_card_visa")
    path = checkout_path(app, tenant_a.slug, tenant_a.tenant_id, second["id"])
    assert client.get(f"{path}/return?payment_intent={pi}").status_code == 200
    assert stages(app, booking_id)[1]["status"] == "paid"
    assert charges(app, booking_id)[0]["status"] == "paid"


def test_the_bank_asking_for_the_couple_stops_retries_and_emails_a_link_that_completes_it(
        app, client, plan_shop, tenant_a, payments_sim, consumer, inbox):
    booking_id = new_booking(app, tenant_a, plan_shop.package_id, days=200)
    pay_deposit_with_autopay(app, client, payments_sim, tenant_a, booking_id)
    _activate(app, booking_id)
    _switch_card(app, payments_sim, tenant_a, booking_id, "pm_card_authenticationRequired")

    second = stages(app, booking_id)[1]
    travel_to_charge_moment(app, tenant_a, second["due"])
    assert run_due_charges(app) == ["needs_action"]
    charge = charges(app, booking_id)[0]
    assert charge["code"] == "authentication_required" and charge["next"] is None
    mail = inbox.wait_for("couple@example.com", subject="Please confirm your payment")[0]
    assert "/pay/" in mail.get_body(preferencelist=("plain",)).get_content()
    from app.services.shared import clock

    clock.advance(timedelta(days=10))
    assert run_due_charges(app) == []  # no retries: the couple has to be there

    # The link opens the same PaymentIntent with the saved card offered; confirming it with the
    # saved card asks the bank, which the couple completes.
    path = checkout_path(app, tenant_a.slug, tenant_a.tenant_id, second["id"])
    html = client.get(path).get_data(as_text=True)
    assert 'id="pay-saved"' in html and "ending 3184" in html
    pi = intent_id(client_secret(html))
    assert pi == charge["intent"]
    pm = mandate(app, booking_id)["pm"]
    confirmed = confirm_as_stripe_js(payments_sim, pi, pm)
    assert confirmed.status == "requires_action"
    payments_sim.control.authenticate_payment_intent(pi, "complete")
    assert client.get(f"{path}/return?payment_intent={pi}").status_code == 200
    assert stages(app, booking_id)[1]["status"] == "paid"
    assert charges(app, booking_id)[0]["status"] == "paid"


def test_switching_autopay_off_stops_future_charges(app, client, plan_shop, tenant_a, payments_sim,
                                                    consumer):
    from app.extensions import db
    from app.services.autopay import enrolment

    booking_id = new_booking(app, tenant_a, plan_shop.package_id, days=200)
    pay_deposit_with_autopay(app, client, payments_sim, tenant_a, booking_id)
    _activate(app, booking_id)
    with app.app_context():
        enrolment.switch_off(db.session, tenant_a.tenant_id, booking_id, by="couple")
        db.session.remove()
    assert [c["status"] for c in charges(app, booking_id)] == ["off"] * 3
    for stage in stages(app, booking_id)[1:]:
        travel_to_charge_moment(app, tenant_a, stage["due"])
        assert run_due_charges(app) == []
    assert off_session_creates(payments_sim) == []
    assert [s["status"] for s in stages(app, booking_id)] == ["paid", "due", "due", "due"]


def test_canceling_the_booking_stops_its_automatic_charges(app, client, plan_shop, tenant_a,
                                                            payments_sim, consumer):
    from app.extensions import db
    from app.services.bookings import cancellation
    from app.web.links import WebLinks

    booking_id = new_booking(app, tenant_a, plan_shop.package_id, days=200)
    pay_deposit_with_autopay(app, client, payments_sim, tenant_a, booking_id)
    _activate(app, booking_id)
    with app.app_context():
        cancellation.cancel_booking(db.session, tenant_a.tenant_id, booking_id, WebLinks(app),
                                    actor="user", actor_user_id=tenant_a.user_id, refund="none")
        db.session.remove()
    assert [c["status"] for c in charges(app, booking_id)] == ["off"] * 3
    travel_to_charge_moment(app, tenant_a, stages(app, booking_id)[1]["due"])
    assert run_due_charges(app) == [] and off_session_creates(payments_sim) == []


def test_a_stage_paid_by_hand_before_its_date_is_not_charged_again(app, client, plan_shop, tenant_a,
                                                                    payments_sim, consumer):
    from app.extensions import db
    from app.services.payments import recording
    from app.web.links import WebLinks

    booking_id = new_booking(app, tenant_a, plan_shop.package_id, days=200)
    pay_deposit_with_autopay(app, client, payments_sim, tenant_a, booking_id)
    _activate(app, booking_id)
    second = stages(app, booking_id)[1]
    with app.app_context():
        recording.record_offline_payment(
            db.session, tenant_a.tenant_id, booking_id,
            recording.OfflinePayment([second["id"]], "cash"), WebLinks(app),
            actor_user_id=tenant_a.user_id)
        db.session.remove()
    assert [c["status"] for c in charges(app, booking_id)] == ["paid", "scheduled", "scheduled"]
    travel_to_charge_moment(app, tenant_a, second["due"])
    assert run_due_charges(app) == []
    assert off_session_creates(payments_sim) == []


def test_another_tenant_cannot_reach_the_autopay_choice_or_card_pages(app, client, plan_shop, tenant_a,
                                                                      tenant_b, payments_sim):
    from tests.integration.bookings.helpers import outbox_links, path_of

    booking_id = new_booking(app, tenant_a, plan_shop.package_id, days=200)
    path, html = open_deposit_checkout(app, client, tenant_a, booking_id)
    ref = path.rsplit("/", 1)[1]
    # Tenant A's signed stage reference under tenant B's address: not found, nothing changes.
    other = client.post(f"/t/{tenant_b.slug}/pay/{ref}/autopay",
                        data={"csrf_token": csrf_from(html), "autopay": "1"})
    assert other.status_code == 404 and mandate(app, booking_id) is None
    manage = path_of(outbox_links(app, booking_id)[-1]["manage"])
    token = manage.rsplit("/", 1)[1]
    assert client.get(f"/t/{tenant_b.slug}/b/{token}/autopay/card").status_code == 404
    assert client.get(f"/t/{tenant_b.slug}/b/{token}").status_code == 404
    off = client.post(f"/t/{tenant_b.slug}/b/{token}/autopay/off",
                      data={"csrf_token": csrf_from(html)})
    assert off.status_code == 404 and mandate(app, booking_id) is None


def test_the_offer_is_not_shown_when_the_tenant_does_not_offer_it(app, client, plan_shop, tenant_a,
                                                                   payments_sim):
    from app.extensions import db
    from app.services.autopay import settings

    with app.app_context():
        settings.update(db.session, tenant_a.tenant_id, tenant_a.user_id, offered=False,
                        retry_days_text="1,3,5")
        db.session.remove()
    booking_id = new_booking(app, tenant_a, plan_shop.package_id, days=200)
    path, html = open_deposit_checkout(app, client, tenant_a, booking_id)
    assert "automatically" not in html
    refused = choose_autopay(client, path, client.get("/t/alpha/").get_data(as_text=True))
    assert refused.status_code == 409 and mandate(app, booking_id) is None


def test_an_expiring_card_gets_one_email_asking_for_a_new_one(app, client, plan_shop, tenant_a,
                                                              payments_sim, consumer, inbox):
    from app.extensions import db
    from app.models import AutopayMandate
    from app.services.autopay import charging
    from app.web.links import WebLinks

    booking_id = new_booking(app, tenant_a, plan_shop.package_id, days=200)
    pay_deposit_with_autopay(app, client, payments_sim, tenant_a, booking_id)
    _activate(app, booking_id)
    first_due = stages(app, booking_id)[1]["due"]
    month_before = (first_due.replace(day=1) - timedelta(days=1))
    with app.app_context():
        assert charging.warn_expiring_cards(db.session, WebLinks(app)) == 0  # expires 2034
        row = db.session.scalar(select(AutopayMandate).where(AutopayMandate.booking_id == booking_id))
        row.card_exp_month, row.card_exp_year = month_before.month, month_before.year
        db.session.commit()
        assert charging.warn_expiring_cards(db.session, WebLinks(app)) == 1
        assert charging.warn_expiring_cards(db.session, WebLinks(app)) == 0  # once per card
        db.session.remove()
    mail = inbox.wait_for("couple@example.com", subject="expires before your next payment")[0]
    assert "/b/" in mail.get_body(preferencelist=("plain",)).get_content()


def test_a_saved_card_removed_at_stripe_fails_once_with_the_reason_instead_of_looping(
        app, client, plan_shop, tenant_a, payments_sim, consumer, inbox):
    booking_id = new_booking(app, tenant_a, plan_shop.package_id, days=200)
    pay_deposit_with_autopay(app, client, payments_sim, tenant_a, booking_id)
    saved = _activate(app, booking_id)
    vendor(payments_sim, tenant_a).v1.payment_methods.detach(saved["pm"])  # from Stripe's side
    travel_to_charge_moment(app, tenant_a, stages(app, booking_id)[1]["due"])
    assert run_due_charges(app) == ["failed"]
    charge = charges(app, booking_id)[0]
    assert charge["code"] == "refused" and charge["next"] is None
    assert run_due_charges(app) == []  # not retried, not retaken
    inbox.wait_for("couple@example.com", subject="overdue")
    inbox.wait_for(tenant_a.email, subject="Automatic payment of the")
    assert stages(app, booking_id)[1]["status"] == "due"
