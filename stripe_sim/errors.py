"""Stripe-shaped API errors.

Invariant: every error the simulator returns to an API client is rendered by
:meth:`StripeError.body` as ``{"error": {...}}`` with the HTTP status Stripe uses
for that error type, so the official SDK maps it to the same exception class
(CardError, InvalidRequestError, IdempotencyError, RateLimitError,
AuthenticationError, APIError) as it would for real Stripe.
"""
from __future__ import annotations

from typing import Any

DOC_BASE = "https://docs.stripe.com/error-codes"


class StripeError(Exception):
    """An error to be answered in Stripe's JSON shape.

    ``replayable`` says whether an idempotent request that ended in this error
    saves it for replay. Stripe saves the outcome once an endpoint "started
    executing" (e.g. a card decline) but not for validation failures, so a
    client can fix its parameters and retry with the same key.
    """

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        replayable: bool = False,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.replayable = replayable
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = f"{DOC_BASE}#{self.code.replace('_', '-')}"
        if self.param:
            err["param"] = self.param
        if self.decline_code:
            err["decline_code"] = self.decline_code
        err.update(self.extra)
        return {"error": err}


def invalid(message: str, *, code: str | None = None, param: str | None = None,
            status: int = 400, replayable: bool = False,
            extra: dict[str, Any] | None = None) -> StripeError:
    """A 400 invalid_request_error (validation errors are not replayable)."""
    return StripeError(status, "invalid_request_error", message, code=code, param=param,
                       replayable=replayable, extra=extra)


def unknown_param(name: str) -> StripeError:
    return invalid(f"Received unknown parameter: {name}", code="parameter_unknown", param=name)


def missing_param(name: str) -> StripeError:
    return invalid(f"Missing required param: {name}.", code="parameter_missing", param=name)


def resource_missing(kind: str, id_: str, param: str = "id") -> StripeError:
    return invalid(f"No such {kind}: '{id_}'", code="resource_missing", param=param, status=404)


def state_error(message: str, *, code: str, param: str | None = None,
                extra: dict[str, Any] | None = None) -> StripeError:
    """An error raised after the endpoint started executing: saved for replay."""
    return invalid(message, code=code, param=param, replayable=True, extra=extra)


def card_error(message: str, *, code: str, decline_code: str | None,
               extra: dict[str, Any] | None = None) -> StripeError:
    return StripeError(402, "card_error", message, code=code, decline_code=decline_code,
                       param=None, replayable=True, extra=extra)


def auth_error(message: str) -> StripeError:
    return StripeError(401, "invalid_request_error", message)


def permission_error(message: str) -> StripeError:
    return StripeError(403, "invalid_request_error", message)


def api_error(message: str = "An unknown error occurred (simulated).") -> StripeError:
    return StripeError(500, "api_error", message)


def rate_limit_error() -> StripeError:
    return StripeError(429, "invalid_request_error",
                       "Too many requests hit the API too quickly (simulated).",
                       code="rate_limit")


def idempotency_error(message: str) -> StripeError:
    return StripeError(400, "idempotency_error", message)
