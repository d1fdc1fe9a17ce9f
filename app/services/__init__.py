"""Domain logic, one package per feature. Plain functions taking a SQLAlchemy session, then
tenant_id; no Flask here. `shared` holds what every feature uses."""
