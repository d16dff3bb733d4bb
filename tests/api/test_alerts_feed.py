"""The member's MISP feed (/api/v1/alerts/feed/…): manifest.json, one event per alert and
hashes.csv hold exactly the alerts the token's owner may read, for every reader and every label;
every event loads in pymisp's MISPEvent with its TLP tag and the manifest's uuid; an event the
reader may not read is the same 404 as one that does not exist; the manifest costs the same
number of queries for 20 alerts as for 40."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pymisp import MISPEvent

from tests.alerts.conftest import build_community, raise_as
from tests.alerts.test_services import EXPECTED
from tests.api.conftest import ApiClient, token_for
from tldops.alerts import access, exchange
from tldops.directory import actions
from tldops.directory.audit import Actor

FEED = "/alerts/feed"
INDICATORS = ["evil.example", "192.0.2.7", "AS64500", "d41d8cd98f00b204e9800998ecf8427e"]


@pytest.fixture
def community(catalog, make_member, staff):
    return build_community(catalog, make_member, staff)


@pytest.fixture
def alerts(community):
    """One alert per label (and a public CLEAR one), each with indicators, by Ana (.fr); the RED
    one names Jan (.nl) and nobody else."""
    made = {}
    for label in ("CLEAR", "CLEAR-public", "GREEN", "AMBER", "AMBER+STRICT", "RED"):
        tlp = label.removesuffix("-public")
        made[label] = raise_as(
            community.ana,
            tlp,
            title=f"{label} wave",
            body="Seen since **Monday**.",
            affected=["fr", "nl"],
            public=label.endswith("public"),
            recipients=["jan@nic.nl"] if tlp == "RED" else [],
            indicators=INDICATORS,
        )
    return made


def _uuid(alert) -> str:
    return exchange.misp_event_uuid(alert.pk)


def test_the_feed_holds_exactly_what_each_reader_may_read(community, alerts):
    for who, reader in community.readers().items():
        client = ApiClient(token=token_for(reader) if reader else None)
        manifest = client.get(f"{FEED}/manifest.json")
        hashes = client.get(f"{FEED}/hashes.csv")
        events = {label: client.get(f"{FEED}/{_uuid(a)}.json") for label, a in alerts.items()}
        if who == "anonymous":  # no token: nothing, and no hint of what exists
            statuses = {manifest.status_code, hashes.status_code}
            assert statuses | {r.status_code for r in events.values()} == {401}
            continue
        if who == "pending":  # not (yet) a member: the feed, like the API, is for members
            statuses = {manifest.status_code, hashes.status_code}
            assert statuses | {r.status_code for r in events.values()} == {403}
            continue
        assert manifest.status_code == 200, (who, manifest.data)
        assert (
            manifest["Cache-Control"].startswith("private")
            and "no-store" in manifest["Cache-Control"]
        )
        allowed = {label for label in alerts if who in EXPECTED[label]}
        assert set(manifest.data) == {_uuid(alerts[label]) for label in allowed}, who
        for label, alert in alerts.items():
            assert (label in allowed) is access.can_read(reader, alert), (who, label)
            response = events[label]
            if label not in allowed:
                assert response.status_code == 404, (who, label)
                continue
            assert response.status_code == 200, (who, label, response.data)
            assert "no-store" in response["Cache-Control"]
            event = MISPEvent()
            event.load(response.body.decode())
            entry = manifest.data[event.uuid]  # the uuid in the manifest is the event's
            assert event.uuid == _uuid(alert) and entry["info"] == event.info
            tag = f"tlp:{alert.tlp.lower()}"
            assert tag in [t.name for t in event.tags] and entry["Tag"][0]["name"] == tag
            assert entry["timestamp"] == response.data["Event"]["timestamp"]
            assert {a.value for a in event.attributes if a.to_ids} == {
                "evil.example",
                "192.0.2.7",
                "64500",
                "d41d8cd98f00b204e9800998ecf8427e",
            }
        assert hashes.status_code == 200 and hashes["Content-Type"].startswith("text/csv")
        lines = list(csv.reader(io.StringIO(hashes.body.decode())))
        assert {uuid for _md5, uuid in lines} == set(manifest.data), who
        assert len(lines) == len(allowed) * len(INDICATORS)
        expected_md5 = hashlib.md5(b"evil.example", usedforsecurity=False).hexdigest()
        assert [expected_md5, _uuid(alerts["GREEN"])] in lines


def test_red_is_for_the_named_only_staff_included(community, alerts):
    red = _uuid(alerts["RED"])
    for who in ("member", "author"):  # Jan is named; Ana wrote it
        client = ApiClient(token=token_for(community.readers()[who]))
        assert red in client.get(f"{FEED}/manifest.json").data
        assert client.get(f"{FEED}/{red}.json").data["Event"]["Tag"][0]["name"] == "tlp:red"
    for who in ("colleague", "secretariat", "committee"):
        client = ApiClient(token=token_for(community.readers()[who]))
        assert red not in client.get(f"{FEED}/manifest.json").data
        assert b"TLP:RED" not in client.get(f"{FEED}/manifest.json").body
        assert client.get(f"{FEED}/{red}.json").status_code == 404


def test_an_event_not_in_the_feed_is_the_same_404_as_none(community, alerts):
    sec = ApiClient(token=token_for(community.sec))
    hidden = sec.get(f"{FEED}/{_uuid(alerts['RED'])}.json")
    made_up = sec.get(f"{FEED}/00000000-0000-4000-8000-000000000000.json")
    not_a_uuid = sec.get(f"{FEED}/not-a-uuid.json")
    assert hidden.status_code == made_up.status_code == not_a_uuid.status_code == 404
    assert hidden.data["field"] is made_up.data["field"] is None
    assert hidden.data["detail"].replace(_uuid(alerts["RED"]), "X") == made_up.data[
        "detail"
    ].replace("00000000-0000-4000-8000-000000000000", "X")
    assert "RED" not in hidden.data["detail"]


def test_bad_token_and_former_member(community, alerts):
    bad = ApiClient(token="tldops_made-up")
    for path in ("manifest.json", "hashes.csv", f"{_uuid(alerts['GREEN'])}.json"):
        response = bad.get(f"{FEED}/{path}")
        assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    token = token_for(community.marc)
    client = ApiClient(token=token)
    assert _uuid(alerts["GREEN"]) in client.get(f"{FEED}/manifest.json").data
    actions.leave(community.marc, actor=Actor.of(community.marc, "web"))
    gone = client.get(f"{FEED}/manifest.json")
    assert gone.status_code == 403 and gone.data["detail"]  # the token stays, the feed stops
    assert client.get(f"{FEED}/{_uuid(alerts['GREEN'])}.json").status_code == 403


def test_feed_event_is_the_misp_export(community, alerts):
    jan = ApiClient(token=token_for(community.jan))
    for alert in alerts.values():  # Jan reads them all: a member, named on the RED one
        exported = jan.get(f"/alerts/{alert.pk}/export/misp")
        fed = jan.get(f"{FEED}/{_uuid(alert)}.json")
        assert exported.status_code == fed.status_code == 200
        assert json.loads(exported.content) == fed.data
        entry = jan.get(f"{FEED}/manifest.json").data[_uuid(alert)]
        assert entry == {k: fed.data["Event"][k] for k in exchange.MANIFEST_FIELDS}


def test_the_manifest_costs_the_same_queries_for_more_alerts(community):
    client = ApiClient(token=token_for(community.jan))

    def add(n: int) -> None:
        for i in range(n):
            raise_as(
                community.ana,
                ("GREEN", "AMBER", "RED")[i % 3],
                title=f"alert {i}",
                affected=["fr"],
                recipients=["jan@nic.nl"] if i % 3 == 2 else [],
                indicators=[f"host{i}.evil.example"],
            )

    def cost(path: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{FEED}/{path}")  # the stream is read inside the context
        assert response.status_code == 200
        return len(queries)

    client.get("/me")  # the token's use is noted at most once a minute (an UPDATE): not counted
    add(20)
    before = {path: cost(path) for path in ("manifest.json", "hashes.csv")}
    assert len(client.get(f"{FEED}/manifest.json").data) == 20
    add(20)
    after = {path: cost(path) for path in ("manifest.json", "hashes.csv")}
    assert len(client.get(f"{FEED}/manifest.json").data) == 40
    assert after == before and max(after.values()) <= 8, after
