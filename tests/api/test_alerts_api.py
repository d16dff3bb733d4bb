"""/api/v1/alerts: the TLP rule through the API door, for every reader and every label, and the
raise / answer / status endpoints with their errors."""

from __future__ import annotations

import pytest

from tests.alerts.conftest import build_community, raise_as
from tests.alerts.test_services import EXPECTED
from tests.api.conftest import ApiClient, token_for
from tldops.alerts.models import Alert


@pytest.fixture
def community(catalog, make_member, staff):
    return build_community(catalog, make_member, staff)


@pytest.fixture
def clients(community):
    out = {"anonymous": ApiClient()}
    for who, person in community.readers().items():
        if person is not None:
            out[who] = ApiClient(token=token_for(person))
    return out


def test_tlp_matrix_through_the_api(community, clients):
    alerts = {
        label: raise_as(
            community.ana, label.removesuffix("-public"), public=label.endswith("public")
        )
        for label in ("CLEAR", "CLEAR-public", "GREEN", "AMBER", "AMBER+STRICT")
    }
    alerts["RED"] = raise_as(community.ana, "RED", recipients=["jan@nic.nl"])
    for who, client in clients.items():
        listing = client.get("/alerts")
        detail = {label: client.get(f"/alerts/{a.pk}").status_code for label, a in alerts.items()}
        if who in ("anonymous",):
            assert listing.status_code == 401 and set(detail.values()) == {401}
            continue
        if who == "pending":  # not a member: the API is for members and staff
            assert listing.status_code == 403 and set(detail.values()) == {403}
            continue
        listed = {item["id"] for item in listing.data["items"]}
        for label, alert in alerts.items():
            allowed = who in EXPECTED[label]
            assert (alert.pk in listed) is allowed, (who, label)
            assert detail[label] == (200 if allowed else 404), (who, label)
        assert all(item["tlp"] in {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"}
                   for item in listing.data["items"])  # fmt: skip


def test_raise_answer_and_close_through_the_api(community, clients):
    ana, jan = clients["author"], clients["member"]
    bad = ana.post("/alerts", {"title": "", "category": "spam", "tlp": "PURPLE"})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.data["errors"]} == {"title", "category", "tlp"}
    assert not Alert.objects.exists()
    red = ana.post("/alerts", {"title": "x", "category": "ddos", "tlp": "RED"})
    assert red.status_code == 400 and red.data["field"] == "recipients"

    made = ana.post(
        "/alerts",
        {"title": "Flood on .nl", "category": "ddos", "tlp": "amber+strict", "affected": ["nl"]},
    )
    assert made.status_code == 201, made.data
    alert = made.data
    assert alert["tlp"] == "AMBER+STRICT" and alert["affected"] == ["nl"]
    assert alert["author_tld"] == "fr" and alert["history"][0]["after"] == "open"

    seen = jan.post(f"/alerts/{alert['id']}/reactions", {"kind": "seen", "count": 42})
    assert seen.status_code == 200 and seen.data["reactions"] == {
        "nl": {"seen": 1, "sightings": 42}
    }
    assert jan.post(f"/alerts/{alert['id']}/status", {"status": "resolved"}).status_code == 403
    done = ana.post(f"/alerts/{alert['id']}/status", {"status": "resolved"})
    assert done.status_code == 200 and done.data["status"] == "resolved"
    assert [h["after"] for h in done.data["history"]] == ["open", "resolved"]
    assert jan.get("/alerts", status="resolved", tld="nl").data["count"] == 1
    assert jan.get("/alerts", tlp="PURPLE").status_code == 400
