"""Rendered fragments cached under the directory version.

The directory and the coverage page are read far more often than they change. Their rendered HTML
is cached per process under :func:`tldops.directory.queries.directory_version` (so any change, made
by any process, is seen at once) plus whatever else the fragment depends on (search, page,
language, role). Whole pages are never cached: they carry the CSRF token and the user's menu.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from tldops.directory.cache import versioned

TIMEOUT = 3600


def cached_fragment(name: str, parts: tuple[object, ...], render: Callable[[], str]) -> SafeString:
    """The fragment ``name`` for ``parts`` in the active language, rendered by ``render()`` on a miss."""
    html = versioned(f"fragment:{name}", (get_language(), *parts), lambda: str(render()), TIMEOUT)
    return mark_safe(html)  # noqa: S308 - our own template output, escaped when rendered
