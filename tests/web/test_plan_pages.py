"""The plan pages: a contact views, edits (without JavaScript: rows added with "More rows",
removed with a box), signs off and downloads their ccTLD's plan; every other signed-in person gets
the portal's 404 on every page and PDF, and the anonymous the login page."""

from __future__ import annotations

import re
import subprocess

import pytest
from django.test import Client
from django.utils import timezone

from tests.playbooks.plan_fixtures import BLANK, full_values
from tests.web.conftest import code_for, confirmed_device, sign_in
from tldops.directory.audit import Actor
from tldops.playbooks import plans
from tldops.playbooks.models import Plan, PlanVersion, SignOff


def _form(
    values: dict, language: str = "en", action: str = "save", base: int | None = None
) -> dict[str, str]:
    """The editor's form fields for ``values``, as the browser sends them; ``base`` the version
    the editor was opened on (by default the plan's version now: an editor opened just before)."""
    if base is None:
        base = Plan.objects.filter(tld__alabel="fr").values_list("version", flat=True).first() or 0
    data = {"language": language, "action": action, "base_version": str(base)}
    for column in plans.SCALARS:
        data[column.key] = values.get(column.key, "")
    for part in plans.PARTS:
        rows = values.get(part.key, [])
        data[f"{part.key}-rows"] = str(len(rows))
        for n, row in enumerate(rows):
            for column in part.columns:
                data[f"{part.key}-{n}-{column.key}"] = row.get(column.key, "")
    return data


def test_nav_links_to_the_plan_and_goes_straight_to_it(member_client):
    html = member_client.get("/home/").content.decode()
    assert 'id="nav-plan" href="/plans/"' in html
    response = member_client.get("/plans/")
    assert response.status_code == 302 and response["Location"] == "/plans/fr/"


