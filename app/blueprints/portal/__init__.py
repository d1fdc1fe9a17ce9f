"""The couple's portal (`routes.bp`) and the feature modules that add routes to it."""
from app.blueprints.portal import documents  # noqa: F401
