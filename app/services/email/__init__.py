"""The outbox: emails composed as rows in the transaction that causes them, delivered at most
once per claim, retried with backoff and swept when lost."""
