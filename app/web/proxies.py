"""Client addresses behind load balancers: `TRUSTED_PROXY_HOPS` proxies are believed.

With 0 (the default) X-Forwarded-* headers are ignored, so a client cannot choose the address
that rate limits and logs see. With N, werkzeug's ProxyFix takes the address, scheme, host and
port the Nth proxy from us reports; the setting is read per request so it can change in tests.
"""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxies:
    def __init__(self, app: Flask) -> None:
        self.flask_app = app
        self.wsgi_app = app.wsgi_app
        self._fixers: dict[int, ProxyFix] = {}

    def __call__(self, environ, start_response):
        hops = self.flask_app.config.get("TRUSTED_PROXY_HOPS", 0)
        if not hops:
            return self.wsgi_app(environ, start_response)
        fixer = self._fixers.get(hops)
        if fixer is None:
            fixer = self._fixers[hops] = ProxyFix(self.wsgi_app, x_for=hops, x_proto=hops,
                                                  x_host=hops, x_port=hops)
        return fixer(environ, start_response)


def install(app: Flask) -> None:
    app.wsgi_app = TrustedProxies(app)
