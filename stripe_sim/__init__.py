"""An offline Stripe simulator that the official ``stripe`` SDK talks to over HTTP.

Start it with ``python -m stripe_sim --port 12111`` or embed it with
:func:`create_app` (a WSGI app) and :func:`serve` (a background server).
Drive it from tests with :class:`SimControl`. It imports nothing from ``app/``.
"""
from __future__ import annotations

from .app import Simulator, create_app
from .client import SimControl
from .server import RunningServer, serve
from .webhooks import sign

__all__ = ["RunningServer", "SimControl", "Simulator", "create_app", "serve", "sign"]
