"""Values cached per process under the directory version.

Pages and API answers that show the directory are read far more often than it changes. They are
kept in Django's cache under :func:`tldops.directory.queries.directory_version`, which every audited
change bumps (in any process), so a cached value is never older than the last change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

from tldops.directory.queries import directory_version

T = TypeVar("T")


def versioned(name: str, parts: tuple[object, ...], build: Callable[[], T], timeout: int) -> T:
    """The value ``name`` for ``parts`` at the current directory version; ``build()`` on a miss."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:24]
    key = f"{name}:{directory_version()}:{digest}"
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, timeout)
    return value
