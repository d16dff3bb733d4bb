"""Repository fixtures: a directory with contacts in many scripts, and a throwaway OpenPGP key."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from tldops.directory.models import Membership, Person

CYRILLIC = "Ольга Смирнова"
ARABIC = "محمد العلي"
CJK = "王伟"
HEBREW = "דוד כהן"
ESTABLISHED = datetime(2025, 1, 6, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Hashing a password the production way takes a good part of a second; tests make many."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class People:
    ana: Person  # .fr, two phones
    olga: Person  # .рф (IDN), Cyrillic name
    mohammed: Person  # .fr and .nl (a contact of two ccTLDs), Arabic name, right-to-left
    wei: Person  # .nl, CJK name, no phone at all
    david: Person  # .br, Hebrew name


@pytest.fixture
def people(catalog: dict[str, Any], make_member: Any) -> People:
    from tests.conftest import _invite_and_authorise
    from tldops.directory import actions, links
    from tldops.directory.validation import ContactInput

    ana = make_member(
        catalog["fr"],
        "Ana Lopez",
        phones=[("+33 1 23 45 67 89", "office"), ("+33 6 12 34 56 78", "24/7")],
    )
    olga = make_member(
        catalog["xn--p1ai"], CYRILLIC, email="olga@nic.ru", phones=[("+7 495 123-45-67", "24/7")]
    )
    mohammed = make_member(
        catalog["nl"], ARABIC, email="mohammed@nic.nl", phones=[("+31 20 123 4567", "office")]
    )
    wei = make_member(catalog["nl"], CJK, email="wei@nic.nl", phones=[])
    david = make_member(
        catalog["br"], HEBREW, email="david@nic.br", phones=[("+55 11 2345 6789", "mobile")]
    )
    # Mohammed is also a contact of .fr, authorised by .fr's admin contact and confirmed.
    (added,) = _invite_and_authorise(
        catalog["fr"],
        [
            ContactInput(
                name=ARABIC, email="mohammed@nic.nl", phones=[("+31 20 123 4567", "office")]
            )
        ],
    )
    added.refresh_from_db()
    actions.confirm_contact(links.confirmation_token(added), door="web", password=None)
    # An established community: its contacts confirmed long before the fixed dates the edition
    # tests run at (periodic sends only fall due after the first confirmation).
    Membership.objects.update(confirmed_at=ESTABLISHED)
    return People(ana=ana, olga=olga, mohammed=mohammed, wei=wei, david=david)


@dataclass
class Key:
    home: str
    fingerprint: str


@pytest.fixture(scope="session")
def gpg_key() -> Iterator[Key]:
    """A throwaway ed25519 signing key in its own GNUPGHOME (short path: gpg-agent's socket)."""
    home = tempfile.mkdtemp(prefix="tldops-gpg-", dir="/tmp")
    run = ["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run(
        [*run, "--quick-gen-key", "TLD-OPS test <repository@tldops.example>", "ed25519", "sign",
         "1d"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    listing = subprocess.run(
        ["gpg", "--homedir", home, "--batch", "--with-colons", "--list-secret-keys"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    fpr = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    try:
        yield Key(home=home, fingerprint=fpr)
    finally:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def signing_key(settings: Any, gpg_key: Key) -> Key:
    settings.REPOSITORY_SIGNING_KEY = gpg_key.fingerprint
    settings.GNUPG_HOME = gpg_key.home
    settings.GNUPG_PASSPHRASE = ""
    return gpg_key
