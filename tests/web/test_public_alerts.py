"""The public alert pages (/public/alerts/): only TLP:CLEAR alerts their author made public, for
every label × public flag and every reader, signed in or not; everything else is the same 404 as a
number that does not exist; no author name or address; nothing kept once an alert stops being
public."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.alerts.conftest import World, build_community, raise_as
from tests.web.test_alert_pages import client_for
from tldops.alerts.models import Alert

LABELS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")


@pytest.fixture
def world(catalog, make_member, staff) -> World:
    return build_community(catalog, make_member, staff)


def every_label_and_flag(world: World) -> dict[tuple[str, bool], Alert]:
    """An alert for every label, public or not. The services refuse ``public`` on anything but
    CLEAR; it is set here behind their back, as a bug or a later change of label could."""
    alerts = {}
    for label in LABELS:
        for public in (False, True):
            alert = raise_as(
                world.ana,
                label,
                title=f"Quebec-{label.lower()}-{'public' if public else 'members'} flood",
                body="Seen **since Monday**. <script>alert(1)</script>",
                affected=["nl"],
                recipients=["jan@nic.nl"] if label == "RED" else [],
                indicators=["evil.example", "192.0.2.7"],
            )
            Alert.objects.filter(pk=alert.pk).update(public=public)
            alerts[(label, public)] = alert
    return alerts


def page_of(response, pk: int) -> str:
    """The HTML of a page, without its own address and its (per-answer) CSRF tokens."""
    html = response.content.decode().replace(f"/public/alerts/{pk}/", "X")
    return re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]*', "", html)


def test_only_clear_and_public_on_the_public_pages_for_every_reader(world):
    alerts = every_label_and_flag(world)
    missing = max(a.pk for a in alerts.values()) + 100
    for who, reader in world.readers().items():
        client = client_for(reader)
        listing = client.get("/public/alerts/")
        assert listing.status_code == 200, who
        html = listing.content.decode()
        for (label, public), alert in alerts.items():
            shown = label == "CLEAR" and public
            assert (alert.title in html) is shown, (who, label, public)
            detail = client.get(f"/public/alerts/{alert.pk}/")
            assert detail.status_code == (200 if shown else 404), (who, label, public)
            if not shown:  # the same answer as for a number that does not exist
                nothing = client.get(f"/public/alerts/{missing}/")
                assert nothing.status_code == 404
                assert page_of(detail, alert.pk) == page_of(nothing, missing)
                assert alert.title not in detail.content.decode()
        assert "no-store" in listing["Cache-Control"] and "private" in listing["Cache-Control"]


def test_the_public_alert_page_shows_the_alert_but_no_person(world):
    alert = raise_as(
        world.ana,
        "CLEAR",
        title="Romeo phishing kit",
        body="Seen **since Monday**. <script>alert(1)</script> [x](javascript:alert(1))",
        affected=["fr", "nl"],
        severity="high",
        public=True,
        indicators=["evil.example", "192.0.2.7"],
    )
    response = Client().get(f"/public/alerts/{alert.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "TLP:CLEAR" in html and 'class="tlp tlp-clear"' in html
    assert "Romeo phishing kit" in html and "<strong>since Monday</strong>" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    assert '<bdi dir="ltr">.fr</bdi>, <bdi dir="ltr">.nl</bdi>' in html
    assert 'a contact of <bdi dir="ltr">.fr</bdi>' in html
    assert "evil.example" in html and "192.0.2.7" in html
    assert world.ana.name not in html and "Ana" not in html and world.ana.email not in html
    assert "@nic.fr" not in html
    assert "<form" not in html.split("<main", 1)[1]  # no reaction, status or upload form
    assert "no-store" in response["Cache-Control"]
    listing = Client().get("/public/alerts/").content.decode()
    assert "Romeo phishing kit" in listing and "Ana" not in listing and "@nic.fr" not in listing


def test_no_stale_public_copy_once_an_alert_is_no_longer_public(world):
    alert = raise_as(world.ana, "CLEAR", title="Sierra outage", public=True)
    anonymous = Client()
    assert anonymous.get(f"/public/alerts/{alert.pk}/").status_code == 200
    assert "Sierra outage" in anonymous.get("/public/alerts/").content.decode()
    Alert.objects.filter(pk=alert.pk).update(tlp="GREEN")
    assert anonymous.get(f"/public/alerts/{alert.pk}/").status_code == 404
    assert "Sierra outage" not in anonymous.get("/public/alerts/").content.decode()
    Alert.objects.filter(pk=alert.pk).update(tlp="CLEAR", public=False)
    assert anonymous.get(f"/public/alerts/{alert.pk}/").status_code == 404
    assert "Sierra outage" not in anonymous.get("/public/alerts/").content.decode()


def test_the_list_is_newest_first_and_paginated(world, monkeypatch):
    monkeypatch.setattr("tldops.web.views.public_alerts.ALERTS_PER_PAGE", 2)
    for n in range(3):
        raise_as(world.ana, "CLEAR", title=f"Tango wave {n}", public=True)
    first = Client().get("/public/alerts/").content.decode()
    assert first.index("Tango wave 2") < first.index("Tango wave 1")
    assert "Tango wave 0" not in first and "?page=2" in first
    second = Client().get("/public/alerts/?page=2").content.decode()
    assert "Tango wave 0" in second and "Tango wave 2" not in second


def test_the_public_pages_are_linked_and_read_only(world):
    assert 'href="/public/alerts/"' in Client().get("/").content.decode()
    assert Client().post("/public/alerts/").status_code == 405
    empty = Client().get("/public/alerts/").content.decode()
    assert 'id="no-public-alerts"' in empty
