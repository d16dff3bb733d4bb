"""Rendered fragments and pages cached under the directory version.

The directory and the coverage page are read far more often than they change. Their rendered HTML
is cached per process under :func:`tldops.directory.queries.directory_version` (so any change, made
by any process, is seen at once) plus whatever else the fragment depends on (search, page,
language, role).

:func:`cached_page` keeps a whole page the same way, with holes for what differs between two
people with the same role: the CSRF token and the page's own address (the language form's
``next``), filled in for each request. Only what is in the key may differ in the cached HTML:
the language, whether someone is signed in, the ``is_member`` and ``is_staff_role`` flags, and the
view's own ``parts``. While the page is rendered for the cache, ``user`` and ``request`` are
stand-ins that answer ``user.is_authenticated`` and ``request.get_full_path`` only; a template
that reads anything else of them (``user.email``, say) fails with :class:`NotInShell` instead of
caching one person's page for another. Pending messages (``django.contrib.messages``) bypass the
cache: they are shown once, to one person.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from tldops.directory import permissions
from tldops.directory.cache import versioned

TIMEOUT = 3600

#: Placeholders for the per-request values, random for each process so that no data can contain
#: them (a member naming themselves after a placeholder would otherwise get it replaced).
_HOLE = secrets.token_hex(12)
CSRF_HOLE = f"csrf{_HOLE}"
PATH_HOLE = f"path{_HOLE}"


def cached_fragment(name: str, parts: tuple[object, ...], render: Callable[[], str]) -> SafeString:
    """The fragment ``name`` for ``parts`` in the active language, rendered by ``render()`` on a miss."""
    html = versioned(f"fragment:{name}", (get_language(), *parts), lambda: str(render()), TIMEOUT)
    return mark_safe(html)  # noqa: S308 - our own template output, escaped when rendered


class NotInShell(Exception):  # noqa: N818 - reads as what it says
    """A cached page's template read something of the user or request that the cache key lacks."""


class _ShellUser:
    """``user`` while a page is rendered for the cache: whether someone is signed in, nothing more."""

    def __init__(self, user: Any) -> None:
        self.is_authenticated = bool(getattr(user, "is_authenticated", False))
        self.is_anonymous = not self.is_authenticated

    def __getattr__(self, name: str) -> Any:
        raise NotInShell(
            f"a cached page read user.{name}; render it per request or add it to the cache key"
        )


class _ShellRequest:
    """``request`` while a page is rendered for the cache: its address is a hole."""

    def get_full_path(self) -> str:
        return PATH_HOLE

    def __getattr__(self, name: str) -> Any:
        raise NotInShell(
            f"a cached page read request.{name}; render it per request or add it to the cache key"
        )


def cached_page(
    request: HttpRequest,
    template: str,
    context: Callable[[], Mapping[str, Any]],
    *,
    name: str,
    parts: tuple[object, ...],
) -> HttpResponse:
    """``render(request, template, context())``, kept under the directory version and ``parts``.

    ``parts`` must name everything the page's own content depends on besides the directory, the
    language and the role flags (search, page number …).
    """
    if len(get_messages(request)):  # counted, not consumed: the page below shows them
        return render(request, template, context())
    user = getattr(request, "user", None)
    flags = (
        bool(getattr(user, "is_authenticated", False)),
        permissions.is_member(user),
        permissions.is_staff_role(user),
    )

    def build() -> str:
        shell = {
            **context(),
            "csrf_token": CSRF_HOLE,
            "user": _ShellUser(user),
            "perms": None,
            "request": _ShellRequest(),
            "messages": (),
        }
        return render_to_string(template, shell, request=request)

    html = versioned(f"page:{name}", (get_language(), *flags, *parts), build, TIMEOUT)
    html = html.replace(CSRF_HOLE, get_token(request))
    html = html.replace(PATH_HOLE, escape(request.get_full_path()))
    return HttpResponse(html)
