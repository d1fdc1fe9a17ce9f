"""What every task needs: the bound app's context and session, its Stripe gateway and links."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy.orm import Session

from app.extensions import db
from app.queue import bound_app


@contextmanager
def app_session() -> Iterator[tuple[Flask, Session]]:
    app = bound_app()
    with app.app_context():
        yield app, db.session
