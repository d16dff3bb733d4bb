"""The portal's languages: pages follow Accept-Language or the language switch; every catalogue is
complete; Arabic pages are right to left."""

import gettext
import html as htmllib
import re
from pathlib import Path

import pytest

import tldops
from tldops.directory import actions, links
from tldops.directory.audit import Actor


def text(response) -> str:
    return htmllib.unescape(response.content.decode())


LOCALE = Path(tldops.__file__).parent / "locale" / "fr" / "LC_MESSAGES"


def test_coverage_in_french_from_accept_language(client, catalog):
    html = text(client.get("/", headers={"Accept-Language": "fr"}))
    assert '<html lang="fr" dir="ltr">' in html
    assert "Aller au contenu" in html
    # The name is kept on one line in headings (no break at its hyphen on narrow screens).
    assert '<h1>Les ccTLD présents dans <span class="nowrap">TLD-OPS</span></h1>' in html
    assert "Which ccTLDs are in" not in html


def test_language_switch_sets_french_and_back(client, catalog):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/login/"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    html = text(client.get("/login/"))
    assert "Se connecter" in html and "Mot de passe" in html and "Code d'authentification" in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Sign in" in text(client.get("/login/"))


def test_switch_is_a_form_with_the_six_languages(client, catalog):
    html = text(client.get("/"))
    assert 'action="/i18n/setlang/"' in html
    for code in ("en", "fr", "es", "ar", "ru", "zh-hans"):
        assert f'name="language" value="{code}"' in html


#: A string of the sign-in page and of the coverage page in each language, as the catalogue has it.
OTHER_LANGUAGES = ["es", "ar", "ru", "zh_Hans"]


@pytest.mark.parametrize("locale", OTHER_LANGUAGES)
def test_every_catalogue_is_complete_and_compiled(locale):
    folder = LOCALE.parent.parent / locale / "LC_MESSAGES"
    po = (folder / "django.po").read_text(encoding="utf-8")
    entries = po.split("\n\n")[1:]
    untranslated = [
        e
        for e in entries
        if re.search(r'^msgstr(\[\d\])? ""$', e, re.M) and '\n"' not in e.split("msgstr", 1)[1]
    ]
    assert not untranslated, untranslated[:3]
    assert "#, fuzzy" not in po
    catalog = gettext.GNUTranslations((folder / "django.mo").open("rb"))
    assert catalog.gettext("Sign in") not in ("", "Sign in")


@pytest.mark.parametrize(
    ("accept", "code", "direction"),
    [("es", "es", "ltr"), ("ar", "ar", "rtl"), ("ru", "ru", "ltr"), ("zh-CN", "zh-hans", "ltr")],
)
def test_pages_in_the_other_languages(client, catalog, accept, code, direction):
    html = text(client.get("/login/", headers={"Accept-Language": accept}))
    assert f'<html lang="{code}" dir="{direction}">' in html
    catalog_ = gettext.GNUTranslations(
        (
            LOCALE.parent.parent / code.replace("zh-hans", "zh_Hans") / "LC_MESSAGES" / "django.mo"
        ).open("rb")
    )
    assert catalog_.gettext("Sign in") in html


def test_service_messages_are_french_too(client, catalog):
    inv = actions.invite_cctld(catalog["fr"], actor=Actor.system())
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    response = client.post(
        f"/authorise/{links.invitation_token(inv)}/",
        {"contact-0-name": "Marie Curie", "contact-0-email": "pas-une-adresse"},
    )
    html = text(response)
    assert "n'est pas une adresse électronique" in html
    assert "Contacts de sécurité de .fr" in html
    expired = client.get("/authorise/forged/")
    assert expired.status_code == 410 and "Ce lien ne fonctionne plus" in text(expired)


@pytest.mark.parametrize(
    "url,french",
    [
        ("/home/", "Ce que vous pouvez faire"),
        ("/directory/", "Annuaire des contacts de sécurité"),
        ("/catalog/", "Catalogue des ccTLD"),
        ("/catalog/fr/", "Serveurs de noms"),
        ("/profile/", "Mes coordonnées"),
        ("/profile/leave/", "Quitter TLD-OPS"),
        ("/profile/tokens/", "Jetons d'API"),
        ("/account/2fa/", "Authentification à deux facteurs"),
    ],
)
def test_member_pages_in_french(member_client, url, french):
    member_client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    html = text(member_client.get(url))
    assert french in html
    for english in ("Skip to content", "Sign out", "Directory<", "My details"):
        assert english not in html, (url, english)


@pytest.mark.parametrize(
    "url,french", [("/invitations/", "Inviter un ccTLD"), ("/audit/", "Journal d'audit")]
)
def test_staff_pages_in_french(staff_client, catalog, url, french):
    client = staff_client()
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert french in text(client.get(url))


def test_french_catalogue_is_complete_and_compiled():
    po = (LOCALE / "django.po").read_text(encoding="utf-8")
    entries = po.split("\n\n")[1:]
    untranslated = [
        e
        for e in entries
        if re.search(r'^msgstr(\[\d\])? ""$', e, re.M) and '\n"' not in e.split("msgstr", 1)[1]
    ]
    assert not untranslated, untranslated[:3]
    assert "#, fuzzy" not in po
    catalog = gettext.GNUTranslations((LOCALE / "django.mo").open("rb"))
    assert catalog.gettext("Name at least one contact.") == "Désignez au moins un contact."
    assert catalog.gettext("Sign in") == "Se connecter"
