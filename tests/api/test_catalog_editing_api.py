"""The API door of the catalog editor: PATCH /catalog/tlds/{tld} and the CSV import."""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient, token_for
from tldops.catalog.models import Tld
from tldops.directory.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def secretariat(catalog, staff) -> ApiClient:
    return ApiClient(token=token_for(staff("secretariat", "sec@tldops.example")))


def test_patch_sets_marks_and_shows_provenance(secretariat):
    response = secretariat.patch(
        "/catalog/tlds/.FR", {"admin_email": "new@nic.fr", "admin_org": "Afnic", "manager": None}
    )
    assert response.status_code == 200, response.data
    assert response.data["admin_email"] == "new@nic.fr"
    marks = {m["field"]: m for m in response.data["hand_set"]}
    assert set(marks) == {"admin_email", "admin_org"}
    assert marks["admin_email"]["source"] == "hand"
    assert marks["admin_email"]["by"] == "secretariat:sec@tldops.example"
    assert AuditEntry.objects.get(action="catalog.set").door == "api"
    back = secretariat.patch("/catalog/tlds/fr", {"from_iana": True})
    assert back.status_code == 200 and back.data["hand_set"] == []


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"admin_email": "nope"}, 400, "admin_email"),
        ({"admin_email": "a@nic.fr", "from_iana": True}, 400, "from_iana"),
        ({}, 400, None),
        ({"admin_email": "x" * 300 + "@nic.fr"}, 422, "admin_email"),
        ({"iso_code": "ZZ"}, 422, "iso_code"),
    ],
)
def test_patch_bad_input_changes_nothing(secretariat, body, status, field):
    response = secretariat.patch("/catalog/tlds/fr", body)
    assert response.status_code == status, response.data
    assert response.data["field"] == field
    assert Tld.objects.get(alabel="fr").admin_email == "admin@nic.fr"


def test_import_dry_run_then_apply_with_the_previewed_digest(secretariat):
    csv = "tld,admin_email\nfr,new@nic.fr\nnl,admin@nic.nl\n"
    preview = secretariat.post("/catalog/admin-contacts/import", {"csv": csv})
    assert preview.status_code == 200, preview.data
    assert preview.data["applied"] is False
    assert preview.data["changed"] == [
        {
            "tld": "fr",
            "display": ".fr",
            "changes": [{"field": "admin_email", "before": "admin@nic.fr", "after": "new@nic.fr"}],
        }
    ]
    assert preview.data["summary"][1] == "~ .fr admin_email: admin@nic.fr → new@nic.fr"
    assert Tld.objects.get(alabel="fr").admin_email == "admin@nic.fr"
    applied = secretariat.post(
        "/catalog/admin-contacts/import",
        {"csv": csv, "dry_run": False, "digest": preview.data["digest"]},
    )
    assert applied.status_code == 200 and applied.data["applied"] is True
    fr = Tld.objects.get(alabel="fr")
    assert fr.admin_email == "new@nic.fr" and fr.hand_set["admin_email"]["source"] == "csv"


def test_import_errors_list_every_row(secretariat):
    response = secretariat.post(
        "/catalog/admin-contacts/import",
        {"csv": "tld,admin_email\nzz,a@b.example\nfr,nope\n", "dry_run": False},
    )
    assert response.status_code == 400
    assert [(e["line"], e["column"]) for e in response.data["errors"]] == [
        (2, "tld"),
        (3, "admin_email"),
    ]
    assert Tld.objects.get(alabel="fr").admin_email == "admin@nic.fr"
    assert not AuditEntry.objects.filter(action__startswith="catalog.").exists()


def test_a_member_may_not_edit_or_preview(catalog, make_member):
    member = ApiClient(token=token_for(make_member(catalog["nl"], email="m@nl.example")))
    assert member.patch("/catalog/tlds/fr", {"admin_email": "x@nic.fr"}).status_code == 403
    preview = member.post(
        "/catalog/admin-contacts/import", {"csv": "tld,admin_email\nfr,x@nic.fr\n"}
    )
    assert preview.status_code == 403
    assert Tld.objects.get(alabel="fr").admin_email == "admin@nic.fr"
