"""Reminders as rows: the tenant's rules, planning each booking's reminders in local time,
claiming due ones and sending each at most once."""
