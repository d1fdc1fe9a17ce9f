"""The deposit checkout: one PaymentIntent per stage, reused, adjusted, retried; the return page."""
from __future__ import annotations

import threading

from tests.fixtures.portal import post_form
from tests.integration.bookings.helpers import booking_form, future
from tests.integration.payments.helpers import (
    booking_status,
    checkout_path,
    client_secret,
    confirm,
    creates,
    intent_id,
    new_booking,
    payments_of,
    stages,
    vendor,
)


def test_booking_goes_to_the_deposit_checkout_with_one_intent_reused_on_reload(
        app, client, shop, tenant_a, payments_sim):
    response = post_form(client, "/t/alpha/", booking_form(shop.package_id, future(app, tenant_a.tenant_id)))
    assert response.status_code == 302 and response.headers["Location"].startswith("/t/alpha/pay/")
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Pay $750.00" in html  # 30 % of $2,500.00
    assert "Deposit ($750.00)" in html and "Balance" not in html.split("Pay everything")[0].split("For:")[1]

    [deposit, balance] = stages(app, _only_booking(app))
    assert (deposit["amount"], balance["amount"]) == (75000, 175000)
    [create] = creates(payments_sim)
    assert create["idempotency_key"] == f"stage-{deposit['id']}-pi-v1"
    assert create["params"]["amount"] == "75000" and create["params"]["currency"] == "usd"
    assert create["params"]["metadata"] == {
        "tenant_id": str(tenant_a.tenant_id), "booking_id": str(deposit_booking(app, deposit["id"])),
        "stage_id": str(deposit["id"]), "stage_ids": str(deposit["id"])}

    again = client.get(response.headers["Location"]).get_data(as_text=True)
    assert client_secret(again) == client_secret(html)
    assert len(creates(payments_sim)) == 1


def _only_booking(app) -> int:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Booking

    with app.app_context():
        booking_id = db.session.scalars(select(Booking.id)).one()
        db.session.remove()
    return booking_id


def deposit_booking(app, stage_id: int) -> int:
    from app.extensions import db
    from app.models import PaymentStage

    with app.app_context():
        booking_id = db.session.get(PaymentStage, stage_id).booking_id
        db.session.remove()
    return booking_id


def test_double_submission_creates_one_intent(app, shop, tenant_a, payments_sim):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking_id)[0]["id"])
    # The first create answers slowly, so the second click arrives while it is in flight.
    payments_sim.control.fail_next("timeout", 1, path_prefix="/v1/payment_intents", method="POST",
                                   delay=0.5, then="answer")
    results: list = [None, None]
    barrier = threading.Barrier(2)

    def click(n: int) -> None:
        c = app.test_client()
        barrier.wait()
        results[n] = c.get(path)

    threads = [threading.Thread(target=click, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [r.status_code for r in results] == [200, 200]
    secrets = {client_secret(r.get_data(as_text=True)) for r in results}
    assert len(secrets) == 1
    assert len(creates(payments_sim)) == 1
    listed = vendor(payments_sim, tenant_a).v1.payment_intents.list(params={"limit": 10})
    assert [pi.id for pi in listed.data] == [intent_id(secrets.pop())]


def test_injected_500s_and_429s_while_creating_are_retried_and_the_page_works(
        app, client, shop, tenant_a, payments_sim):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking_id)[0]["id"])
    payments_sim.control.fail_next(500, 2, path_prefix="/v1/payment_intents", method="POST")
    payments_sim.control.fail_next(429, 2, path_prefix="/v1/payment_intents", method="POST")
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:1500]
    attempts = creates(payments_sim)
    assert [a["status"] for a in attempts] == [500, 500, 429, 429, 200]
    assert len({a["idempotency_key"] for a in attempts}) == 1
    assert len(vendor(payments_sim, tenant_a).v1.payment_intents.list(params={"limit": 10}).data) == 1


def test_stripe_down_shows_a_clear_error_and_a_later_reload_works(app, client, shop, tenant_a,
                                                                 payments_sim):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking_id)[0]["id"])
    payments_sim.control.fail_next(500, 50, path_prefix="/v1/payment_intents", method="POST")
    page = client.get(path)
    assert page.status_code == 502
    assert "Nothing was charged" in page.get_data(as_text=True)
    payments_sim.control.clear_faults()
    assert client.get(path).status_code == 200
    keys = {a["idempotency_key"] for a in creates(payments_sim)}
    assert keys == {f"stage-{stages(app, booking_id)[0]['id']}-pi-v1"}


