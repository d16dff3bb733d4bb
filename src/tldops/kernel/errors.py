"""Errors the services raise; each door turns them into its own kind of answer.

Every message is written for the person who caused it: it says what was wrong and what to do.
"""

from __future__ import annotations

from collections.abc import Sequence


class DirectoryError(Exception):
    """Base class. ``field`` names the input at fault, when there is one; ``index`` the item of a
    list input it is in (the n-th contact named, from 0), when the input is a list."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None, index: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.index = index

    @property
    def errors(self) -> list[DirectoryError]:
        """Every problem this error reports: itself, unless it gathers several
        (:class:`InvalidInputs`)."""
        return [self]

    def at(self, index: int) -> DirectoryError:
        """This error, said of the ``index``-th item of a list input."""
        for error in self.errors:
            error.index = index
        return self


class InvalidInput(DirectoryError):
    """A value that cannot be accepted (an email, a phone number, an unknown ccTLD …)."""


class InvalidInputs(InvalidInput):
    """Several values refused at once. Validation checks every field before it refuses, so that
    a person sees all that is wrong in one answer (a form, an API error, a mail reply) instead of
    correcting one field per attempt. ``message`` is every message in turn, for the doors that
    show one text (the CLI); ``errors`` the single errors, each with its ``field`` and ``index``."""

    def __init__(self, errors: Sequence[DirectoryError]) -> None:
        flat = [single for error in errors for single in error.errors]
        if not flat:
            raise ValueError("InvalidInputs needs at least one error")
        super().__init__(
            " ".join(e.message for e in flat), field=flat[0].field, index=flat[0].index
        )
        self._errors = flat

    @property
    def errors(self) -> list[DirectoryError]:
        return list(self._errors)

    def at(self, index: int) -> DirectoryError:
        self.index = index
        for error in self._errors:
            error.index = index
        return self


def raise_all(errors: Sequence[DirectoryError]) -> None:
    """Raise ``errors`` together (the one error itself when there is one); nothing if empty."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InvalidInputs(errors)


class LimitReached(DirectoryError):
    """The ccTLD already has as many contacts as the community allows."""

    status = 409


class LinkInvalid(DirectoryError):
    """A signed link that is malformed, expired, or already used."""

    status = 410


class LinkUsed(LinkInvalid):
    """A single-use link (or the reference of its mail) that has already been used: its answer
    was applied, and changing it takes a new link, not a corrected copy of the same answer."""


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
