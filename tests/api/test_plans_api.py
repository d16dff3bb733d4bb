"""The plan endpoints: a contact reads, saves, signs off and downloads their ccTLD's plan; every
other caller (another ccTLD's contact, the secretariat, the committee, no credential) gets 404 (or
401 without a credential) from every operation, whether the plan exists or not."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.api.conftest import token_for
from tests.playbooks.plan_fixtures import full_values
from tldops.directory.models import AuditEntry
from tldops.playbooks.models import Plan, PlanVersion, SignOff


def _today() -> str:
    return timezone.localdate().isoformat()


def test_a_contact_saves_signs_off_and_downloads(world, api_client):
    client = api_client(token=token_for(world.member))
    before = client.get("/plans/fr")
    assert before.status_code == 200
    assert before.data["saved"] is False and before.data["version"] == 0
    assert before.data["values"]["registry"] == "Registry of .fr"  # prefilled from the catalog
    assert [c["name"] for c in before.data["candidates"]] == ["Ana Lopez"]

    saved = client.put("/plans/fr", {"language": "fr", "base_version": 0, "values": full_values()})
    assert saved.status_code == 200, saved.data
    assert saved.data["saved"] and saved.data["version"] == 1 and saved.data["language"] == "fr"
    assert saved.data["values"]["sites"][1]["role"] == "backup"

    signed = client.post(
        "/plans/fr/signoffs", {"name": "Pierre Bonnet", "role": "MD", "signed_on": _today()}
    )
    assert signed.status_code == 201, signed.data
    assert signed.data["version"] == 1 and signed.data["recorded_by"] == "Ana Lopez"
    versions = client.get("/plans/fr/versions")
    assert versions.data["count"] == 1 and [v["number"] for v in versions.data["items"]] == [1]
    assert versions.data["items"][0]["signoffs"][0]["name"] == "Pierre Bonnet"

    pdf = client.get("/plans/fr.pdf")
    assert pdf.status_code == 200 and pdf.body.startswith(b"%PDF")
    assert pdf["Content-Type"] == "application/pdf"
    assert "no-store" in pdf["Cache-Control"]
    assert client.get("/plans/fr/versions/1.pdf").body.startswith(b"%PDF")
    assert client.get("/plans/fr/versions/2.pdf").status_code == 404
    assert client.get("/plans/fr.pdf", language="xx").status_code == 400


def test_bad_values_are_reported_together(world, api_client):
    client = api_client(token=token_for(world.member))
    values = full_values()
    values["website"] = "ftp://nic.example"
    values["sites"][0]["role"] = "bunker"
    response = client.put("/plans/fr", {"language": "en", "base_version": 0, "values": values})
    assert response.status_code == 400
    assert {(e["field"], e["index"]) for e in response.data["errors"]} == {
        ("website", None),
        ("sites.role", 0),
    }
    assert not Plan.objects.exists()
    too_many = {"language": "en", "base_version": 0, "values": {"sites": [{"name": "x"}] * 11}}
    assert client.put("/plans/fr", too_many).status_code == 422
    unknown = {"language": "en", "base_version": 0, "values": {"castle": "x"}}
    assert client.put("/plans/fr", unknown).status_code == 422


@pytest.mark.parametrize("who", ["other", "secretariat", "committee"])
@pytest.mark.parametrize("exists", [True, False])
def test_no_one_else_reaches_the_plan(world, api_client, who, exists):
    owner = api_client(token=token_for(world.member))
    if exists:
        assert (
            owner.put(
                "/plans/fr", {"language": "en", "base_version": 0, "values": full_values()}
            ).status_code
            == 200
        )
    outsider = api_client(token=token_for(getattr(world, who)))
    calls = [
        outsider.get("/plans/fr"),
        outsider.put("/plans/fr", {"language": "en", "base_version": 0, "values": {}}),
        outsider.get("/plans/fr/versions"),
        outsider.post("/plans/fr/signoffs", {"name": "X", "role": "Y", "signed_on": _today()}),
        outsider.get("/plans/fr.pdf"),
        outsider.get("/plans/fr/versions/1.pdf"),
    ]
    assert [r.status_code for r in calls] == [404] * 6
    assert all(r.data["detail"] for r in calls)
    assert PlanVersion.objects.count() == (1 if exists else 0)
    assert not SignOff.objects.exists()
    assert AuditEntry.objects.filter(action__startswith="plan.").count() == (1 if exists else 0)


def test_anonymous_gets_401_and_an_unknown_cctld_404(world, api_client):
    assert api_client().get("/plans/fr").status_code == 401
    assert api_client().get("/plans/fr.pdf").status_code == 401
    member = api_client(token=token_for(world.member))
    assert member.get("/plans/zz").status_code == 404


def test_a_contact_who_left_no_longer_reads_it(world, api_client):
    client = api_client(token=token_for(world.member))
    body = {"language": "en", "base_version": 0, "values": {}}
    assert client.put("/plans/fr", body).status_code == 200
    world.member.memberships.update(status="left")
    assert client.get("/plans/fr").status_code == 404


def test_a_save_based_on_an_old_version_gets_409(world, api_client, catalog):
    """PUT says which version it changes (`base_version`, the `version` it read): a save made
    from an older one would undo someone else's changes, and is refused with 409."""
    from tldops.playbooks import plans

    client = api_client(token=token_for(world.member))
    assert client.put("/plans/fr", {"language": "en", "values": {}}).status_code == 422
    read = client.get("/plans/fr").data
    assert read["version"] == 0
    first = {"language": "en", "base_version": read["version"], "values": full_values()}
    assert client.put("/plans/fr", first).status_code == 200
    stale = client.put("/plans/fr", {**first, "values": {"registry": "Afnic"}})
    assert stale.status_code == 409
    assert stale.data["field"] == "base_version" and "Version 1 of the plan" in stale.data["detail"]
    assert Plan.objects.get().version == 1 and Plan.objects.get().values["registry"] != "Afnic"
    current = client.put("/plans/fr", {**first, "base_version": 1, "values": {"registry": "Afnic"}})
    assert current.status_code == 200 and current.data["version"] == 2
    assert plans.get(world.member, catalog["fr"]).values["registry"] == "Afnic"


def test_a_loop_of_saves_gets_409_and_saves_nothing(world, api_client, monkeypatch):
    """Every save is a version kept for good: past MAX_SAVES_PER_HOUR saves in an hour the next
    is refused (409, `field` `values`) and nothing is stored."""
    from tldops.playbooks import plans

    monkeypatch.setattr(plans, "MAX_SAVES_PER_HOUR", 2)
    client = api_client(token=token_for(world.member))
    for base in (0, 1):
        body = {"language": "en", "base_version": base, "values": full_values()}
        assert client.put("/plans/fr", body).status_code == 200
    refused = client.put("/plans/fr", {"language": "en", "base_version": 2, "values": {}})
    assert refused.status_code == 409, refused.data
    assert refused.data["field"] == "values" and "last hour" in refused.data["detail"]
    assert Plan.objects.get().version == 2 and PlanVersion.objects.count() == 2
