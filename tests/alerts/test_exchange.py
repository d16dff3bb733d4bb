"""STIX 2.1 and MISP: an alert exported loads in ``stix2`` and in pymisp's ``MISPEvent`` with its
TLP 2.0 label on everything; imported back it gives the same indicators and label; malformed
documents are refused with the path of the first error; TLP applies to every door of the
exchange (API and CLI)."""

from __future__ import annotations

import io
import json

import pytest
import stix2
from django.core.management import call_command
from django.core.management.base import CommandError
from pymisp import MISPEvent
from stix2patterns.validator import run_validator

from tests.alerts.conftest import raise_as
from tests.api.conftest import ApiClient, token_for
from tldops.alerts import exchange, services
from tldops.alerts.models import Alert
from tldops.alerts.tlp import Tlp
from tldops.directory.audit import Actor
from tldops.kernel.errors import InvalidInput

INDICATORS = [
    "evil.example",
    "XN--80AKHBYKNJ4F.рф",  # IDN, upper case: normalised
    "192.0.2.7",
    "2001:db8::1",
    "198.51.100.0/24",
    "https://phish.example/login?x='1'",
    "AS64500",
    "d41d8cd98f00b204e9800998ecf8427e",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "abuse@evil.example",
]

TLP2_IDS = {
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}


def _alert(community, tlp: str) -> Alert:
    extra = {"recipients": ["jan@nic.nl"]} if tlp == "RED" else {}
    return raise_as(
        community.ana,
        tlp,
        title="Phishing wave",
        category="phishing",
        severity="high",
        body="Seen since **Monday**.",
        indicators=INDICATORS,
        **extra,
    )


def _stored(alert: Alert) -> set[tuple[str, str]]:
    return set(alert.indicators.values_list("kind", "value"))


@pytest.mark.parametrize("tlp", ["AMBER+STRICT", "RED"])
def test_stix_bundle_parses_with_the_tlp2_marking_on_every_object(community, tlp):
    alert = _alert(community, tlp)
    assert alert.indicators.count() == len(INDICATORS)
    text = exchange.to_stix(alert)
    bundle = stix2.parse(text, allow_custom=True)
    marking_id = TLP2_IDS[tlp]
    by_type: dict[str, list] = {}
    for obj in bundle.objects:
        by_type.setdefault(obj.type, []).append(obj)
        if obj.type != "marking-definition":
            assert obj.object_marking_refs == [marking_id], obj.id
    (marking,) = by_type["marking-definition"]
    assert marking.id == marking_id and marking.name == f"TLP:{tlp}"
    assert marking.extensions[exchange.TLP2_EXTENSION]["tlp_2_0"] == tlp.lower()
    (report,) = by_type["report"]
    assert report.name == f"[TLP:{tlp}] Phishing wave" and report.report_types == ["threat-report"]
    assert set(report.object_refs) == {
        o.id for o in bundle.objects if o.type not in ("marking-definition", "report")
    }
    assert len(by_type["indicator"]) == len(INDICATORS)
    for indicator in by_type["indicator"]:
        assert run_validator(indicator.pattern, stix_version="2.1") == [], indicator.pattern
    (identity,) = by_type["identity"]
    assert identity.name == "ccTLD .fr (TLD-OPS member)"
    assert "@" not in text.replace("abuse@evil.example", "")  # no personal address goes out
    assert community.ana.name not in text
    assert exchange.to_stix(alert) == text  # same ids on a re-export


@pytest.mark.parametrize("tlp", ["AMBER+STRICT", "RED"])
def test_misp_event_loads_in_pymisp_with_its_tlp_tag(community, tlp):
    alert = _alert(community, tlp)
    text = exchange.to_misp(alert)
    event = MISPEvent()
    event.load(text)
    assert event.info == f"[TLP:{tlp}] Phishing wave"
    assert f"tlp:{tlp.lower()}" in [t.name for t in event.tags]
    assert int(event.distribution) == 0 and int(event.threat_level_id) == 1
    iocs = [a for a in event.attributes if a.to_ids]
    assert len(iocs) == len(INDICATORS)
    assert {(a.type, a.value) for a in iocs} >= {
        ("domain", "evil.example"),
        ("domain", "xn--80akhbyknj4f.xn--p1ai"),
        ("ip-dst", "198.51.100.0/24"),
        ("AS", "64500"),
        ("email-src", "abuse@evil.example"),
    }
    assert exchange.to_misp(alert) == text


@pytest.mark.parametrize("fmt", ["stix", "misp"])
@pytest.mark.parametrize("tlp", ["GREEN", "AMBER+STRICT", "RED"])
def test_round_trip_gives_the_same_indicators_and_label(community, fmt, tlp):
    alert = _alert(community, tlp)
    draft = exchange.load(exchange.export(alert, fmt), fmt)
    assert draft.tlp == tlp and draft.title == "Phishing wave" and draft.skipped == []
    assert draft.category == "phishing" and draft.severity == "high"
    assert draft.body == "Seen since **Monday**."
    if tlp == "RED":
        draft.recipients = ["jan@nic.nl"]
    fields = {k: v for k, v in vars(draft).items() if not k.startswith("skipped")}
    copy = services.raise_alert(
        community.marc, services.AlertInput(**fields), actor=Actor.of(community.marc, "cli")
    )
    assert copy.tlp == tlp and _stored(copy) == _stored(alert)


