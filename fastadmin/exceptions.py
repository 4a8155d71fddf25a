"""Errors a changelist turns into a readable page instead of a 500."""

from __future__ import annotations


class BadParameter(Exception):
    """A query-string parameter cannot be honoured; answered with HTTP 400 and this message."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class InvalidCursor(BadParameter):
    """A page cursor was altered, is malformed, or belongs to another sort order."""