def test_a_contact_edits_views_signs_off_and_downloads(member_client, tmp_path):
    editor = member_client.get("/plans/fr/edit/")
    html = editor.content.decode()
    assert editor.status_code == 200
    assert 'id="prefilled-note"' in html and 'value="Registry of .fr"' in html  # prefilled
    assert "Ana Lopez" in html  # a candidate from the directory

    response = member_client.post("/plans/fr/edit/", _form(full_values()))
    assert response.status_code == 302 and response["Location"] == "/plans/fr/"
    assert Plan.objects.get().version == 1

    page = member_client.get("/plans/fr/")
    html = page.content.decode()
    assert page.status_code == 200
    text = re.sub(r"<[^>]+>", " ", html)
    assert "{{" not in text and not BLANK.search(text)
    for value in ("Pierre Bonnet", "Example Hosting Co", "Lyon backup", "Example Anycast"):
        assert value in html
    assert "not signed off" in html
    assert "Printed with the current playbook text." in html  # not a signed text

    response = member_client.post(
        "/plans/fr/signoff/",
        {"name": "Pierre Bonnet", "role": "Managing director",
         "signed_on": timezone.localdate().isoformat(), "version": "1"},
    )  # fmt: skip
    assert response.status_code == 302
    html = member_client.get("/plans/fr/").content.decode()
    assert "Pierre Bonnet (Managing director)" in html
    assert 'href="/plans/fr/versions/1.pdf"' in html
    assert "Printed with the current playbook text." not in html  # the text it was signed with

    pdf = member_client.get("/plans/fr/versions/1.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    path = tmp_path / "plan.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout
    assert b"Pierre Bonnet" in text and b"{{" not in text
    assert member_client.get("/plans/fr/plan.pdf?language=ar").status_code == 200


def test_the_language_chooser_shows_the_plan_in_another_language(member_client):
    member_client.post("/plans/fr/edit/", _form(full_values()))
    html = member_client.get("/plans/fr/?language=ar").content.decode()
    assert 'lang="ar" dir="rtl"' in html
    html = member_client.get("/plans/fr/?language=xx").content.decode()
    assert 'id="plan-document" lang="en"' in html


def test_more_rows_and_remove_without_javascript(member_client):
    values = full_values()
    more = member_client.post("/plans/fr/edit/", _form(values, action="more:sites"))
    assert more.status_code == 200 and not Plan.objects.exists()  # nothing saved
    html = more.content.decode()
    # The two sites, then 2 + 3 blank rows.
    assert 'name="sites-6-name"' in html and 'name="sites-7-name"' not in html
    assert 'value="Lyon backup"' in html
    data = _form(values)
    data["sites-1-remove"] = "1"
    assert member_client.post("/plans/fr/edit/", data).status_code == 302
    assert [s["name"] for s in Plan.objects.get().values["sites"]] == ["Paris office"]


def test_errors_are_shown_by_the_field_and_nothing_is_saved(member_client):
    values = full_values()
    values["suppliers"][0]["email"] = "nobody"
    values["website"] = "not a url"
    response = member_client.post("/plans/fr/edit/", _form(values))
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="plan-errors"' in html and "not an email address" in html
    assert "is not a web address" in html
    assert 'value="nobody"' in html  # what was typed is kept
    assert not Plan.objects.exists()
    bad = member_client.post(
        "/plans/fr/signoff/", {"name": "", "role": "", "signed_on": "2999-01-01"}
    )
    assert bad.status_code == 400 and not SignOff.objects.exists()


def test_a_bad_sign_off_is_refused_with_the_reason(member_client):
    member_client.post("/plans/fr/edit/", _form(full_values()))
    response = member_client.post(
        "/plans/fr/signoff/", {"name": "", "role": "MD", "signed_on": "2999-01-01"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "in the future" in html and "cannot be empty" in html  # every problem at once
    assert not SignOff.objects.exists()


PAGES = ["/plans/fr/", "/plans/fr/edit/", "/plans/fr/plan.pdf", "/plans/fr/versions/1.pdf"]


def _saved_plan(make_member, catalog):
    owner = make_member(catalog["fr"], "Ana Lopez")
    plans.save(owner, catalog["fr"], full_values(), actor=Actor.of(owner, "web"))
    return owner


@pytest.mark.parametrize("url", PAGES)
def test_another_ccTLDs_contact_gets_404(client, catalog, make_member, url):
    _saved_plan(make_member, catalog)
    sign_in(client, make_member(catalog["br"], "Bruno Silva"))
    assert client.get(url).status_code == 404
    posted = client.post("/plans/fr/edit/", _form(full_values()))
    assert posted.status_code == 404
    signed = client.post(
        "/plans/fr/signoff/", {"name": "X", "role": "Y", "signed_on": "2026-01-01"}
    )
    assert signed.status_code == 404
    assert PlanVersion.objects.count() == 1 and not SignOff.objects.exists()


@pytest.mark.parametrize("role", ["secretariat", "committee"])
def test_staff_get_404(client, catalog, make_member, staff, role):
    _saved_plan(make_member, catalog)
    person = staff(role=role, email=f"{role}@tldops.example")
    sign_in(client, person, code=code_for(confirmed_device(person)))
    for url in PAGES:
        assert client.get(url).status_code == 404, url
    assert client.post("/plans/fr/edit/", _form(full_values())).status_code == 404
    html = client.get("/plans/").content.decode()
    assert 'id="no-plan"' in html and "/plans/fr/" not in html


def test_the_anonymous_are_sent_to_login(client, catalog, make_member):
    _saved_plan(make_member, catalog)
    for url in PAGES + ["/plans/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_a_contact_of_two_cctlds_chooses(client: Client, catalog, make_member):
    person = make_member(catalog["fr"], "Ana Lopez", email="ana@nic.example")
    from tests.conftest import _invite_and_authorise  # noqa: PLC0415
    from tldops.directory import actions, links
    from tldops.directory.validation import ContactInput

    (membership,) = _invite_and_authorise(
        catalog["nl"], [ContactInput(name="Ana Lopez", email="ana@nic.example")]
    )
    actions.confirm_contact(links.confirmation_token(membership), door="web")
    sign_in(client, person)
    html = client.get("/plans/").content.decode()
    assert 'href="/plans/fr/"' in html and 'href="/plans/nl/"' in html


def test_a_save_from_an_editor_opened_before_anothers_save_is_refused(
    member_client, catalog, make_member
):
    """Two contacts edit at once: the later save would silently undo the earlier one's changes;
    it is refused (409, nothing saved), the editor keeps what was typed and says to reload."""
    member_client.post("/plans/fr/edit/", _form(full_values()))
    html = member_client.get("/plans/fr/edit/").content.decode()
    assert 'name="base_version" value="1"' in html
    jean = make_member(catalog["fr"], "Jean Dupont")
    theirs = full_values()
    theirs["top_manager"] = "Marie Curie"
    plans.save(jean, catalog["fr"], theirs, base_version=1, actor=Actor.of(jean, "web"))

    mine = full_values()
    mine["registry"] = "Afnic"
    more = member_client.post("/plans/fr/edit/", _form(mine, action="more:sites", base=1))
    assert 'name="base_version" value="1"' in more.content.decode()  # kept across "More rows"
    response = member_client.post("/plans/fr/edit/", _form(mine, base=1))
    html = response.content.decode()
    assert response.status_code == 409
    assert 'id="plan-errors"' in html and "Version 2 of the plan" in html
    assert 'value="Afnic"' in html and 'name="base_version" value="1"' in html
    plan = Plan.objects.get()
    assert plan.version == 2 and plan.values["top_manager"] == "Marie Curie"
    assert plan.values["registry"] != "Afnic"