def _bundle(*objects: dict) -> str:
    return json.dumps(
        {"type": "bundle", "id": "bundle--6b1b6d3e-8c5b-4b8f-9a4e-2f3f0c3d0a11", "objects": objects}
    )


def _indicator(pattern: str, marking: str = exchange.TLP2_MARKING_IDS[Tlp.CLEAR]) -> dict:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--0b1b6d3e-8c5b-4b8f-9a4e-2f3f0c3d0a11",
        "created": "2026-01-01T00:00:00Z",
        "modified": "2026-01-01T00:00:00Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [marking],
    }


def test_malformed_stix_is_refused_with_the_path_of_the_first_error():
    cases = {
        "{not json": "bundle: not JSON",
        json.dumps({"type": "report"}): "type:",
        json.dumps({"type": "bundle", "objects": {}}): "objects: a list",
        _bundle(_indicator("[domain-name:value = 'a.example']"), 3): "objects[1]: an object",
        _bundle(_indicator("[domain-name:value = 'a.example']"), _indicator("[foo")): (
            "objects[1].pattern:"
        ),
        _bundle({**_indicator("[ipv4-addr:value = '192.0.2.1']"), "valid_from": "yesterday"}): (
            "objects[0].valid_from:"
        ),
        _bundle({k: v for k, v in _indicator("[url:value = 'x']").items() if k != "pattern"}): (
            "objects[0].pattern:"
        ),
    }
    for document, path in cases.items():
        with pytest.raises(InvalidInput) as exc:
            exchange.from_stix(document)
        assert exc.value.message.startswith(path), (path, exc.value.message)
        assert "Nothing was imported" in exc.value.message


def test_stix_without_a_tlp_marking_is_refused_and_unreadable_patterns_are_skipped():
    unmarked = {**_indicator("[domain-name:value = 'a.example']")}
    del unmarked["object_marking_refs"]
    with pytest.raises(InvalidInput, match="no TLP label") as exc:
        exchange.from_stix(_bundle(unmarked))
    assert exc.value.field == "tlp"
    draft = exchange.from_stix(
        _bundle(
            _indicator(
                "[domain-name:value = 'A.Example.'] OR [process:name = 'x'] "
                "OR [ipv4-addr:value = 'evil.example']"
            )
        )
    )
    assert draft.tlp == "CLEAR" and draft.indicators == ["domain,a.example"]
    assert [s.split(":")[0] for s in draft.skipped] == ["objects[0].pattern"] * 2
    assert draft.category == "other"


def test_malformed_misp_is_refused_with_the_path_and_a_missing_tlp_too():
    ok = {"info": "x", "Tag": [{"name": "tlp:amber"}]}
    cases = {
        json.dumps({"Event": {"Tag": []}}): "Event.info:",
        json.dumps(
            {
                "Event": {
                    **ok,
                    "Attribute": [{"type": "domain", "value": "a.example"}, {"type": "domain"}, 3],
                }
            }
        ): ("Event.Attribute[1].value:"),
        json.dumps(
            {"Event": {**ok, "Attribute": [{"value": "a.example"}]}}
        ): "Event.Attribute[0].type:",
        json.dumps({"Event": {**ok, "Object": [{"Attribute": [{"type": 5, "value": "x"}]}]}}): (
            "Event.Object[0].Attribute[0].type:"
        ),
        json.dumps(
            {"Event": {**ok, "Tag": [{"name": "tlp:amber"}, {"nom": "x"}]}}
        ): "Event.Tag[1].name:",
    }
    for document, path in cases.items():
        with pytest.raises(InvalidInput) as exc:
            exchange.from_misp(document)
        assert exc.value.message.startswith(path), (path, exc.value.message)
    for tags in ([], [{"name": "tlp:purple"}], [{"name": "osint"}]):
        with pytest.raises(InvalidInput, match="no TLP label"):
            exchange.from_misp(json.dumps({"Event": {"info": "x", "Tag": tags}}))
    draft = exchange.from_misp(
        json.dumps(
            {
                "Event": {
                    **ok,
                    "Tag": [{"name": "tlp:green"}, {"name": "tlp:amber+strict"}],
                    "Attribute": [
                        {"type": "ip-src", "value": "192.0.2.0/24"},
                        {"type": "yara", "value": "rule x {}"},
                        {"type": "domain", "value": "not a domain"},
                    ],
                }
            }
        )
    )
    assert draft.tlp == "AMBER+STRICT"  # the strictest label wins
    assert draft.indicators == ["ipv4-prefix,192.0.2.0/24"]
    assert [s.split(":")[0] for s in draft.skipped] == [
        "Event.Attribute[1].type",
        "Event.Attribute[2].value",
    ]


