"""The monitor's read endpoints: overview, a ccTLD, its latency series, the codes table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.conftest import ApiClient, token_for
from tests.monitor.status_world import incident, probe, rollup, sweep
from tldops.api.router import api
from tldops.monitor.codes import CODES


@pytest.fixture
def member(catalog, make_member) -> ApiClient:
    return ApiClient(token=token_for(make_member(catalog["fr"])))


@pytest.fixture
def seen(catalog):
    hub, ams = probe("hub", builtin=True), probe("ams")
    fr, nl = catalog["fr"], catalog["nl"]
    fr.nameservers.create(hostname="a.nic.fr", ipv4=["192.0.2.1"])
    for p in (hub, ams):
        sweep(
            p,
            ok=[fr, nl],
            findings=[(nl, "UNSIGNED", "", ""), (fr, "AXFR_OPEN", "a.nic.fr", "192.0.2.1")],
        )
    sweep(probe("gru"), ok=[fr], findings=[(fr, "LAME_SERVFAIL", "b.nic.fr", "192.0.2.2")])
    rollup(hub, fr, "hour", timezone.now() - timedelta(days=5), 33.0, server="a.nic")
    return incident(fr, "LAME_SERVFAIL", server="b.nic.fr")


def test_anonymous_callers_are_refused(client, catalog):
    anonymous = ApiClient()
    for path in (
        "/monitor/overview",
        "/monitor/tlds/fr",
        "/monitor/tlds/fr/latency",
        "/monitor/codes",
    ):
        assert anonymous.get(path).status_code == 401, path


def test_overview_lists_every_cctld_with_its_level(member, seen):
    data = member.get("/monitor/overview").data
    assert data["count"] == 6 and len(data["items"]) == 6 and data["agreement"] == 2
    by = {i["alabel"]: i for i in data["items"]}
    fr = by["fr"]
    assert (fr["level"], fr["code"], fr["scope"], fr["seen_by"], fr["probes"]) == (
        "error",
        "LAME_SERVFAIL",
        "confirmed",
        1,
        3,
    )
    assert fr["incident"] == seen.pk and fr["signed"] is True
    assert (by["nl"]["level"], by["nl"]["signed"]) == ("ok", False)
    assert by["ua"]["level"] == "unknown" and by["ua"]["last_sweep"] is None
    assert data["counts"]["unknown"] == 4
    only = member.get("/monitor/overview", level="error", order="worst").data
    assert [i["alabel"] for i in only["items"]] == ["fr"] and only["count"] == 1
    assert member.get("/monitor/overview", level="purple").status_code == 422


def test_tld_detail(member, seen):
    data = member.get("/monitor/tlds/fr").data
    assert data["status"]["level"] == "error"
    assert {p["probe"] for p in data["probes"]} == {"hub", "ams", "gru"}
    (axfr,) = [f for f in data["findings"] if f["code"] == "AXFR_OPEN"]
    assert axfr["severity"] == "WARNING" and axfr["rfc"] == "RFC 5936 §5" and axfr["confirmed"]
    assert sorted(axfr["probes"]) == ["ams", "hub"] and "AXFR" in axfr["text"]
    assert data["incidents"][0]["id"] == seen.pk
    addresses = {(a["server"], a["address"]): a for a in data["addresses"]}
    assert addresses[("a.nic.fr", "192.0.2.1")]["family"] == "IPv4"
    assert {v["probe"] for v in addresses[("a.nic.fr", "192.0.2.1")]["views"]} == {
        "hub",
        "ams",
        "gru",
    }
    assert member.get("/monitor/tlds/рф").status_code == 200
    missing = member.get("/monitor/tlds/zz")
    assert missing.status_code == 404 and missing.data["detail"]


def test_latency_switches_store_with_the_range(member, seen):
    day = member.get("/monitor/tlds/fr/latency", range="24h").data
    assert day["step_s"] == 300 and day["count"] == len(day["items"]) == 3  # one per probe
    assert all(len(s["points"]) == 1 and s["points"][0]["udp_ms"] == 12.5 for s in day["items"])
    week = member.get("/monitor/tlds/fr/latency", range="7d").data
    hub = next(s for s in week["items"] if s["probe"] == "hub")
    assert [p["udp_ms"] for p in hub["points"]] == [33.0, 12.5]
    assert member.get("/monitor/tlds/fr/latency", range="2w").status_code == 422


def test_codes_table(member, catalog):
    data = member.get("/monitor/codes").data
    assert data["count"] == len(CODES) == len(data["items"])
    unsigned = next(c for c in data["items"] if c["code"] == "UNSIGNED")
    assert unsigned == {
        "code": "UNSIGNED",
        "severity": "INFO",
        "text": str(CODES["UNSIGNED"].text),
        "rfc": "RFC 4035 §5",
    }


def test_listings_are_objects_and_document_414():
    schema = api.get_openapi_schema(path_prefix="")
    for path in (
        "/monitor/overview",
        "/monitor/tlds/{alabel}",
        "/monitor/tlds/{alabel}/latency",
        "/monitor/codes",
    ):
        responses = schema["paths"][path]["get"]["responses"]
        assert {414, 401, 403} <= set(responses), path
        ref = responses[200]["content"]["application/json"]["schema"]["$ref"]
        assert ref.startswith("#/components/schemas/"), path
