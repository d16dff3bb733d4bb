"""The portal's views, by audience: public pages, the signed-in person's own pages, member pages
and staff pages. Each view parses the request, calls a service and renders its answer."""

from tldops.web.views.account import (
    home,
    leave,
    login_view,
    logout_view,
    profile,
    tokens,
    totp_setup,
)
from tldops.web.views.members import catalog, directory, tld_detail
from tldops.web.views.public import authorise, confirm, coverage, manage
from tldops.web.views.staff import audit, invitations, remove_member, reset_second_factor

__all__ = [
    "audit",
    "authorise",
    "catalog",
    "confirm",
    "coverage",
    "directory",
    "home",
    "invitations",
    "leave",
    "login_view",
    "logout_view",
    "manage",
    "profile",
    "remove_member",
    "reset_second_factor",
    "tld_detail",
    "tokens",
    "totp_setup",
]
