"""Settings from the environment, with embedded defaults; validated when the app starts.

Production (`MAIS_ENV=production`) has no defaults for secrets or services: a missing one stops
the start with its name. The embedded default generates its secrets once into `instance/`.
"""
from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_REQUIRED = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SMTP_URL", "BASE_URL",
                       # Stripe Connect: the platform's key and both endpoints' signing secrets.
                       "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET",
                       "STRIPE_CONNECT_WEBHOOK_SECRET")


class ConfigError(RuntimeError):
    """The environment cannot run the portal; the message names what is missing."""


def instance_path(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("MAIS_INSTANCE_PATH") or PROJECT_ROOT / "instance")


def sqlalchemy_url(database_url: str) -> str:
    """Map the operator's DATABASE_URL to the psycopg 3 driver SQLAlchemy should use."""
    for prefix in ("postgres://", "postgresql://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix):]
    return database_url


def _embedded_secrets(folder: Path) -> dict[str, str]:
    """Secrets for the embedded default, generated on first start and kept in instance/."""
    path = folder / "secrets.json"
    fresh = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_urlsafe(32),
        "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_" + secrets.token_urlsafe(32),
    }
    if path.exists():
        values = json.loads(path.read_text())
        missing = {k: v for k, v in fresh.items() if k not in values}
        if missing:  # an instance from before a secret existed: add it, keep the others
            values.update(missing)
            path.write_text(json.dumps(values))
        return values
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(fresh, fh)
    return fresh


def simulator_port(environ: Mapping[str, str], web_port: int) -> int:
    """STRIPE_SIM_PORT, or the web port + 10 (5000 -> 5010), so two checkouts run side by side."""
    return int(environ.get("STRIPE_SIM_PORT") or web_port + 10)


def _version() -> str:
    try:
        return metadata.version("mais")
    except metadata.PackageNotFoundError:  # running from a checkout without install
        return "0.0.0"


