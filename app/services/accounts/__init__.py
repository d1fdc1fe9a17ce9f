"""Tenants and their users: signup, login, staff invitations, password reset and the
tenant's settings (timezone, currency, locale)."""