def test_paying_everything_updates_the_amount_on_the_same_intent(app, client, shop, tenant_a, payments_sim):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    deposit = stages(app, booking_id)[0]
    first = client_secret(client.get(checkout_path(app, "alpha", tenant_a.tenant_id, deposit["id"]))
                          .get_data(as_text=True))
    page = client.get(checkout_path(app, "alpha", tenant_a.tenant_id, deposit["id"], scope="all"))
    html = page.get_data(as_text=True)
    assert "Pay $2,500.00" in html and client_secret(html) == first
    pi = vendor(payments_sim, tenant_a).v1.payment_intents.retrieve(intent_id(first))
    assert pi.amount == 250000
    assert pi.metadata["stage_ids"] == ",".join(str(s["id"]) for s in stages(app, booking_id))
    client.get(checkout_path(app, "alpha", tenant_a.tenant_id, deposit["id"]))
    assert vendor(payments_sim, tenant_a).v1.payment_intents.retrieve(intent_id(first)).amount == 75000
    assert len(creates(payments_sim)) == 1

    confirm(payments_sim, intent_id(first))
    client.get(checkout_path(app, "alpha", tenant_a.tenant_id, deposit["id"]) + "/return"
               f"?payment_intent={intent_id(first)}")
    assert [s["status"] for s in stages(app, booking_id)] == ["paid", "due"]


def test_a_canceled_intent_is_replaced_by_the_next_version(app, client, shop, tenant_a, payments_sim):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    deposit = stages(app, booking_id)[0]
    path = checkout_path(app, "alpha", tenant_a.tenant_id, deposit["id"])
    old = intent_id(client_secret(client.get(path).get_data(as_text=True)))
    vendor(payments_sim, tenant_a).v1.payment_intents.cancel(old)
    new = intent_id(client_secret(client.get(path).get_data(as_text=True)))
    assert new != old
    assert [c["idempotency_key"] for c in creates(payments_sim)] == [
        f"stage-{deposit['id']}-pi-v1", f"stage-{deposit['id']}-pi-v2"]
    assert stages(app, booking_id)[0]["intent"] == new


def test_card_payment_is_recorded_once_from_the_return_page(app, client, shop, tenant_a, payments_sim):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    deposit = stages(app, booking_id)[0]
    path = checkout_path(app, "alpha", tenant_a.tenant_id, deposit["id"])
    pi = intent_id(client_secret(client.get(path).get_data(as_text=True)))
    confirm(payments_sim, pi)
    for _ in range(2):  # a reload of the return page
        page = client.get(f"{path}/return?payment_intent={pi}&redirect_status=succeeded")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and 'data-state="succeeded"' in html
        assert "Payment received" in html and "confirmed" in html
    assert booking_status(app, booking_id) == "confirmed"
    [payment] = payments_of(app, booking_id)
    assert (payment["amount"], payment["currency"], payment["intent"]) == (75000, "USD", pi)
    assert _email_kinds(app) .count("payment_receipt") == 1
    assert _email_kinds(app).count("booking_confirmed") == 1
    # The checkout link now says it is paid rather than offering to pay again.
    assert 'data-state="paid"' in client.get(path).get_data(as_text=True)


def _email_kinds(app) -> list[str]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboundEmail

    with app.app_context():
        kinds = list(db.session.scalars(select(OutboundEmail.kind).order_by(OutboundEmail.id)))
        db.session.remove()
    return kinds


def test_declined_card_shows_the_reason_and_another_card_succeeds(app, client, shop, tenant_a, payments_sim):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking_id)[0]["id"])
    pi = intent_id(client_secret(client.get(path).get_data(as_text=True)))
    confirm(payments_sim, pi, "pm_card_chargeDeclined")
    html = client.get(f"{path}/return?payment_intent={pi}&redirect_status=failed").get_data(as_text=True)
    assert 'data-state="failed"' in html and "Your card was declined." in html
    assert "Try another card" in html
    retry = client.get(path).get_data(as_text=True)
    assert intent_id(client_secret(retry)) == pi and "Your card was declined." in retry
    confirm(payments_sim, pi)
    assert 'data-state="succeeded"' in client.get(f"{path}/return?payment_intent={pi}").get_data(as_text=True)
    assert booking_status(app, booking_id) == "confirmed" and len(payments_of(app, booking_id)) == 1