def test_a_document_over_the_limit_is_refused_before_it_is_parsed(settings):
    settings.ALERT_UPLOAD_MAX_BYTES = 100
    with pytest.raises(exchange.DocumentTooLarge):
        exchange.from_misp(b"{" + b" " * 200)  # not JSON either: the size is checked first


# --- doors -----------------------------------------------------------------------------------


def test_api_export_is_a_marked_download_for_readers_only(community):
    red = _alert(community, "RED")
    jan = ApiClient(token=token_for(community.jan))
    response = jan.get(f"/alerts/{red.pk}/export/stix")
    assert response.status_code == 200
    assert {"private", "no-store"} <= set(response["Cache-Control"].split(", "))
    assert response["Content-Disposition"] == (
        f'attachment; filename="alert-{red.pk}-TLP-RED.stix.json"'
    )
    assert TLP2_IDS["RED"] in response.content.decode()
    misp = jan.get(f"/alerts/{red.pk}/export/misp")
    assert misp.status_code == 200 and misp.data["Event"]["Tag"][0] == {
        "name": "tlp:red",
        "colour": "#ff2b2b",  # MISP's TLP taxonomy colour
    }
    for who in (community.sec, community.chair, community.marc):  # not named
        response = ApiClient(token=token_for(who)).get(f"/alerts/{red.pk}/export/misp")
        assert response.status_code == 404 and b"Phishing" not in response.content
    assert jan.get(f"/alerts/{red.pk}/export/csv").status_code == 400


def test_api_import_raises_the_alert_or_only_reads_it(community):
    source = _alert(community, "AMBER+STRICT")
    document = json.loads(exchange.to_stix(source))
    jan = ApiClient(token=token_for(community.jan))
    before = Alert.objects.count()
    dry = jan.call("POST", "/alerts/import/stix?dry_run=true", document)
    assert dry.status_code == 200 and dry.data["draft"]["tlp"] == "AMBER+STRICT"
    assert Alert.objects.count() == before
    made = jan.call("POST", "/alerts/import/stix", document)
    assert made.status_code == 201, made.data
    assert made.data["alert"]["tlp"] == "AMBER+STRICT"
    copy = Alert.objects.get(pk=made.data["alert"]["id"])
    assert copy.author == community.jan and _stored(copy) == _stored(source)
    document["objects"][3]["pattern"] = "[nonsense"
    bad = jan.call("POST", "/alerts/import/stix", document)
    assert bad.status_code == 400 and bad.data["detail"].startswith("objects[3].pattern:")
    assert Alert.objects.count() == before + 1


def test_api_import_over_the_limit_is_refused_before_it_is_read(community, settings):
    settings.ALERT_UPLOAD_MAX_BYTES = 3 * 1024 * 1024  # over Django's 2.5 MB body bound
    jan = ApiClient(token=token_for(community.jan))
    event = {"Event": {"info": "Big", "Tag": [{"name": "tlp:green"}], "Attribute": []}}
    event["Event"]["Attribute"] = [{"type": "comment", "value": "x" * 1000}] * 2800
    big = jan.call("POST", "/alerts/import/misp?dry_run=true", event)
    assert big.status_code == 200, big.data  # 2.8 MB: read, not cut by Django's bound
    assert len(big.data["skipped"]) == 1000 and big.data["skipped_count"] == 2800
    event["Event"]["Attribute"] *= 2
    over = jan.call("POST", "/alerts/import/misp", event)
    assert over.status_code == 413 and over.data["field"] == "document"


def test_cli_export_and_import(community, tmp_path):
    red = _alert(community, "RED")
    out = tmp_path / "red.json"
    call_command(
        "alert", "export", str(red.pk), "--format", "misp", "--as", "jan@nic.nl", "-o", str(out),
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip
    assert json.loads(out.read_text())["Event"]["Tag"][0]["name"] == "tlp:red"
    for who in ("sec@tldops.example", "marc@nic.fr"):
        with pytest.raises(CommandError, match="No alert"):
            call_command("alert", "export", str(red.pk), "--format", "stix", "--as", who)
    with pytest.raises(CommandError, match="name at least one"):
        call_command("alert", "import", str(out), "--format", "misp", "--as", "jan@nic.nl")
    printed = io.StringIO()
    call_command(
        "alert", "import", str(out), "--format", "misp", "--as", "jan@nic.nl",
        "--to", "marc@nic.fr", stdout=printed,
    )  # fmt: skip
    assert printed.getvalue().startswith("[TLP:RED] Alert")
    copy = Alert.objects.latest("id")
    assert copy.author == community.jan and _stored(copy) == _stored(red)
    assert list(copy.recipients.all()) == [community.marc]
