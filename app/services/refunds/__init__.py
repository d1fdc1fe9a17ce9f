"""Money going back: refund requests and their split across payments, the parts' journey to
Stripe and back, and the tenant's cancellation policy."""
