"""The audit log as every app writes to it: who changed what, through which door.

Every change is recorded with :func:`record`, inside the transaction that makes it. Who an actor
is (a person acting with a role, an admin contact, the system) and where entries are kept belong to
the directory, which knows people: it hands its writer to :func:`set_writer` when it starts. So the
catalog, which sits below the directory, records its changes here without importing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class Actor(Protocol):
    """What the audit log needs of whoever acts (the directory's ``Actor`` is one)."""

    @property
    def label(self) -> str: ...

    @property
    def door(self) -> str: ...

    @property
    def person(self) -> Any: ...

    @property
    def role(self) -> str: ...


@dataclass(frozen=True)
class SystemActor:
    """The system itself (a sync, a load, a scheduled job), through ``door``."""

    label: str = "system"
    door: str = "system"
    person: None = None
    role: str = ""


Writer = Callable[..., Any]
_writer: Writer | None = None


def set_writer(writer: Writer) -> None:
    """Where entries go: ``writer(actor, action, summary, *, tld, person, before, after)``."""
    global _writer
    _writer = writer


def record(
    actor: Actor,
    action: str,
    summary: str,
    *,
    tld: Any = None,
    person: Any = None,
    before: object = None,
    after: object = None,
) -> Any:
    """Write one audit entry (in the caller's transaction) and return it."""
    if _writer is None:
        raise RuntimeError("no audit log: the directory app, which keeps it, is not installed")
    return _writer(actor, action, summary, tld=tld, person=person, before=before, after=after)
