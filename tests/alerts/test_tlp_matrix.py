"""TLP enforced in every door at once: every reader × every label × every door.

One alert per label (and a public CLEAR one), each with its own secret words in the title and the
text, raised through the service every door uses, with every mail the system then writes (list
copies, RED copies, personal notifications, daily alert digests, per-ccTLD slices). Then each kind
of reader looks through every door — portal pages, the public pages, the API (list, detail, STIX
and MISP exports, the MISP feed), the CLI, the list archive and its search — and the outbox and the
repository edition are searched for the words. A word where its label does not allow it fails the
test: a leak fails CI. ``EXPECTED`` (tests/alerts/test_services.py) is the one table of who may
read what; the door-specific tests (test_mail, test_notify, test_slices, tests/api, tests/web)
check the details of each door.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import json
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.alerts.conftest import raise_as
from tests.alerts.test_services import EXPECTED
from tests.api.conftest import ApiClient, token_for
from tests.lists.posting import fast_passwords  # noqa: F401 (autouse)
from tests.web.test_alert_pages import client_for
from tldops.alerts import notify, slices
from tldops.directory.audit import Actor
from tldops.lists import archive
from tldops.lists.models import ArchivedMessage
from tldops.mail.models import Delivery, OutboundMessage
from tldops.repository import editions

pytestmark = pytest.mark.django_db

LABELS = ("CLEAR", "CLEAR-public", "GREEN", "AMBER", "AMBER+STRICT", "RED")


@pytest.fixture(autouse=True)
def _no_dns(settings):
    settings.DMARC_MITIGATION = False


def secret(label: str) -> str:
    """The word only readers of ``label`` may ever see: ``zqamberstrictzq`` (none is a part of
    another)."""
    return "zq" + re.sub(r"[^a-z]", "", label.lower()) + "zq"


def all_text(raw: bytes) -> str:
    """Every header and every decoded part of a message (bodies are often base64 or QP)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = [str(v) for _k, v in msg.items()]
    for part in msg.walk():
        if part.is_multipart():
            continue
        out += [str(v) for _k, v in part.items()]
        payload = part.get_payload(decode=True) or b""
        out.append(payload.decode("utf-8", "replace"))
    return "\n".join(out)


@pytest.fixture
def world(community, catalog):
    """Every reader with a catch-all filter (half immediate, half digest), Jan with another
    address, then one alert per label with a domain under .fr and .nl (slices)."""
    c = community
    c.jan.alt_emails = ["jan.private@example.net"]
    c.jan.save()
    for i, person in enumerate([c.ana, c.marc, c.jan, c.sec, c.chair]):
        mode = "immediate" if i % 2 else "digest"
        notify.save_filter(person, notify.FilterInput(mode=mode), actor=Actor.of(person, "web"))
    alerts = {}
    for label in LABELS:
        word = secret(label)
        alerts[label] = raise_as(
            c.ana,
            label.removesuffix("-public"),
            title=f"Alert {word}",
            body=f"Details {word} here.",
            public=label == "CLEAR-public",
            recipients=["jan@nic.nl"] if label == "RED" else [],
            affected=["fr", "nl"],
            indicators=[f"{word}.fr", f"{word}.nl", f"{word}.bi"],
        )
    # The worker's jobs: slices at once, the digests the next day after the digest hour.
    slices.run_due()
    notify.run_due(timezone.now().astimezone(dt.UTC).replace(hour=23))
    return alerts


def leaks(text: str, who: str) -> list[str]:
    """The labels whose secret ``text`` holds although ``who`` may not read them."""
    return [label for label in LABELS if secret(label) in text and who not in EXPECTED[label]]


def missing(text: str, who: str, labels: tuple[str, ...] = LABELS) -> list[str]:
    return [label for label in labels if who in EXPECTED[label] and secret(label) not in text]


