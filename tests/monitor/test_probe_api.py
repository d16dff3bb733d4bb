"""A probe's reports through the real API (Django's test client): token, signature, bounds,
idempotence; and a member's probes (create, list, revoke, reset the key)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from tests.api.conftest import ApiClient, token_for
from tests.monitor.probe_helpers import known_servers, new_key, public, report, result
from tldops.directory import actions
from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry
from tldops.monitor import probes
from tldops.monitor.models import Finding, Observation, Probe, Sweep

REPORTS = "/api/v1/monitor/reports"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def member(catalog, make_member, settings):
    settings.MONITOR_INTERVAL = 0  # reports made a moment apart are all accepted here (see below)
    for tld in catalog.values():
        known_servers(tld)
    return make_member(catalog["fr"], "Ana Lopez")


@pytest.fixture
def probe(member):
    """(probe, token) of the member."""
    return probes.create(member, "Paris office", actor=Actor.system())


def send(token, body, signature=None, key=None, client=None):
    headers = {"Authorization": f"Bearer {token}"}
    if signature is not None:
        headers["X-Probe-Signature"] = signature
    if key is not None:
        headers["X-Probe-Public-Key"] = key
    response = (client or Client()).post(
        REPORTS, data=body, content_type="application/json", headers=headers
    )
    response.data = json.loads(response.content) if response.content else None
    return response


def test_a_signed_report_is_stored_and_registers_the_key(probe):
    row, token = probe
    key = new_key()
    body, sig = report(key, "r1")
    answer = send(token, body, sig, public(key))
    assert answer.status_code == 201, answer.data
    assert answer.data["duplicate"] is False and answer.data["key_registered"] is True
    sweep = Sweep.objects.get(pk=answer.data["sweep"])
    assert (sweep.probe, sweep.report_id, sweep.queries) == (row, "r1", 6)
    assert Observation.objects.filter(sweep=sweep).count() == 3
    assert list(Finding.objects.filter(sweep=sweep).values_list("code", "address")) == [
        ("LAME_REFUSED", "192.0.2.2")
    ]
    row.refresh_from_db()
    assert row.public_key == public(key) and row.last_report_at is not None
    assert AuditEntry.objects.filter(action="probe-key-registered").count() == 1


def test_the_same_report_id_is_stored_once(probe):
    _row, token = probe
    key = new_key()
    body, sig = report(key, "again")
    first = send(token, body, sig, public(key))
    second = send(token, body, sig, public(key))
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.data["sweep"] == first.data["sweep"] and second.data["duplicate"] is True
    assert Sweep.objects.count() == 1 and Observation.objects.count() == 3


def test_a_wrong_token_is_refused(probe):
    key = new_key()
    body, sig = report(key)
    for token in ("tldprobe_made-up-token-of-the-right-shape", probe[1] + "x", "nothing"):
        answer = send(token, body, sig, public(key))
        assert answer.status_code == 401, token
        assert "probe token" in answer.data["detail"]
    assert Client().post(REPORTS, data=body, content_type="application/json").status_code == 401
    assert not Sweep.objects.exists()


def test_a_persons_api_token_is_refused(probe, member):
    key = new_key()
    body, sig = report(key)
    answer = send(token_for(member), body, sig, public(key))
    assert answer.status_code == 401
    assert "personal API token" in answer.data["detail"]
    assert not Sweep.objects.exists()
    # Nor does the portal session of the member open the door.
    session = Client()
    session.force_login(member.user)
    assert send_with_session(session, body, sig, public(key)).status_code == 401


def send_with_session(client, body, sig, key):
    return client.post(
        REPORTS,
        data=body,
        content_type="application/json",
        headers={"X-Probe-Signature": sig, "X-Probe-Public-Key": key},
    )


def test_a_probe_token_opens_no_members_endpoint(probe):
    assert ApiClient(token=probe[1]).get("/monitor/probes").status_code == 401
    assert ApiClient(token=probe[1]).get("/me").status_code == 401


def test_missing_or_wrong_signatures_are_refused(probe):
    _row, token = probe
    key = new_key()
    body, sig = report(key)
    missing = send(token, body, None, public(key))
    assert missing.status_code == 401 and missing.data["field"] == "X-Probe-Signature"
    no_key = send(token, body, sig, None)
    assert no_key.status_code == 401 and no_key.data["field"] == "X-Probe-Public-Key"
    other = new_key()
    wrong = send(token, body, report(other)[1], public(key))
    assert wrong.status_code == 403 and "signature" in wrong.data["detail"]
    garbage = send(token, body, "not base64!", public(key))
    assert garbage.status_code == 403
    assert not Sweep.objects.exists()
    probe[0].refresh_from_db()
    assert probe[0].public_key == ""  # nothing registered by a refused report


def test_after_registration_only_the_registered_key_signs(probe):
    _row, token = probe
    key, other = new_key(), new_key()
    assert send(token, *report(key), public(key)).status_code == 201
    # Another key, offered in the header: refused, the registered key stays.
    body, sig = report(other)
    answer = send(token, body, sig, public(other))
    assert answer.status_code == 403 and "another key" in answer.data["detail"]
    # Another key's signature without offering the key: refused.
    assert send(token, body, sig).status_code == 403
    # The registered key, without the header: accepted.
    assert send(token, *report(key)).status_code == 201
    assert Sweep.objects.count() == 2


def test_a_tampered_body_is_refused(probe):
    _row, token = probe
    key = new_key()
    assert send(token, *report(key), public(key)).status_code == 201
    body, sig = report(key, "tampered")
    changed = body.replace(b'"refused"', b'"ok"')
    assert changed != body
    assert send(token, changed, sig).status_code == 403
    assert not Sweep.objects.filter(report_id="tampered").exists()


def _now_iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {"findings": [{"tld": "fr", "server": "a", "address": "", "code": "NO_SUCH"}]},
            "findings[0]",
        ),
        (
            {"samples": [{"tld": "fr", "server": "a", "address": "192.0.2.1", "status": "fine"}]},
            "samples[0]",
        ),
        (
            {"samples": [{"tld": "fr", "server": "a", "address": "999.1.1.1", "status": "ok"}]},
            "samples[0]",
        ),
        ({"findings": [{"tld": "zz", "server": "a", "address": "", "code": "UNSIGNED"}]}, "tld"),
        ({"started_at": "2020-01-01T00:00:00+00:00"}, "started_at"),
        ({"started_at": "soon"}, "started_at"),
        ({"report_id": "../../etc"}, "report_id"),
        ({"stats": {"queries": -1}}, "stats.queries"),
        ({"surprise": 1}, "report"),
    ],
)
def test_out_of_bounds_reports_store_nothing(probe, changes, field):
    _row, token = probe
    key = new_key()
    answer = send(token, *report(key, **changes), public(key))
    assert answer.status_code == 400, answer.data
    assert answer.data["field"] == field
    assert not Sweep.objects.exists() and not Observation.objects.exists()
    probe[0].refresh_from_db()
    assert probe[0].public_key == ""


def test_a_report_from_the_future_is_refused(probe):
    key = new_key()
    late = send(probe[1], *report(key, started_at=_now_iso(timedelta(minutes=10))), public(key))
    assert late.status_code == 400 and "future" in late.data["detail"]
    skewed = send(probe[1], *report(key, started_at=_now_iso(timedelta(minutes=3))), public(key))
    assert skewed.status_code == 201


def test_too_many_samples_or_too_many_bytes_store_nothing(probe, monkeypatch):
    _row, token = probe
    key = new_key()
    monkeypatch.setattr(probes, "MAX_SAMPLES", 2)
    many = send(token, *report(key), public(key))
    assert many.status_code == 400 and many.data["field"] == "samples"
    monkeypatch.setattr(probes, "REPORT_MAX_BYTES", 100)
    big = send(token, *report(key), public(key))
    assert big.status_code == 413
    assert not Sweep.objects.exists()


def test_a_revoked_probe_is_refused(probe, member):
    row, token = probe
    key = new_key()
    probes.revoke(row, member, actor=Actor.system())
    assert send(token, *report(key), public(key)).status_code == 401
    assert not Sweep.objects.exists()


def test_a_probe_whose_owner_left_is_refused(probe, member):
    _row, token = probe
    key = new_key()
    assert send(token, *report(key), public(key)).status_code == 201
    actions.leave(member, actor=Actor.of(member, "web"))
    assert send(token, *report(key)).status_code == 401
    assert Sweep.objects.count() == 1


def test_the_tld_list_needs_the_probe_token(probe, member):
    answer = Client().get("/api/v1/monitor/tlds", headers={"Authorization": f"Bearer {probe[1]}"})
    assert answer.status_code == 200
    assert json.loads(answer.content)["tlds"] == ["br", "ca", "fr", "nl", "ua", "xn--p1ai"]
    refused = ApiClient(token=token_for(member)).get("/monitor/tlds")
    assert refused.status_code == 401


# --- A member's probes -----------------------------------------------------------------------------


def test_members_create_list_revoke_and_reset_their_probes(member):
    api = ApiClient(token=token_for(member))
    key = new_key()
    created = api.post("/monitor/probes", {"name": "Lab", "public_key": public(key)})
    assert created.status_code == 201, created.data
    token = created.data["token"]
    assert token.startswith("tldprobe_") and created.data["key_registered"] is True
    stored = Probe.objects.get(pk=created.data["id"])
    assert token not in (stored.token_hash, stored.token_prefix)  # only a hash is kept
    assert probes.authenticate(token) == stored
    # Registered beforehand: a first report signed by another key is refused.
    other = new_key()
    assert send(token, *report(other), public(other)).status_code == 403
    assert send(token, *report(key)).status_code == 201
    listed = api.get("/monitor/probes")
    assert [p["name"] for p in listed.data["items"]] == ["Lab"]
    assert "token" not in listed.data["items"][0]
    reset = api.post(f"/monitor/probes/{stored.pk}/reset-key", {})
    assert reset.status_code == 200 and reset.data["key_registered"] is False
    assert send(token, *report(other), public(other)).status_code == 201  # registers again
    revoked = api.delete(f"/monitor/probes/{stored.pk}")
    assert revoked.status_code == 200 and revoked.data["revoked_at"]
    assert send(token, *report(other)).status_code == 401
    actions_logged = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"probe-created", "probe-key-reset", "probe-revoked", "probe-key-registered"} <= (
        actions_logged
    )


def test_another_member_cannot_touch_my_probe(probe, catalog, make_member):
    row, _token = probe
    other = make_member(catalog["nl"], "Nina de Vries")
    api = ApiClient(token=token_for(other))
    assert api.delete(f"/monitor/probes/{row.pk}").status_code == 404
    assert api.post(f"/monitor/probes/{row.pk}/reset-key", {}).status_code == 404
    assert api.get("/monitor/probes").data["items"] == []
    row.refresh_from_db()
    assert row.revoked_at is None


def test_staff_may_revoke_a_members_probe(probe, staff):
    secretariat = staff("secretariat")
    revoked = probes.revoke(probe[0].pk, secretariat, actor=Actor.of(secretariat, "cli"))
    assert revoked.revoked_at is not None


def test_probes_are_bounded_and_named(member):
    api = ApiClient(token=token_for(member))
    assert api.post("/monitor/probes", {"name": "  "}).status_code == 400
    assert api.post("/monitor/probes", {"name": "x", "public_key": "AAAA"}).status_code == 400
    for n in range(probes.MAX_PROBES_PER_PERSON):
        assert api.post("/monitor/probes", {"name": f"p{n}"}).status_code == 201
    refused = api.post("/monitor/probes", {"name": "one more"})
    assert refused.status_code == 409
    assert Probe.objects.filter(owner=member).count() == probes.MAX_PROBES_PER_PERSON


def test_a_non_member_cannot_create_a_probe(catalog, make_member):
    person = make_member(catalog["br"], "Bruno Silva")
    actions.leave(person, actor=Actor.of(person, "web"))
    with pytest.raises(probes.NotAuthorised):
        probes.create(person, "gone")


def test_a_probe_cannot_report_more_often_than_half_the_hubs_interval(probe, settings):
    """Two reports of sweeps started a minute apart, with an interval of 300 s: the second is
    refused (409) and nothing of it is stored, so a probe cannot outweigh the others by volume."""
    settings.MONITOR_INTERVAL = 300
    row, token = probe
    key = new_key()
    first = datetime.now(UTC) - timedelta(minutes=2)
    body, signature = report(key, started_at=first.isoformat())
    assert send(token, body, signature, public(key)).status_code == 201
    body, signature = report(key, started_at=(first + timedelta(minutes=1)).isoformat())
    answer = send(token, body, signature, public(key))
    assert answer.status_code == 409
    assert Sweep.objects.filter(probe=row).count() == 1


def test_what_a_report_says_about_servers_the_hub_does_not_know_is_dropped(probe):
    """Invented servers (and invented addresses of real ones) open no incident and draw no
    chart: the hub keeps only what concerns the ccTLD's known servers."""
    row, token = probe
    key = new_key()
    invented = [
        {"tld": "fr", "server": f"fake{i}.attacker.example", "address": "198.51.100.1",
         "code": "LAME_REFUSED", "severity": "ERROR", "detail": "x"}
        for i in range(5)
    ]  # fmt: skip
    fake_sample = {"tld": "fr", "server": "ns1.nic.fr", "address": "198.51.100.9",
                   "status": "ok", "udp_ms": 1.0, "tcp_ms": 2.0, "serial": 1}  # fmt: skip
    data = result().to_json()
    body, signature = report(
        key, findings=data["findings"] + invented, samples=data["samples"] + [fake_sample]
    )
    assert send(token, body, signature, public(key)).status_code == 201
    sweep = Sweep.objects.get(probe=row)
    assert not sweep.findings.filter(server__startswith="fake").exists()
    assert sweep.findings.filter(server="ns2.nic.fr").exists()
    assert not sweep.observations.filter(address="198.51.100.9").exists()
    assert sweep.observations.count() == 3


def test_control_characters_are_refused(probe):
    row, token = probe
    key = new_key()
    data = result().to_json()
    data["findings"][0]["detail"] = "\x1b]52;c;ZXZpbA==\x07 look"
    body, signature = report(key, findings=data["findings"])
    answer = send(token, body, signature, public(key))
    assert answer.status_code == 400 and "control characters" in answer.data["detail"]
    assert not Sweep.objects.filter(probe=row).exists()


def test_null_statistics_and_deep_json_are_refused_or_taken_as_zero(probe):
    row, token = probe
    key = new_key()
    body, signature = report(key, stats={"zones": None, "wall_s": None})
    assert send(token, body, signature, public(key)).status_code == 201
    deep = b"[" * 100_000 + b"]" * 100_000
    answer = send(token, deep, base64.b64encode(key.sign(deep)).decode(), public(key))
    assert answer.status_code == 400
