"""Domain errors. `app/errors.py` maps each to an HTTP status and a page or fragment."""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    default_message = "That request could not be completed."

    def __init__(self, message: str | None = None, **details) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details


class NotFound(DomainError):
    """Absent, or another tenant's: the two must look the same."""

    status = 404
    default_message = "We could not find that."


class InvalidLink(DomainError):
    """A token that is unknown, expired, used, for another purpose or another tenant."""

    status = 410
    default_message = "This link has expired or has already been used."


class ValidationFailed(DomainError):
    """Bad input; `fields` maps a field name to its message. Nothing was written."""

    status = 400

    def __init__(self, fields: dict[str, str], message: str | None = None) -> None:
        super().__init__(message or "; ".join(fields.values()), fields=fields)
        self.fields = fields


class Conflict(DomainError):
    status = 409
    default_message = "That conflicts with the current state; reload and try again."


class DateTaken(Conflict):
    """The date filled up (possibly a moment ago, by another couple); `free_dates` are nearby."""

    default_message = "That date has just been booked."

    def __init__(self, message: str | None = None, free_dates: list | None = None) -> None:
        super().__init__(message, free_dates=free_dates or [])
        self.free_dates = free_dates or []


class InvalidTransition(Conflict):
    """A state change the state machine does not allow."""


class PermissionDenied(DomainError):
    status = 403
    default_message = "Your role does not allow that."
