"""Shared steps for the Stripe contract tests (the SDK only)."""
from __future__ import annotations

from typing import Any

import stripe


def paid_intent(client: stripe.StripeClient, amount: int = 5000, currency: str = "usd",
                payment_method: str = "pm_card_visa", **extra: Any) -> stripe.PaymentIntent:
    """A succeeded PaymentIntent, created and confirmed in one call."""
    params: dict[str, Any] = {"amount": amount, "currency": currency,
                              "payment_method": payment_method, "confirm": True,
                              "payment_method_types": ["card"], **extra}
    return client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]


def new_intent(client: stripe.StripeClient, amount: int = 5000, currency: str = "usd",
               **extra: Any) -> stripe.PaymentIntent:
    params: dict[str, Any] = {"amount": amount, "currency": currency,
                              "payment_method_types": ["card"], **extra}
    return client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]


def direct_charge(client: stripe.StripeClient, account: str, amount: int = 5000,
                  currency: str = "usd", **extra: Any) -> stripe.PaymentIntent:
    """A succeeded PaymentIntent made on a connected account (a direct charge)."""
    params: dict[str, Any] = {"amount": amount, "currency": currency,
                              "payment_method": "pm_card_visa", "confirm": True,
                              "payment_method_types": ["card"], **extra}
    return client.v1.payment_intents.create(  # type: ignore[arg-type]
        params=params, options={"stripe_account": account})
