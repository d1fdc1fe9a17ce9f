"""Autopay: a couple's consent to have their remaining installments charged to a saved card,
the off-session charge of each stage on its due date, retries and recovery when it fails."""
