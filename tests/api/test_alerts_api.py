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


def test_indicators_typed_and_uploaded(community, clients, settings):
    ana = clients["author"]
    made = ana.post(
        "/alerts",
        {
            "title": "Phishing wave",
            "category": "phishing",
            "tlp": "GREEN",
            "indicators": ["hxxps://Login.Example[.]com/x", "a..b", "ip,192.0.2.1", "192.0.2.1"],
        },
    )
    assert made.status_code == 201, made.data
    assert [(i["kind"], i["value"]) for i in made.data["indicators"]] == [
        ("url", "https://login.example.com/x"),
        ("ipv4", "192.0.2.1"),
    ]
    assert [e["line"] for e in made.data["indicator_errors"]] == [2, 3]
    pk = made.data["id"]
    body = "# feed\nEXAMPLE.fr.\nnot a thing!\n" + "".join(f"bad{i}.example\n" for i in range(3))
    response = ana.client.post(
        f"/api/v1/alerts/{pk}/indicators",
        data=body.encode(),
        content_type="text/plain",
        HTTP_AUTHORIZATION=f"Bearer {ana.token}",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["added"], data["refused"], data["indicator_count"]) == (4, 1, 6)
    assert data["errors"][0]["line"] == 3
    # Someone else's alert: refused; an over-long list: 413 before it is read, nothing kept.
    jan = clients["member"]
    refused = jan.client.post(
        f"/api/v1/alerts/{pk}/indicators", data=b"x.fr\n", content_type="text/plain",
        HTTP_AUTHORIZATION=f"Bearer {jan.token}",
    )  # fmt: skip
    assert refused.status_code == 403
    settings.ALERT_UPLOAD_MAX_BYTES = 10
    big = ana.client.post(
        f"/api/v1/alerts/{pk}/indicators", data=b"x.fr\n" * 10, content_type="text/plain",
        HTTP_AUTHORIZATION=f"Bearer {ana.token}",
    )  # fmt: skip
    assert big.status_code == 413 and ana.get(f"/alerts/{pk}").data["indicator_count"] == 6


def test_a_staff_token_without_the_second_factor_has_no_staff_power_over_alerts(community, clients):
    """Marc, a contact of .fr, joins the secretariat; a token made without his second factor
    carries a member's powers only (directory.permissions.role_of): it cannot close Ana's alert."""
    from tldops.directory import actions, tokens
    from tldops.directory.audit import Actor

    alert = raise_as(community.ana, "GREEN")
    actions.set_role(community.marc, role="secretariat", actor=Actor(label="cli", door="cli"))
    community.marc.refresh_from_db()
    _row, plain = tokens.create_token(
        community.marc, "unverified", actor=Actor.system(), second_factor_proved=False
    )
    weak = ApiClient(token=plain)
    assert weak.get(f"/alerts/{alert.pk}").status_code == 200  # he reads as a member does
    assert weak.post(f"/alerts/{alert.pk}/status", {"status": "resolved"}).status_code == 403
    strong = clients["secretariat"]
    assert strong.post(f"/alerts/{alert.pk}/status", {"status": "resolved"}).status_code == 200


def test_alert_filters_through_the_api(community, clients):
    jan, marc = clients["member"], clients["colleague"]
    bad = jan.post("/alerts/filters", {"categories": ["spam"], "tlds": ["zz-nope"], "mode": "x"})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.data["errors"]} == {"categories", "tlds", "mode"}
    made = jan.post("/alerts/filters", {"categories": ["ddos"], "tlds": ["рф"], "mode": "digest"})
    assert made.status_code == 201
    assert made.data["tlds"] == ["xn--p1ai"] and made.data["mode"] == "digest"
    listed = jan.get("/alerts/filters")
    assert listed.status_code == 200 and listed.data["count"] == 1
    assert [f["id"] for f in listed.data["items"]] == [made.data["id"]]
    assert marc.get("/alerts/filters").data["items"] == []  # one's own filters only
    # Nobody deletes another's filter: 404, and it stays.
    assert marc.call("DELETE", f"/alerts/filters/{made.data['id']}").status_code == 404
    assert jan.get("/alerts/filters").data["count"] == 1
    assert jan.call("DELETE", f"/alerts/filters/{made.data['id']}").status_code == 200
    assert jan.get("/alerts/filters").data["count"] == 0
    assert clients["pending"].get("/alerts/filters").status_code == 403


def test_the_list_makes_as_many_queries_with_60_alerts_as_with_5(community, clients):
    """No query per alert (N+1) in /api/v1/alerts; and a RED alert naming several people is
    listed once (who may read it is a subquery, not a join that repeats the alert)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tldops.alerts import services
    from tldops.directory.audit import Actor

    def raise_many(count: int, start: int) -> None:
        labels = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
        for i in range(start, start + count):
            label = labels[i % len(labels)]
            named = (
                {"recipients": ["jan@nic.nl", "marc@nic.fr", "sec@tldops.example"]}
                if label == "RED"
                else {}
            )
            alert = raise_as(
                community.ana, label, title=f"Bulk {i}", affected=["fr", "nl", "br"], **named
            )
            services.react(
                community.jan,
                alert.pk,
                services.ReactionInput(kind="seen", count=3),
                actor=Actor.of(community.jan, "api"),
            )

    jan = clients["member"]
    raise_many(5, 0)
    from django.core.cache import cache

    jan.get("/api/v1/alerts?limit=100")  # per-process caches warmed
    cache.clear()  # built, not taken from the reader's own entry
    with CaptureQueriesContext(connection) as few:
        small = jan.get("/api/v1/alerts?limit=100")
    with CaptureQueriesContext(connection) as again:
        jan.get("/api/v1/alerts?limit=100")  # the reader's own entry: no alert query
    raise_many(55, 5)
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        large = jan.get("/api/v1/alerts?limit=100")
    assert small.status_code == large.status_code == 200
    assert not any("alerts_alert" in q["sql"] for q in again.captured_queries)
    assert small.json()["count"] == 5 and len(small.json()["items"]) == 5
    assert large.json()["count"] == 60
    ids = [item["id"] for item in large.json()["items"]]
    assert len(ids) == len(set(ids)) == 60
    assert {tuple(item["affected"]) for item in large.json()["items"]} == {("br", "fr", "nl")}
    assert len(many.captured_queries) == len(few.captured_queries), [
        q["sql"] for q in many.captured_queries
    ]


def test_answers_kept_for_one_reader_are_never_another_readers(community, clients):
    """The list and an alert are kept per reader: the named reader's RED alert, loaded first,
    never reaches a colleague through the cache; a new alert or answer shows at once."""
    red = raise_as(community.ana, "RED", title="Kept for Jan only", recipients=["jan@nic.nl"])
    jan, marc = clients["member"], clients["colleague"]
    assert "Kept for Jan only" in jan.get("/alerts").content.decode()
    assert jan.get(f"/alerts/{red.pk}").status_code == 200
    assert "Kept for Jan only" not in marc.get("/alerts").content.decode()
    assert marc.get(f"/alerts/{red.pk}").status_code == 404
    green = raise_as(community.ana, "GREEN", title="Arrives later")
    assert "Arrives later" in jan.get("/alerts").content.decode()
    jan.post(f"/alerts/{green.pk}/reactions", {"kind": "seen", "count": 7})
    assert marc.get(f"/alerts/{green.pk}").data["reactions"]["nl"]["sightings"] == 7
