"""The portal's catalog editor: a ccTLD's contacts set by staff, and the CSV import's preview and
confirmation."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tldops.catalog.models import Tld
from tldops.directory.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_staff_edit_a_cctld_and_see_it_marked(catalog, staff_client):
    client = staff_client("secretariat")
    page = client.get("/catalog/fr/").content.decode()
    assert 'id="tld-edit-link"' in page
    form = client.get("/catalog/fr/edit/")
    assert form.status_code == 200 and 'value="admin@nic.fr"' in form.content.decode()
    response = client.post(
        "/catalog/fr/edit/",
        {
            "manager": "Registry of .fr",
            "admin_org": "Afnic",
            "admin_email": "new@nic.fr",
            "tech_org": "",
            "tech_email": "",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/catalog/fr/"
    fr = Tld.objects.get(alabel="fr")
    assert (fr.admin_email, fr.admin_org) == ("new@nic.fr", "Afnic")
    assert set(fr.hand_set) == {"admin_email", "admin_org"}  # the unchanged ones stay IANA's
    assert AuditEntry.objects.get(action="catalog.set").door == "web"
    page = client.get("/catalog/fr/").content.decode()
    assert 'id="tld-hand-set"' in page and "new@nic.fr" in page
    # back to IANA
    client.post("/catalog/fr/edit/", {"action": "from_iana"})
    assert Tld.objects.get(alabel="fr").hand_set == {}


def test_a_bad_address_is_shown_on_its_field_and_nothing_changes(catalog, staff_client):
    client = staff_client("committee", "chair@tldops.example")
    response = client.post("/catalog/fr/edit/", {"admin_email": "not an address"})
    assert response.status_code == 400
    assert "is not an email address" in response.content.decode()
    assert Tld.objects.get(alabel="fr").admin_email == "admin@nic.fr"


def test_members_cannot_edit_or_import(member_client):
    assert 'id="tld-edit-link"' not in member_client.get("/catalog/fr/").content.decode()
    assert member_client.get("/catalog/fr/edit/").status_code == 403
    assert member_client.post("/catalog/fr/edit/", {"admin_email": "x@nic.fr"}).status_code == 403
    assert member_client.get("/catalog/import/").status_code == 403
    assert Tld.objects.get(alabel="fr").admin_email == "admin@nic.fr"


def _upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("admins.csv", text.encode(), content_type="text/csv")


def test_import_preview_then_confirm(catalog, staff_client):
    client = staff_client("secretariat")
    assert 'id="catalog-import-link"' in client.get("/catalog/").content.decode()
    csv = "tld,admin_email\nfr,new@nic.fr\nnl,admin@nic.nl\n"
    preview = client.post("/catalog/import/", {"action": "preview", "file": _upload(csv)})
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "Rows read: 2. ccTLDs to change: 1; unchanged: 1." in html
    assert "<del>admin@nic.fr</del>" in html and "<ins>new@nic.fr</ins>" in html
    assert Tld.objects.get(alabel="fr").admin_email == "admin@nic.fr"  # a preview writes nothing
    digest = html.split('name="digest" value="')[1].split('"')[0]
    done = client.post("/catalog/import/", {"action": "apply", "csv": csv, "digest": digest})
    assert done.status_code == 302
    fr = Tld.objects.get(alabel="fr")
    assert fr.admin_email == "new@nic.fr" and fr.hand_set["admin_email"]["source"] == "csv"


def test_import_confirm_after_a_change_shows_a_new_preview(catalog, staff_client):
    client = staff_client("secretariat")
    csv = "tld,admin_email\nfr,new@nic.fr\n"
    html = client.post("/catalog/import/", {"file": _upload(csv)}).content.decode()
    digest = html.split('name="digest" value="')[1].split('"')[0]
    Tld.objects.filter(alabel="fr").update(admin_email="meanwhile@nic.fr")
    response = client.post("/catalog/import/", {"action": "apply", "csv": csv, "digest": digest})
    assert response.status_code == 409
    assert "<del>meanwhile@nic.fr</del>" in response.content.decode()
    assert Tld.objects.get(alabel="fr").admin_email == "meanwhile@nic.fr"


def test_import_errors_are_listed_with_their_lines(catalog, staff_client):
    client = staff_client("secretariat")
    response = client.post(
        "/catalog/import/", {"file": _upload("tld,admin_email\nzz,a@b.example\nfr,nope\n")}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="import-errors"' in html and "line 2" in html and "line 3" in html
    assert "Apply these changes" not in html
