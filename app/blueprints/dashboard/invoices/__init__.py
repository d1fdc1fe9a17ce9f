from app.blueprints.dashboard.invoices import routes  # noqa: F401