def test_processing_payment_is_settled_by_the_periodic_reconcile(app, client, shop, tenant_a, payments_sim):
    from datetime import timedelta

    from app.services.shared import clock
    from app.tasks.payments import reconcile_processing_payments

    booking_id = new_booking(app, tenant_a, shop.package_id)
    path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking_id)[0]["id"])
    pi = intent_id(client_secret(client.get(path).get_data(as_text=True)))
    confirm(payments_sim, pi, "pm_sim_processing")
    html = client.get(f"{path}/return?payment_intent={pi}").get_data(as_text=True)
    assert 'data-state="processing"' in html
    assert stages(app, booking_id)[0]["status"] == "processing"
    assert 'data-state="processing"' in client.get(path).get_data(as_text=True)

    payments_sim.control._call("POST", f"/payment_intents/{pi}/settle", {"outcome": "succeeded"})
    clock.advance(timedelta(minutes=3))
    assert reconcile_processing_payments.call_local() == 1
    assert stages(app, booking_id)[0]["status"] == "paid"
    assert booking_status(app, booking_id) == "confirmed" and len(payments_of(app, booking_id)) == 1
    assert reconcile_processing_payments.call_local() == 0


def test_jpy_booking_pays_a_zero_decimal_deposit(app, client, make_account, payments_sim):
    from app.extensions import db
    from app.services.bookings import catalog

    sakura = make_account("sakura", currency="JPY", timezone="Asia/Tokyo")
    with app.app_context():
        package = catalog.save_package(db.session, sakura.tenant_id, sakura.user_id, title="Hanami",
                                       description="", price_text="333333")
        package_id = package.id
        db.session.remove()
    booking_id = new_booking(app, sakura, package_id)
    [deposit, balance] = stages(app, booking_id)
    assert (deposit["amount"], balance["amount"], deposit["currency"]) == (100000, 233333, "JPY")
    path = checkout_path(app, "sakura", sakura.tenant_id, deposit["id"])
    html = client.get(path).get_data(as_text=True)
    assert "Pay ¥100,000" in html
    [create] = creates(payments_sim)
    assert (create["params"]["amount"], create["params"]["currency"]) == ("100000", "jpy")
    pi = intent_id(client_secret(html))
    confirm(payments_sim, pi)
    done = client.get(f"{path}/return?payment_intent={pi}").get_data(as_text=True)
    assert "We received ¥100,000" in done
    assert payments_of(app, booking_id)[0]["amount"] == 100000
    assert booking_status(app, booking_id) == "confirmed"


def test_a_return_with_another_stages_intent_is_not_found(app, client, shop, tenant_a, payments_sim):
    first = new_booking(app, tenant_a, shop.package_id, days=60)
    second = new_booking(app, tenant_a, shop.package_id, days=61)
    p1 = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, first)[0]["id"])
    p2 = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, second)[0]["id"])
    client.get(p1)
    pi2 = intent_id(client_secret(client.get(p2).get_data(as_text=True)))
    confirm(payments_sim, pi2)
    assert client.get(f"{p1}/return?payment_intent={pi2}").status_code == 404
    assert client.get(f"{p1}/return?payment_intent=pi_forged").status_code == 404
    assert payments_of(app, first) == []


def test_a_processing_deposit_keeps_the_date_past_the_hold(app, client, shop, tenant_a, payments_sim):
    from datetime import timedelta

    from app.extensions import db
    from app.services.bookings import lifecycle as bookings
    from app.services.shared import clock

    booking_id = new_booking(app, tenant_a, shop.package_id)
    path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking_id)[0]["id"])
    pi = intent_id(client_secret(client.get(path).get_data(as_text=True)))
    confirm(payments_sim, pi, "pm_sim_processing")
    client.get(f"{path}/return?payment_intent={pi}")
    other = new_booking(app, tenant_a, shop.package_id, days=61)
    clock.advance(timedelta(minutes=45))
    with app.app_context():
        assert bookings.release_expired_holds(db.session) == 1
        db.session.remove()
    assert booking_status(app, booking_id) == "pending_deposit"
    assert booking_status(app, other) == "expired"


def test_a_create_that_times_out_but_went_through_is_replayed_not_duplicated(app, client, shop, tenant_a,
                                                                              payments_sim):
    app.config["STRIPE_TIMEOUT_SECONDS"] = 0.3  # restored below; the fault answers after 0.8 s
    try:
        booking_id = new_booking(app, tenant_a, shop.package_id)
        path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking_id)[0]["id"])
        payments_sim.control.fail_next("timeout", 1, path_prefix="/v1/payment_intents", method="POST",
                                       delay=0.8, then="answer")
        page = client.get(path)
    finally:
        app.config.pop("STRIPE_TIMEOUT_SECONDS")
    assert page.status_code == 200
    attempts = creates(payments_sim)
    assert len(attempts) >= 2 and len({a["idempotency_key"] for a in attempts}) == 1
    # The timed-out request still ran at Stripe: exactly one of the attempts created the intent.
    assert sum(1 for a in attempts if a["status"] == 200 and not a["replayed"]) == 1
    listed = vendor(payments_sim, tenant_a).v1.payment_intents.list(params={"limit": 10}).data
    assert [pi.id for pi in listed] == [intent_id(client_secret(page.get_data(as_text=True)))]


