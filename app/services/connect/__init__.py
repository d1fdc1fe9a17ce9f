"""Stripe Connect: each tenant's own Stripe account (direct charges), the platform fee, Connect
webhooks (account status, deauthorization, disputes), and the vendor's balance and payouts."""
