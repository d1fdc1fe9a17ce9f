"""The only modules that talk to the outside world: SMTP, Stripe, PDF rendering."""
