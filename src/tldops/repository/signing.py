"""OpenPGP signing of the contact repository with the community's key (PGP/MIME, RFC 3156).

The seam the future ``tldops.openpgp`` app replaces: everything else calls only :func:`signer`
(who signs, or ``None``) and :func:`sign_mime` (a message in, the signed message out). When the
openpgp app arrives — key management, expiry tracking, signed list mail — it provides the same
two functions (or this module delegates to it) and the editions need no change.

Today signing runs the real ``gpg`` binary through python-gnupg, with the secret key named by
``TLDOPS_REPOSITORY_SIGNING_KEY`` (its fingerprint) in the keyring ``TLDOPS_GNUPG_HOME``;
``TLDOPS_GNUPG_PASSPHRASE`` unlocks it when it has a passphrase (given on a pipe, never on the
command line, never logged). Chosen over pysequoia because the spec tests interoperability with
stock gpg, which this *is*, and because the signing key then lives where operators already
manage keys; one signature per month makes gpg's start-up (tens of milliseconds) irrelevant.

:func:`sign_mime` follows RFC 3156 §5: the message's content becomes the first part of a
``multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256``; the signature is
made over that part's exact bytes, headers included, with CRLF line ends (every part is 7-bit:
quoted-printable or base64), and is the second part. The caller must send the bytes of
:meth:`EmailMessage.as_bytes` of the result unchanged (the editions store them in
``Edition.raw`` and queue exactly those).
"""

from __future__ import annotations

import email.policy
import secrets
from dataclasses import dataclass
from email.message import EmailMessage, MIMEPart
from pathlib import Path

import gnupg
from django.conf import settings

#: CRLF line ends everywhere: what is signed is what is sent.
POLICY = email.policy.SMTP

#: OpenPGP hash algorithm ids (RFC 4880 §9.4) → the micalg names of RFC 3156 §5.
MICALG = {
    "2": "pgp-sha1",
    "8": "pgp-sha256",
    "9": "pgp-sha384",
    "10": "pgp-sha512",
    "11": "pgp-sha224",
}


class SigningError(RuntimeError):
    """Signing is configured but cannot be done; the message says what to fix."""


@dataclass(frozen=True)
class Signer:
    """The community key: its fingerprint and the keyring that holds its secret part."""

    fingerprint: str
    gnupg_home: str
    passphrase: str = ""

    def _gpg(self) -> gnupg.GPG:
        return gnupg.GPG(gnupghome=self.gnupg_home)

    def detached(self, data: bytes) -> tuple[str, str]:
        """An ASCII-armoured detached signature over ``data`` and its micalg (``pgp-sha256``)."""
        result = self._gpg().sign(
            data,
            keyid=self.fingerprint,
            detach=True,
            clearsign=False,
            passphrase=self.passphrase or None,
            extra_args=["--digest-algo", "SHA256"],
        )
        if not result or not result.data:
            raise SigningError(
                f"gpg could not sign with key {self.fingerprint} in {self.gnupg_home}: "
                f"{result.status or result.stderr.strip().splitlines()[-1:]}. Check that the key "
                "is usable for signing and that TLDOPS_GNUPG_PASSPHRASE is right."
            )
        return result.data.decode("ascii"), MICALG.get(str(result.hash_algo), "pgp-sha256")


