"""A member's own MISP feed: ``manifest.json``, one ``<uuid>.json`` event per alert and
``hashes.csv``, holding exactly the alerts that member may read (:func:`access.visible_to`).

MISP reads a feed as a directory: ``<url>/manifest.json`` maps each event's uuid to its summary
(``info``, ``Orgc``, ``Tag``, ``date``, ``analysis``, ``threat_level_id``, ``timestamp``…); it
fetches ``<url>/<uuid>.json`` (``{"Event": {…}}``) for each event it does not have or whose
``timestamp`` grew, and may read ``<url>/hashes.csv`` (``<md5 of a value>,<event uuid>``) to
correlate without fetching the events. The door (the API) authenticates the member with their
token; here the reader is a :class:`Person` and the rule is TLP's, nowhere else.

Each event is :func:`exchange.misp_event` (the same as the MISP download) and each manifest entry
:func:`exchange.misp_manifest_entry` (the same values), with the same stable uuids.

**Bounded.** The manifest and ``hashes.csv`` are generated in pieces from one query each (plus
the reader's community check), read with ``iterator()``: 10,000 alerts cost neither 10,000 queries
nor the whole document in memory. An event is found by its uuid among the reader's alerts (the
uuid is a uuid5 of the alert's number, not stored: one query of numbers, one uuid5 each).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from tldops.alerts import access, exchange, services
from tldops.alerts.models import Alert, Indicator
from tldops.directory.models import Person
from tldops.kernel.errors import NotFound, shown

#: Rows read from the database at a time.
CHUNK = 2000


def alerts(reader: Person | None) -> QuerySet[Alert]:
    """The alerts of ``reader``'s feed: exactly those they may read, newest first."""
    return access.visible_to(reader).select_related("author_tld").order_by("-created_at", "-id")


def manifest(reader: Person | None) -> Iterator[str]:
    """``manifest.json`` as JSON text, in pieces: ``{"<event uuid>": {summary}, …}``."""
    yield "{"
    separator = "\n"
    for alert in alerts(reader).iterator(chunk_size=CHUNK):
        entry = exchange.misp_manifest_entry(alert)
        key = exchange.misp_event_uuid(alert.pk)
        yield f"{separator}{json.dumps(key)}: {json.dumps(entry, ensure_ascii=False)}"
        separator = ",\n"
    yield "\n}\n"


def event(reader: Person | None, event_uuid: str) -> Alert:
    """The alert whose MISP event is ``event_uuid``, if ``reader`` may read it;
    :class:`NotFound` otherwise, whether it exists or not (the same answer as for a made-up
    uuid, so the feed tells nobody that a RED alert exists)."""
    not_found = NotFound(_("No event %(uuid)s in your feed.") % {"uuid": shown(event_uuid)})
    try:
        wanted = str(uuid.UUID(event_uuid))
    except ValueError:
        raise not_found from None
    numbers = alerts(reader).order_by().values_list("pk", flat=True)
    for pk in numbers.iterator(chunk_size=CHUNK):
        if exchange.misp_event_uuid(pk) == wanted:
            return services.get(reader, pk)  # the TLP rule again, on the alert itself
    raise not_found


def hashes(reader: Person | None) -> Iterator[str]:
    """``hashes.csv``: ``<md5 of the value>,<event uuid>`` for every indicator of the reader's
    alerts (MISP's feed format; the text attribute is not an indicator and is left out)."""
    visible = alerts(reader).order_by().values("pk")
    rows = (
        Indicator.objects.filter(alert__in=visible)
        .order_by("alert_id", "id")
        .values_list("alert_id", "kind", "value")
    )
    uuids: dict[int, str] = {}
    for alert_id, kind, value in rows.iterator(chunk_size=CHUNK):
        event_uuid = uuids.get(alert_id)
        if event_uuid is None:
            uuids.clear()  # ordered by alert: one at a time
            event_uuid = uuids[alert_id] = exchange.misp_event_uuid(alert_id)
        yield f"{exchange.misp_hash(kind, value)},{event_uuid}\n"
