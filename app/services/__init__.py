"""Domain logic. Plain functions taking a SQLAlchemy session, then tenant_id; no Flask here."""