def load_config(environ: Mapping[str, str] | None = None) -> dict:
    """Build the Flask config from the environment, refusing an unsafe production setup."""
    env = os.environ if environ is None else environ
    production = env.get("MAIS_ENV", "development") == "production"
    folder = instance_path(env)
    if production:
        missing = [name for name in PRODUCTION_REQUIRED if not env.get(name)]
        if missing:
            raise ConfigError(
                "MAIS_ENV=production needs these environment variables: " + ", ".join(missing)
            )
        embedded: dict[str, str] = {}
    else:
        embedded = _embedded_secrets(folder)

    port = int(env.get("PORT", "5000"))
    database_url = env.get("DATABASE_URL") or f"sqlite:///{folder / 'mais.db'}"
    redis_url = env.get("REDIS_URL", "")
    stripe_secret = env.get("STRIPE_SECRET_KEY", "")
    stripe_api_base = env.get("STRIPE_API_BASE", "")
    if not stripe_secret:
        # No real key: the built-in simulator, which accepts any sk_test_/pk_test_ key.
        stripe_api_base = stripe_api_base or f"http://127.0.0.1:{simulator_port(env, port)}"
        stripe_secret = "sk_test_simulator"
    return {
        "MAIS_ENV": "production" if production else "development",
        "MAIS_VERSION": _version(),
        "SECRET_KEY": env.get("SECRET_KEY") or embedded["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url),
        "REDIS_URL": redis_url,
        "SMTP_URL": env.get("SMTP_URL", ""),
        "MAIL_FROM": env.get("MAIL_FROM", "MAIS <no-reply@mais.localhost>"),
        "BASE_URL": (env.get("BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/"),
        "PORT": port,
        "STRIPE_SECRET_KEY": stripe_secret,
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY", "pk_test_simulator"),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET")
        or embedded.get("STRIPE_WEBHOOK_SECRET", ""),
        # The Connect endpoint (/webhooks/stripe/connect) has its own signing secret.
        "STRIPE_CONNECT_WEBHOOK_SECRET": env.get("STRIPE_CONNECT_WEBHOOK_SECRET")
        or embedded.get("STRIPE_CONNECT_WEBHOOK_SECRET", ""),
        "STRIPE_DASHBOARD_URL": env.get("STRIPE_DASHBOARD_URL", "https://dashboard.stripe.com/"),
        # The platform fee on each card payment: percent in basis points plus a fixed part per
        # currency in minor units ("USD:30,EUR:25"); see app/services/connect/fees.py.
        "PLATFORM_FEE_BP": _fee_bp(env.get("PLATFORM_FEE_BP", "0")),
        "PLATFORM_FEE_FIXED": _fee_fixed(env.get("PLATFORM_FEE_FIXED", "")),
        "STRIPE_API_BASE": stripe_api_base,
        # Prefixed to every idempotency key: set it per installation sharing one Stripe account.
        "STRIPE_IDEMPOTENCY_PREFIX": env.get("STRIPE_IDEMPOTENCY_PREFIX", ""),
        # Stripe's events are a few kB; a body past this is refused (413) before it is read.
        "STRIPE_WEBHOOK_MAX_BYTES": int(env.get("STRIPE_WEBHOOK_MAX_BYTES", str(512 * 1024))),
        "PAYMENTS_MODE": "simulator" if stripe_api_base else "stripe",
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_ENABLED": env.get("RATELIMIT_ENABLED", "1") != "0",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Load balancers in front of the app whose X-Forwarded-* headers are believed (0: none).
        "TRUSTED_PROXY_HOPS": _non_negative(env, "TRUSTED_PROXY_HOPS", 0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,
        # Rendered pages kept per process while their tenant's data is unchanged
        # (app/web/page_cache.py); PAGE_CACHE=0 turns it off.
        "PAGE_CACHE": env.get("PAGE_CACHE", "1") != "0",
        # A pooled PostgreSQL connection idle longer than this is checked before use (app/postgres.py).
        "DATABASE_PING_AFTER_SECONDS": float(env.get("DATABASE_PING_AFTER_SECONDS", "10")),
        "PAGE_CACHE_MAX_BYTES": int(env.get("PAGE_CACHE_MAX_BYTES", str(32 * 1024 * 1024))),
        "DEV_MAILBOX": not production,
        "INSTANCE_PATH": str(folder),
        "EMAIL_MAX_ATTEMPTS": int(env.get("EMAIL_MAX_ATTEMPTS", "8")),
        "EMAIL_RETRY_BASE_SECONDS": float(env.get("EMAIL_RETRY_BASE_SECONDS", "30")),
        # A row left `sending` (its worker died before the server accepted it) is sent again
        # after this; chaos runs shorten it so the sweepers finish within the run.
        "EMAIL_STUCK_AFTER_SECONDS": float(env.get("EMAIL_STUCK_AFTER_SECONDS", "600")),
        # The minute sweeper re-queues a pending email only once it has been due this long: a
        # younger one still has its task on the way (queued at the commit, or its retry).
        "EMAIL_SWEEP_GRACE_SECONDS": float(env.get("EMAIL_SWEEP_GRACE_SECONDS", "120")),
        # A refund part that Stripe could not take (errors, 429s) is retried with exponential
        # backoff from this base, then failed (the owner can retry it from the dashboard).
        "REFUND_MAX_ATTEMPTS": int(env.get("REFUND_MAX_ATTEMPTS", "6")),
        "REFUND_RETRY_BASE_SECONDS": float(env.get("REFUND_RETRY_BASE_SECONDS", "30")),
        # When the sweepers take work back from a worker that died, or re-ask Stripe. Defaults
        # suit production; bench/chaos.py shortens them so its run ends with the sweepers done.
        "REFUND_STUCK_AFTER_SECONDS": float(env.get("REFUND_STUCK_AFTER_SECONDS", "120")),
        "REFUND_RECHECK_AFTER_SECONDS": float(env.get("REFUND_RECHECK_AFTER_SECONDS", "300")),
        "REMINDER_STUCK_AFTER_SECONDS": float(env.get("REMINDER_STUCK_AFTER_SECONDS", "600")),
        "STRIPE_EVENT_STUCK_AFTER_SECONDS": float(env.get("STRIPE_EVENT_STUCK_AFTER_SECONDS", "300")),
        # An automatic charge left `charging` this long by a worker that died is tried again
        # (with the same idempotency key, so Stripe replays its first answer).
        "AUTOPAY_CLAIM_STALE_SECONDS": float(env.get("AUTOPAY_CLAIM_STALE_SECONDS", "120")),
        "DOCUMENT_LOST_AFTER_SECONDS": float(env.get("DOCUMENT_LOST_AFTER_SECONDS", "120")),
        # Stripe calls: the client's timeout, the SDK's retries, and our own bounded attempts.
        "STRIPE_TIMEOUT_SECONDS": float(env.get("STRIPE_TIMEOUT_SECONDS", "20")),
        "STRIPE_NETWORK_RETRIES": int(env.get("STRIPE_NETWORK_RETRIES", "2")),
        "STRIPE_ATTEMPTS": int(env.get("STRIPE_ATTEMPTS", "4")),
    }


def _non_negative(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    if not raw.strip().isdigit():
        raise ConfigError(f"{name} must be a whole number of 0 or more, not {raw!r}.")
    return int(raw)


def _fee_bp(text: str) -> int:
    if not text.strip().isdigit() or int(text) > 10_000:
        raise ConfigError("PLATFORM_FEE_BP must be basis points from 0 to 10000 (1.5 % = 150)")
    return int(text)


def _fee_fixed(text: str) -> dict[str, int]:
    from app.services.connect.fees import parse_fixed

    try:
        return parse_fixed(text)
    except ValueError as exc:
        raise ConfigError(f"PLATFORM_FEE_FIXED: {exc} (e.g. USD:30,EUR:25)") from None


def _engine_options(database_url: str) -> dict:
    if database_url.startswith("sqlite"):
        # Web threads and consumer threads share the file: wait for locks instead of failing.
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    # Connections idle for a while are checked before use: app/postgres.py.
    return {}
