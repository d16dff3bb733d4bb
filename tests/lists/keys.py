"""Throwaway DKIM keys for the tests and benchmarks, made by openssl, and TXT record text."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path


def rsa_keypair(folder: Path) -> tuple[Path, str]:
    """A 2048-bit RSA key in ``folder``: (path of the PEM private key, base64 DER public key)."""
    private = folder / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-out", str(private), "2048"], check=True, capture_output=True
    )
    der = subprocess.run(
        ["openssl", "pkey", "-in", str(private), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return private, base64.b64encode(der).decode("ascii")


def txt_strings(value: str) -> str:
    """A TXT record's data as quoted strings of at most 255 characters (RFC 1035)."""
    return " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))


def dkim_record(public: str) -> str:
    """The TXT data of a DKIM key record for ``public`` (base64 DER)."""
    return txt_strings(f"v=DKIM1; k=rsa; p={public}")
