"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest

from tldops.directory import permissions


def roles(request: HttpRequest) -> dict[str, object]:
    """Expose the signed-in person's role so templates show only what the role may use."""
    user = getattr(request, "user", None)
    return {
        "is_member": permissions.is_member(user),
        "is_staff_role": permissions.is_staff_role(user),
    }
