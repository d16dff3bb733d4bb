"""The public playbook pages and PDF downloads (web.views.playbooks): anyone, every language."""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile

import polib
import pytest
from django.conf import settings

from tldops.playbooks import catalogs, content

LANGUAGES = list(catalogs.LANGUAGES)


@pytest.mark.django_db
def test_the_index_offers_both_playbooks_in_six_languages_without_login(client):
    response = client.get("/playbooks/")
    assert response.status_code == 200
    html = response.content.decode()
    for playbook in content.PLAYBOOKS:
        for language in LANGUAGES:
            assert f'href="/playbooks/{playbook}/{language}/"' in html
            assert f'href="/playbooks/{playbook}/{language}.pdf"' in html
    assert html.count("complete") >= 10  # every translation is complete today


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("playbook", content.PLAYBOOKS)
def test_each_page_is_in_its_language_with_every_step(client, playbook, language):
    response = client.get(f"/playbooks/{playbook}/{language}/")
    assert response.status_code == 200
    assert response["Content-Language"] == language
    html = response.content.decode()
    doc = catalogs.localize(playbook, language)
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<article class="playbook" id="playbook" lang="{language}" dir="{direction}">' in html
    assert "under-review" not in html  # complete translations: nothing stands in English
    assert "{{" not in re.sub(r"<script.*?</script>", "", html, flags=re.S)
    ids = [s["id"] for p in doc.book.get("phases", []) for s in (*p["steps"], *p["ask"])] + [
        s["id"] for sc in doc.book.get("scenarios", []) for st in content.STAGES for s in sc[st]
    ]
    for step_id in ids:
        assert f'id="{step_id}"' in html
    assert doc.book["sections"][0]["title"] in html.replace("&#x27;", "'").replace("&quot;", '"')


@pytest.mark.django_db
def test_unknown_playbook_or_language_is_404(client):
    assert client.get("/playbooks/nope/en/").status_code == 404
    assert client.get("/playbooks/ddos/de/").status_code == 404
    assert client.get("/playbooks/ddos/de.pdf").status_code == 404
    assert client.post("/playbooks/ddos/en/").status_code == 405


@pytest.mark.django_db
def test_the_short_address_goes_to_the_readers_language(client):
    assert client.get("/playbooks/ddos/").url == "/playbooks/ddos/en/"
    response = client.get("/playbooks/ddos/", headers={"accept-language": "fr"})
    assert response.url == "/playbooks/ddos/fr/"


@pytest.mark.django_db
def test_the_pdf_download_is_public_and_in_the_language(client, tmp_path):
    response = client.get("/playbooks/ddos/fr.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="tldops-ddos-fr.pdf"' in response["Content-Disposition"]
    path = tmp_path / "ddos.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    title = catalogs.localize("ddos", "fr").book["title"]
    assert " ".join(title.split()) in " ".join(text.split())


@pytest.fixture
def half_translated(tmp_path, monkeypatch):
    """A French catalog in which one paragraph's English changed since it was translated."""
    for source in catalogs.SOURCES:
        (tmp_path / "fr").mkdir(exist_ok=True)
        (tmp_path / "fr" / f"{source}.po").write_bytes(
            catalogs.catalog_path(source, "fr").read_bytes()
        )
    monkeypatch.setattr(catalogs, "LOCALE", tmp_path)
    path = tmp_path / "fr" / "ddos.po"
    po = polib.pofile(str(path))
    entry = next(e for e in po if e.msgctxt == "about/text")
    entry.flags.append("fuzzy")
    po.save(str(path))
    catalogs._catalog.cache_clear()
    yield entry
    catalogs._catalog.cache_clear()


@pytest.mark.django_db
def test_a_paragraph_under_review_is_shown_in_english_and_marked(client, half_translated):
    html = client.get("/playbooks/ddos/fr/").content.decode()
    assert 'id="pb-review"' in html
    marked = re.findall(r'<p lang="en" dir="ltr" class="under-review"[^>]*>([^<]*)</p>', html)
    assert len(marked) == 1
    assert marked[0].startswith(half_translated.msgid[:30].replace("'", "&#x27;"))


@pytest.mark.django_db
def test_the_html_download_is_one_file_with_its_style(client):
    response = client.get("/playbooks/drbcp/ar.html")
    assert response.status_code == 200
    assert 'filename="tldops-drbcp-ar.html"' in response["Content-Disposition"]
    html = response.content.decode()
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="ar" dir="rtl">' in html
    assert "<style>" in html and ".step {" in html
    assert "<link" not in html and "<script" not in html  # nothing to fetch: it works offline
    assert 'class="top"' not in html  # no portal menu
    assert settings.BASE_URL + "/playbooks/drbcp/ar/" in html
    assert "testserver" not in html  # not the Host the request names: the file is cached for all
    scenario = catalogs.localize("drbcp", "ar").book["scenarios"][0]
    assert f'id="{scenario["id"]}"' in html


@pytest.mark.django_db
def test_the_cacao_downloads_are_public_and_valid_json(client):
    response = client.get("/playbooks/drbcp/zh.cacao.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="tldops-drbcp.zh.cacao.zip"' in response["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    scenarios = [s["id"] for s in content.load("drbcp")["scenarios"]]
    assert names == [f"tldops-drbcp-{s}.zh.cacao.json" for s in scenarios]

    one = client.get(f"/playbooks/drbcp/ar/{scenarios[0]}.cacao.json")
    assert one.status_code == 200
    document = json.loads(one.content)
    assert document["spec_version"] == "cacao-2.0" and document["type"] == "playbook"
    assert client.get("/playbooks/ddos/fr/ddos.cacao.json").status_code == 200
    assert client.get("/playbooks/drbcp/fr/nope.cacao.json").status_code == 404
    assert client.get("/playbooks/ddos/de.cacao.zip").status_code == 404
    page = client.get("/playbooks/drbcp/en/").content.decode()
    assert f'href="/playbooks/drbcp/en/{scenarios[0]}.cacao.json"' in page
    assert 'href="/playbooks/drbcp/en.cacao.zip"' in page
