"""Serving a WSGI app on a background thread (tests, embedded runs)."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class RunningServer:
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.server.server_address[0]}:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve(app: Any, host: str = "127.0.0.1", port: int = 0, quiet: bool = True
          ) -> RunningServer:
    """Serve ``app`` threaded on a daemon thread; ``port`` 0 picks a free port."""
    server = make_server(host, port, app, threaded=True,
                         request_handler=_QuietHandler if quiet else None)
    # Let in-flight worker threads die with the process instead of blocking exit.
    server.daemon_threads = True  # type: ignore[attr-defined]
    # A short poll interval makes stop() quick (tests start many small servers).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"wsgi-{server.server_port}", daemon=True)
    thread.start()
    return RunningServer(server, thread)
