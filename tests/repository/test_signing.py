"""PGP/MIME signing with the real gpg: what we sign, stock gpg verifies."""

from __future__ import annotations

import email
import email.policy
import subprocess
from email.message import EmailMessage

import pytest

from tldops.repository import signing


def _message() -> EmailMessage:
    msg = EmailMessage(policy=signing.POLICY)
    msg["From"] = "TLD-OPS Secretariat <secretariat@tldops.example>"
    msg["To"] = "TLD-OPS members:;"
    msg["Subject"] = "TLD-OPS contact repository 2026-11"
    msg.set_content(
        "Ольга Смирнова | 1 | .рф (xn--p1ai) | +7 495 123-45-67\n", cte="quoted-printable"
    )
    msg.add_attachment(b"tld,name\r\nfr,Ana\r\n", maintype="text", subtype="csv", filename="x.csv")
    return msg


def _gpg_verify(home: str, data: bytes, signature: bytes, tmp_path) -> subprocess.CompletedProcess:
    (tmp_path / "part").write_bytes(data)
    (tmp_path / "part.asc").write_bytes(signature)
    return subprocess.run(
        ["gpg", "--homedir", home, "--batch", "--status-fd", "1", "--verify",
         str(tmp_path / "part.asc"), str(tmp_path / "part")],
        capture_output=True,
    )  # fmt: skip


def test_no_key_configured_means_no_signer(settings):
    settings.REPOSITORY_SIGNING_KEY = ""
    assert signing.signer() is None


def test_a_configured_key_missing_from_the_keyring_is_an_error(settings, tmp_path, gpg_key):
    settings.REPOSITORY_SIGNING_KEY = "0123456789ABCDEF0123456789ABCDEF01234567"
    settings.GNUPG_HOME = gpg_key.home
    with pytest.raises(signing.SigningError, match="has no secret key in"):
        signing.signer()
    settings.GNUPG_HOME = str(tmp_path / "missing")
    with pytest.raises(signing.SigningError, match="does not exist"):
        signing.signer()


def test_sign_mime_is_rfc3156_and_stock_gpg_verifies_it(signing_key, tmp_path):
    who = signing.signer()
    assert who is not None and who.fingerprint == signing_key.fingerprint
    raw = signing.sign_mime(_message(), who).as_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF throughout

    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/signed"
    assert parsed.get_param("protocol") == "application/pgp-signature"
    assert parsed.get_param("micalg") == "pgp-sha256"
    assert parsed["Subject"] == "TLD-OPS contact repository 2026-11"
    first, sig = parsed.get_payload()
    assert first.get_content_type() == "multipart/mixed"
    assert sig.get_content_type() == "application/pgp-signature"

    data = signing.first_part(raw)
    assert data.startswith(b"Content-Type: multipart/mixed")
    result = _gpg_verify(signing_key.home, data, sig.get_payload().encode(), tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert f"VALIDSIG {signing_key.fingerprint}".encode() in result.stdout

    # One changed byte in the signed part: stock gpg says BAD.
    tampered = data.replace(b"Content-Type: text/csv", b"Content-Type: text/CSV")
    assert tampered != data
    bad = _gpg_verify(signing_key.home, tampered, sig.get_payload().encode(), tmp_path)
    assert bad.returncode != 0 and b"BADSIG" in bad.stdout
