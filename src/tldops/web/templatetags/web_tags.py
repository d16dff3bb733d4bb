"""Small template helpers for the portal."""

from __future__ import annotations

import json
from collections.abc import Mapping

from django import template
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from tldops.directory.models import Phone
from tldops.directory.validation import format_phone

register = template.Library()

_LABELS = dict(Phone.Label.choices)


@register.filter
def phone(e164: str) -> str:
    """``+33123456789`` shown as ``+33 1 23 45 67 89``."""
    return format_phone(e164)


@register.filter
def phone_label(code: str) -> str:
    """The translated name of a phone label (office, mobile, 24/7, other)."""
    return str(_LABELS.get(code, code))


def _show(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@register.filter
def audit_diff(entry) -> list[tuple[str, str, str]]:
    """(key, before, after) for each key that differs between an audit entry's before and after."""
    before, after = entry.before, entry.after
    if isinstance(before, dict) or isinstance(after, dict):
        b = before if isinstance(before, dict) else {}
        a = after if isinstance(after, dict) else {}
        keys = list(dict.fromkeys([*b.keys(), *a.keys()]))
        return [(k, _show(b.get(k)), _show(a.get(k))) for k in keys if b.get(k) != a.get(k)]
    if before is None and after is None:
        return []
    return [("", _show(before), _show(after))]


@register.filter
def minutes(delta) -> int:
    """A timedelta in whole minutes (at least 1), for messages such as the lockout page."""
    try:
        return max(1, round(delta.total_seconds() / 60))
    except AttributeError:
        return 1


@register.simple_tag(takes_context=True)
def page_link(context: template.Context, number: int) -> str:
    """The pager's link to page ``number``: ``?`` + the view's ``pager_params`` (its own filters,
    the empty ones left out) + ``page``, and nothing else of the request's query string. Pages are
    cached and shared between members: a link copied from the address one member asked (say with
    ``next=https://evil.example/``) would otherwise be served to the others."""
    known: Mapping[str, object] = context.get("pager_params") or {}
    params = {k: v for k, v in known.items() if v not in ("", None)}
    params["page"] = number
    return "?" + urlencode(params)


@register.filter
def tlp_class(label: str) -> str:
    """The CSS class of a TLP label's badge: ``AMBER+STRICT`` → ``tlp-amber-strict``."""
    return "tlp-" + str(label).lower().replace("+", "-")


def _field(value: object, name: str) -> str | None:
    """``value.name`` or ``value[name]`` (a model or a ``values()`` row), None when it has none."""
    if isinstance(value, Mapping):
        found = value.get(name)
    else:
        found = getattr(value, name, None)
    return None if found is None else str(found)


@register.filter
def bdi(value: object, label: str = "ulabel") -> SafeString:
    """A ccTLD's name (or any left-to-right token) isolated as left-to-right text:
    ``<bdi dir="ltr">.fr</bdi>``, escaped. In a right-to-left page the bidi algorithm would
    otherwise move the leading dot to the far end and show ``.fr`` as ``fr.``.

    A ccTLD (a :class:`~tldops.catalog.models.Tld` or a row with its labels) is shown as
    ``.<U-label>``, or ``.<A-label>`` with ``|bdi:"alabel"``; any other value is shown as it is
    (``tld.display|bdi``). Safe, so it can be passed into ``{% blocktrans with t=x|bdi %}``."""
    text = None if isinstance(value, str) else _field(value, label)
    if text is not None:
        text = "." + text
    else:
        text = "" if value is None else str(value)
    return format_html('<bdi dir="ltr">{}</bdi>', text)
