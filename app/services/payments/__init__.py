"""Money coming in: payment settings and schedules, stages, checkout PaymentIntents, recording
payments, and Stripe webhook events (the gateway protocol the Stripe adapter implements)."""