def signer() -> Signer | None:
    """The configured signer, or ``None`` when ``TLDOPS_REPOSITORY_SIGNING_KEY`` is empty.

    Raises :class:`SigningError` when a key is configured but its secret part is not in
    ``TLDOPS_GNUPG_HOME``: an operator who asked for signed editions must not get unsigned ones.
    """
    fingerprint = str(settings.REPOSITORY_SIGNING_KEY or "").replace(" ", "").upper()
    if not fingerprint:
        return None
    home = str(settings.GNUPG_HOME)
    if not Path(home).is_dir():
        raise SigningError(
            f"TLDOPS_GNUPG_HOME={home} does not exist; create it and import the community's "
            f"secret key {fingerprint} there (gpg --homedir {home} --import KEYFILE), or unset "
            "TLDOPS_REPOSITORY_SIGNING_KEY to send editions unsigned."
        )
    keys = gnupg.GPG(gnupghome=home).list_keys(secret=True, keys=[fingerprint])
    match = [k for k in keys if k.get("fingerprint", "").upper().endswith(fingerprint)]
    if not match:
        raise SigningError(
            f"The signing key {fingerprint} (TLDOPS_REPOSITORY_SIGNING_KEY) has no secret key in "
            f"{home} (TLDOPS_GNUPG_HOME). Import it with gpg --homedir {home} --import KEYFILE, "
            "or unset TLDOPS_REPOSITORY_SIGNING_KEY to send editions unsigned."
        )
    return Signer(
        fingerprint=match[0]["fingerprint"].upper(),
        gnupg_home=home,
        passphrase=str(settings.GNUPG_PASSPHRASE or ""),
    )


def _boundary() -> str:
    return f"=_signed_{secrets.token_hex(12)}"


def sign_mime(msg: EmailMessage, with_signer: Signer | None = None) -> EmailMessage:
    """``msg`` as an RFC 3156 multipart/signed message, signed by ``with_signer`` (default: the
    configured :func:`signer`, which must exist).

    The envelope headers (From, To, Subject, Date, Message-ID, List-Id …) stay on the outside; the
    content headers (Content-Type, Content-Transfer-Encoding, Content-Disposition) move with the
    body into the signed part. Every part of ``msg`` must already be 7-bit.
    """
    who = with_signer or signer()
    if who is None:
        raise SigningError("No signing key is configured (TLDOPS_REPOSITORY_SIGNING_KEY).")
    inner = MIMEPart(policy=POLICY)
    for name, value in msg.items():
        if name.lower().startswith("content-"):
            inner[name] = value
    if msg.is_multipart():
        if not msg.get_boundary():
            msg.set_boundary(_boundary())
            inner.replace_header("Content-Type", msg["Content-Type"])
    inner.set_payload(msg.get_payload())
    signed_bytes = inner.as_bytes(policy=POLICY)
    if not signed_bytes.isascii():
        raise SigningError("Only 7-bit content can be signed (RFC 3156): encode every part.")
    signature, micalg = who.detached(signed_bytes)

    sig = MIMEPart(policy=POLICY)
    sig["Content-Type"] = 'application/pgp-signature; name="signature.asc"'
    sig["Content-Description"] = "OpenPGP digital signature"
    sig["Content-Disposition"] = 'attachment; filename="signature.asc"'
    sig.set_payload(signature.replace("\r\n", "\n"))

    outer = EmailMessage(policy=POLICY)
    for name, value in msg.items():
        if not name.lower().startswith("content-") and name.lower() != "mime-version":
            outer[name] = value
    outer["MIME-Version"] = "1.0"
    outer["Content-Type"] = (
        f'multipart/signed; micalg="{micalg}"; protocol="application/pgp-signature"; '
        f'boundary="{_boundary()}"'
    )
    outer.set_payload([inner, sig])
    if first_part(outer.as_bytes(policy=POLICY)) != signed_bytes:
        raise SigningError("The signed part changed when serialised; refusing to send it.")
    return outer


def first_part(raw: bytes) -> bytes:
    """The exact bytes of the first part of a multipart message (what RFC 3156 signs)."""
    header_end = raw.index(b"\r\n\r\n")
    parsed = email.message_from_bytes(raw[:header_end] + b"\r\n\r\n", policy=POLICY)
    boundary = parsed.get_boundary()
    if not boundary:
        raise ValueError("not a multipart message")
    delimiter = b"--" + boundary.encode("ascii")
    start = raw.index(delimiter + b"\r\n", header_end) + len(delimiter) + 2
    end = raw.index(b"\r\n" + delimiter, start)
    return raw[start:end]
