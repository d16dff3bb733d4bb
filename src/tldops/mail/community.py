"""The community's list as the mail core offers it to the capabilities that are not the list.

Capabilities never import one another (docs/architecture.md). Yet the alerts app must put an
alert on the list — as a post the list distributes, archives and threads like any other — and
must see, before the list distributes it, a post that is an alert or a reply to one: a post
tagged ``[TLP:RED]`` must never reach the list, a reply to a RED alert must reach only the
alert's readers. So the mail core holds three small registries, filled when the apps start, as
the intake's routing table is (:func:`tldops.mail.intake.add_route`):

- **the poster** — the list registers the one function that puts a message on the list
  (:func:`register_poster`); another app calls :func:`post`.
- **watchers** — an app registers a function that looks at every post the list is about to
  distribute (:func:`add_watcher`). :func:`screen` asks every watcher, before the list's chain
  decides, whether the post must never be held for the moderators (what is confidential is not
  shown to people it does not name); :func:`take` asks them, in the transaction that distributes
  the post, what becomes of it: distributed with a label and a banner, diverted (the watcher
  delivered it itself, to fewer people), or refused (nobody gets it; the sender is told why).
- **help topics** — ``help alert`` to the ``-request`` address sends the alerts app's template
  (:func:`add_help_topic`, :func:`help_topic`);
- **the subject** of the community's mail (:func:`subject`): the list's tag, then a label
  (``[TLD-OPS][TLP:AMBER] …``), written the same by the list's handler and by an app that writes
  to fewer people than the list (a TLP:RED alert's copies, personal notifications, slices).

The registries hold dotted paths or functions; the mail core imports none of the apps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _


class Action(StrEnum):
    #: To the list, with the verdict's subject label and banner.
    DISTRIBUTE = "distribute"
    #: Not to the list: the watcher has delivered it itself, to the people who may read it.
    DIVERT = "divert"
    #: To nobody: the sender is told :attr:`Verdict.reason`.
    REFUSE = "refuse"


@dataclass(frozen=True)
class ListPost:
    """A post as a watcher sees it: the message, who sent it, and whether the From address is
    authentic (:attr:`tldops.mail.senderauth.SenderCheck.authentic`: verified, or believed
    because the operator switched verification off). A post let through because a moderator
    pinned its unverifiable sender, or approved it, is not: a watcher must not act in the
    sender's name on it."""

    msg: EmailMessage
    sender: str
    person: Any  # the directory's Person, or None (the mail core does not know the directory)
    message_id: str
    authentic: bool
    post_id: int | None = None


@dataclass(frozen=True)
class Verdict:
    action: Action
    #: Why (refused: what the sender is told; otherwise a line for the log).
    reason: str = ""
    #: Put after the list's tag in the subject, once: ``[TLP:AMBER]``.
    label: str = ""
    #: Replaces the subject (before the list's tag and the label are added).
    subject: str | None = None
    #: Lines put at the top of the text, above what the author wrote.
    banner: str = ""
    #: Kept from the archive's and the moderators' eyes (Post.subject blanked, for instance).
    confidential: bool = False


Watcher = Callable[[ListPost], "Verdict | None"]
Screen = Callable[[EmailMessage], str]
Poster = Callable[..., str]

_watchers: dict[str, tuple[Screen, Watcher]] = {}
_poster: list[Poster] = []
_help: dict[str, str] = {}


def add_watcher(name: str, screen: Screen, take: Watcher) -> None:
    """Register (or replace) the watcher ``name``: ``screen(msg)`` says why a post must never be
    held for the moderators ("" if it may), ``take(post)`` what becomes of a post the list is
    about to distribute (``None``: nothing to say, an ordinary post)."""
    _watchers[name] = (screen, take)


def remove_watcher(name: str) -> None:
    _watchers.pop(name, None)


def screen(msg: EmailMessage) -> str:
    """Why this post must never be held for the moderators or shown to them ("" if it may): the
    first watcher's reason. No change is made; it is asked before the list's chain decides."""
    for check, _take in _watchers.values():
        if reason := check(msg):
            return reason
    return ""


def take(post: ListPost) -> Verdict | None:
    """What becomes of ``post``, which the list is about to distribute: the first watcher's
    verdict, or ``None`` for an ordinary post. Runs in the distributing transaction: a watcher
    that stores something (an alert, a reply in its thread) stores it with the post or not at
    all."""
    for _screen, watch in _watchers.values():
        if (verdict := watch(post)) is not None:
            return verdict
    return None


def register_poster(poster: Poster) -> None:
    """The list registers the function that puts a message on it (the list's ``ready()``)."""
    _poster[:] = [poster]


def post(msg: EmailMessage, *, sender: str, person: Any, verdict: Verdict) -> str:
    """Put ``msg`` on the list as a post by ``person`` (authenticated by the door that called, so
    the list's rules are not asked again), labelled as ``verdict`` says; returns its Message-ID.
    Runs in the caller's transaction. Watchers do not see it: the caller is the one that knows
    what it is."""
    if not _poster:
        raise RuntimeError("no list is installed to post to")
    return _poster[0](msg, sender=sender, person=person, verdict=verdict)


def add_help_topic(topic: str, template: str) -> None:
    """``help <topic>`` to the ``-request`` address answers with ``template`` (a template name)."""
    _help[topic.lower()] = template


def help_topic(topic: str) -> str:
    """The template of ``help <topic>``, or "" for a topic nobody registered."""
    return _help.get(topic.lower(), "")


def help_topics() -> list[str]:
    return sorted(_help)


def tagged(subject: str, tag: str, label: str = "") -> str:
    """``subject`` with ``tag`` (and ``label`` right after it) in front, unless it already
    carries them (``Re: [TLD-OPS] x``); a reply that lost the label gets it back after the tag
    (``Re: [TLD-OPS][TLP:AMBER] x``), and neither is ever written twice."""
    subject = " ".join(subject.split())
    if label and label.lower() not in subject.lower():
        at = subject.lower().find(tag.lower()) if tag else -1
        if at >= 0:  # "Re: [TLD-OPS] x" → "Re: [TLD-OPS][TLP:AMBER] x"
            end = at + len(tag)
            return f"{subject[:end]}{label} {subject[end:].lstrip()}".rstrip()
        return f"{tag}{label} {subject or _('(no subject)')}"
    if not tag:
        return subject
    if tag.lower() in subject.lower():
        return subject
    if label and subject.lower().startswith(
        label.lower()
    ):  # "[TLP:AMBER] x" → "[TLD-OPS][TLP:AMBER] x"
        return f"{tag}{subject}"
    return f"{tag} {subject or _('(no subject)')}"


def subject(text: str, label: str = "") -> str:
    """The subject of community mail that is not a list post: the list's tag
    (``TLDOPS_SUBJECT_TAG``) and ``label`` in front of ``text``, as :func:`tagged` writes them."""
    return tagged(text, settings.SUBJECT_TAG, label)