def test_portal_api_feed_and_exports_for_every_reader(community, world):
    for who, reader in community.readers().items():
        portal = client_for(reader)
        pages = [portal.get("/alerts/"), portal.get("/public/alerts/")]
        pages += [portal.get(f"/alerts/{a.pk}/") for a in world.values()]
        pages += [portal.get(f"/public/alerts/{a.pk}/") for a in world.values()]
        text = "\n".join(p.content.decode() for p in pages)
        assert leaks(text, who) == [], ("portal", who)

        token = token_for(reader) if reader is not None and reader.user is not None else None
        api = ApiClient(token=token)
        answers = [api.get("/alerts", limit=100), api.get("/alerts/feed/manifest.json")]
        for alert in world.values():
            answers += [
                api.get(f"/alerts/{alert.pk}"),
                api.get(f"/alerts/{alert.pk}/export/stix"),
                api.get(f"/alerts/{alert.pk}/export/misp"),
            ]
        text = "\n".join(getattr(a, "body", b"").decode() or a.content.decode() for a in answers)
        assert leaks(text, who) == [], ("api", who)
        if who in ("member", "author", "secretariat"):
            # What they may read does come through (the test would pass on a door that shows
            # nothing otherwise).
            assert missing(text, who) == [], ("api", who)


def test_cli_for_every_reader(community, world):
    for who, reader in community.readers().items():
        if reader is None:
            continue
        out = io.StringIO()
        try:
            call_command(
                "alert", "list", "--as", reader.email, "--format", "json", stdout=out,
                stderr=io.StringIO(),
            )  # fmt: skip
        except (SystemExit, Exception):  # noqa: BLE001 - refused: prints nothing it may not
            pass
        for alert in world.values():
            for args in (["show", str(alert.pk)], ["export", str(alert.pk), "--format", "misp"]):
                try:
                    call_command(
                        "alert", *args, "--as", reader.email, stdout=out, stderr=io.StringIO()
                    )
                except (SystemExit, Exception):  # noqa: BLE001, S110 - refused is the point
                    pass
        assert leaks(out.getvalue(), who) == [], ("cli", who)
        if who == "member":
            assert missing(out.getvalue(), who) == []


def test_archive_and_search_never_hold_red(community, world):
    stored = "\n".join(
        f"{m.subject}\n{m.body_text}\n{bytes(m.raw).decode('utf-8', 'replace')}"
        for m in ArchivedMessage.objects.all()
    )
    assert secret("RED") not in stored
    for label in ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT"):
        assert secret(label) in stored, label  # the list's archive keeps the others
    assert not archive.search(secret("RED"))
    assert archive.search(secret("AMBER"))
    for who in ("member", "secretariat", "author"):
        page = client_for(community.readers()[who]).get("/archive/search/", {"q": secret("RED")})
        assert page.status_code == 200
        # The query itself is echoed (the form, the language links); no result may hold it.
        shown = re.sub(f'(q=|value="){secret("RED")}', "", page.content.decode())
        assert secret("RED") not in shown


def test_every_mail_goes_only_to_readers_of_its_label(community, world):
    address_of = {p.email: who for who, p in community.readers().items() if p is not None}
    seen: dict[str, set[str]] = {label: set() for label in LABELS}
    for delivery in Delivery.objects.select_related("message"):
        text = all_text(bytes(delivery.message.raw))
        who = address_of.get(delivery.recipient, f"stranger {delivery.recipient}")
        assert delivery.recipient != "jan.private@example.net", delivery.message.purpose
        assert leaks(text, who) == [], (delivery.recipient, delivery.message.purpose)
        for label in LABELS:
            if secret(label) in text:
                seen[label].add(delivery.message.purpose)
    # The outbox's own pages and commands (staff read them) show no title staff may not read.
    for out in OutboundMessage.objects.all():
        assert leaks(out.subject, "secretariat") == [], (out.purpose, out.subject)
    # The mail that was meant to go did go: list copies, RED copies, notifications, digests and
    # slices (so the assertions above looked at something).
    assert {"list-post", "alert-notification", "alert-digest", "alert-slice"} <= seen["AMBER"]
    assert {"alert-red", "alert-slice"} <= seen["RED"]
    assert "list-post" not in seen["RED"]


def test_the_repository_edition_holds_no_alert(community, world):
    edition = editions.generate(timezone.now().strftime("%Y-%m"))
    text = "\n".join([edition.text, edition.csv, edition.vcf, json.dumps(edition.data)])
    for label in LABELS:
        assert secret(label) not in text