def test_offline_payment_cancels_the_open_checkout_intent(app, client, owner_client, shop, tenant_a,
                                                          payments_sim, consumer):
    from tests.fixtures.portal import post_form
    from tests.integration.payments.helpers import wait_until

    booking_id = new_booking(app, tenant_a, shop.package_id)
    path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking_id)[0]["id"])
    pi = intent_id(client_secret(client.get(path).get_data(as_text=True)))
    response = post_form(owner_client, f"/dashboard/bookings/{booking_id}/payments/offline",
                         {"scope": "next", "method": "cash"}, get_url=f"/dashboard/bookings/{booking_id}/payments")
    assert response.status_code == 302
    wait_until(lambda: vendor(payments_sim, tenant_a).v1.payment_intents.retrieve(pi).status == "canceled")
    assert 'data-state="paid"' in client.get(path).get_data(as_text=True)
    assert [p["method"] for p in payments_of(app, booking_id)] == ["cash"]


class FakeGateway:
    """Stripe that refuses to update the intent's amount (as for an intent mid-confirmation)."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.intents: dict = {}

    def _intent(self, pi_id, amount, status="requires_payment_method", metadata=None):
        from app.services.payments.gateway import Intent

        intent = Intent(pi_id, status, amount, 0, "USD", f"{pi_id}_secret_x", metadata or {})
        self.intents[pi_id] = intent
        return intent

    def create_intent(self, *, account, amount, currency, metadata, idempotency_key, application_fee,
                      description="", receipt_email=""):
        self.calls.append(("create", idempotency_key, amount))
        return self._intent(f"pi_fake{len(self.intents) + 1}", amount, metadata=metadata)

    def retrieve_intent(self, intent_id, *, account):
        self.calls.append(("retrieve", intent_id))
        return self.intents[intent_id]

    def update_intent(self, intent_id, *, account, amount, metadata, idempotency_key, application_fee):
        from app.services.payments.gateway import IntentStateConflict

        self.calls.append(("update", idempotency_key, amount))
        raise IntentStateConflict()

    def cancel_intent(self, intent_id, *, account, idempotency_key):
        self.calls.append(("cancel", idempotency_key))
        old = self.intents[intent_id]
        return self._intent(intent_id, old.amount, "canceled", old.metadata)


def test_an_amount_stripe_will_not_update_replaces_the_intent_and_cancels_the_old(app, shop, tenant_a):
    from app.extensions import db
    from app.services.connect.fees import FeePolicy
    from app.services.payments import checkout
    from app.web.links import WebLinks

    booking_id = new_booking(app, tenant_a, shop.package_id)
    deposit = stages(app, booking_id)[0]
    gateway = FakeGateway()
    with app.app_context():
        first = checkout.open_checkout(db.session, tenant_a.tenant_id, deposit["id"], gateway, WebLinks(app),
                                       fees=FeePolicy())
        everything = checkout.open_checkout(db.session, tenant_a.tenant_id, deposit["id"], gateway,
                                            WebLinks(app), pay_all=True, fees=FeePolicy())
        db.session.remove()
    assert (first.intent_id, first.amount_minor) == ("pi_fake1", 75000)
    assert (everything.intent_id, everything.amount_minor) == ("pi_fake2", 250000)
    key = f"stage-{deposit['id']}-pi-v"
    assert [c for c in gateway.calls if c[0] != "retrieve"] == [
        ("create", key + "1", 75000), ("update", key + "1-r1", 250000), ("cancel", key + "1-cancel"),
        ("create", key + "2", 250000)]
    assert stages(app, booking_id)[0]["intent"] == "pi_fake2"


def test_webhook_and_return_page_racing_record_the_payment_once(app, client, shop, tenant_a, payments_sim):
    from app.adapters.stripe_gateway import gateway_for
    from app.extensions import db
    from app.services.payments import recording as payments
    from app.web.links import WebLinks

    booking_id = new_booking(app, tenant_a, shop.package_id)
    path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking_id)[0]["id"])
    pi = intent_id(client_secret(client.get(path).get_data(as_text=True)))
    confirm(payments_sim, pi)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def reconcile(source: str) -> None:
        with app.app_context():
            barrier.wait()
            outcomes.append(payments.reconcile_intent(db.session, pi, gateway_for(app), WebLinks(app),
                                                      source=source).outcome)
            db.session.remove()

    threads = [threading.Thread(target=reconcile, args=(s,))
               for s in ("webhook", "return_page", "sweeper", "webhook")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["already_recorded"] * 3 + ["recorded"]
    assert len(payments_of(app, booking_id)) == 1
    assert booking_status(app, booking_id) == "confirmed"
    assert _email_kinds(app).count("payment_receipt") == 1
