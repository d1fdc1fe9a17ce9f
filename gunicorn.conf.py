"""gunicorn settings for production: access logs without action tokens."""
import os

from gunicorn.glogging import Logger

from app.logsafety import redact


class RedactingLogger(Logger):
    """Request paths carry one-time tokens (/auth/reset/<token>); they never reach the logs."""

    def access(self, resp, req, environ, request_time):
        environ = dict(environ)
        for key in ("PATH_INFO", "RAW_URI", "REQUEST_URI", "QUERY_STRING", "HTTP_REFERER"):
            if key in environ:
                environ[key] = redact(environ[key])
        if hasattr(req, "path"):
            req.path, req.uri = redact(req.path), redact(getattr(req, "uri", ""))
        super().access(resp, req, environ, request_time)


logger_class = RedactingLogger
accesslog = "-"

# The README's production settings, shared by `make run`: one worker process per core and a
# spare; `-w` on the command line or WEB_CONCURRENCY overrides it.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
