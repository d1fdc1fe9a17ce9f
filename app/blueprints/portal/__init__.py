"""The couple's portal (`routes.bp`) and the feature modules that add routes to it."""
from app.blueprints.portal import autopay, documents  # noqa: F401
