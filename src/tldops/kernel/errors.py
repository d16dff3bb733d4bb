"""Errors the services raise; each door turns them into its own kind of answer.

Every message is written for the person who caused it: it says what was wrong and what to do.
"""

from __future__ import annotations


class DirectoryError(Exception):
    """Base class. ``field`` names the input at fault, when there is one."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DirectoryError):
    """A value that cannot be accepted (an email, a phone number, an unknown ccTLD …)."""


class LimitReached(DirectoryError):
    """The ccTLD already has as many contacts as the community allows."""

    status = 409


class LinkInvalid(DirectoryError):
    """A signed link that is malformed, expired, or already used."""

    status = 410


class NotAuthorised(DirectoryError):
    """The actor may not do this (e.g. an authorisation from neither the admin address nor with it in copy)."""

    status = 403


class NotFound(DirectoryError):
    status = 404


#: Characters of a refused value an error message repeats.
_SHOWN = 60


def shown(value: str) -> str:
    """``value`` as an error message repeats it: cut short, so that a refused megabyte is not
    mailed or shown back whole."""
    return value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…"
