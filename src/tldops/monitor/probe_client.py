"""The probe's side of a vantage point: its key, its spool, and its two calls to the hub.

``tldops probe`` (``monitor/management/commands/probe.py``) sweeps on a schedule and hands each
result here: :func:`make_report` turns it into the exact bytes the hub receives, signed with the
probe's Ed25519 key (:func:`load_key`, kept in the state directory, never sent); every report goes
to the spool first (:class:`Outbox`) and is sent from there, oldest first (:func:`flush`), so a
hub that is down, or a network that is, loses nothing: the next run sends what is waiting, in
order. The spool is bounded (:meth:`Outbox.prune`).

Standard library only (``urllib``) besides ``cryptography``, and no database: a probe runs with
tldops' default settings on an empty data directory.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import os
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tldops.monitor.results import SweepResult

log = logging.getLogger("tldops.monitor.probe")

KEY_FILE = "probe-key.pem"
TLDS_FILE = "tlds.json"
OUTBOX = "outbox"
REPORTS_PATH = "/api/v1/monitor/reports"
TLDS_PATH = "/api/v1/monitor/tlds"
#: Bytes of a hub's answer read at most (an error's JSON, the list of ccTLDs).
ANSWER_MAX_BYTES = 1024 * 1024


class HubRefused(Exception):
    """The hub's address cannot be used (plain HTTP to a host that is not this machine)."""


def check_hub(url: str) -> str:
    """The hub's base address, without a trailing slash.

    HTTPS is required, except to this machine (``localhost``, 127.0.0.0/8, ``::1``): the token
    is a bearer secret sent with every request, and plain HTTP over a network shows it to anyone
    on the path, who could then read the hub's answers and, before the key is registered, register
    their own. Over loopback nothing travels on a network (tests, a hub behind a local tunnel)."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise HubRefused(f"The hub must be an https:// address, not {url!r}.")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise HubRefused("The hub's address must have no query, fragment or credentials.")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise HubRefused(
            "Plain http:// is accepted only for a hub on this machine (localhost, 127.0.0.1, "
            "::1): the token would travel in clear. Use the hub's https:// address."
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- The key ---------------------------------------------------------------------------------------


def load_key(state: Path) -> Ed25519PrivateKey:
    """The probe's private key from ``state``, made on the first run (PKCS#8 PEM, mode 0600)."""
    path = state / KEY_FILE
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 key.")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    log.info("New probe key in %s", path)
    return key


def public_key_b64(key: Ed25519PrivateKey) -> str:
    """The raw public key, base64: what the hub registers (``X-Probe-Public-Key``)."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def make_report(
    result: SweepResult, key: Ed25519PrivateKey, report_id: str = ""
) -> tuple[bytes, str]:
    """The report's body (the result's JSON with its ``report_id``) and its signature, base64."""
    data: dict[str, Any] = {**result.to_json(), "report_id": report_id or uuid.uuid4().hex}
    body = json.dumps(data, separators=(",", ":")).encode()
    return body, base64.b64encode(key.sign(body)).decode()


# --- The spool -------------------------------------------------------------------------------------


@dataclass
class Outbox:
    """Reports waiting to be sent, one file each in ``--state/outbox``, named by when they were
    made so that the names sort oldest first. Bounded: at most ``max_files``, none older than
    ``max_age_s`` (the hub refuses reports older than it keeps raw results)."""

    directory: Path
    max_files: int = 1000
    max_age_s: float = 2 * 86400

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def put(self, body: bytes, signature: str) -> Path:
        """Keep one report (written whole, then renamed into place: a crash leaves no half)."""
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.json"
        tmp = self.directory / f".{name}.tmp"
        tmp.write_text(json.dumps({"body": body.decode(), "signature": signature}))
        os.replace(tmp, self.directory / name)
        return self.directory / name

    def pending(self) -> list[Path]:
        return sorted(p for p in self.directory.glob("*.json") if not p.name.startswith("."))

    @staticmethod
    def read(path: Path) -> tuple[bytes, str]:
        data = json.loads(path.read_text())
        return data["body"].encode(), data["signature"]

    @staticmethod
    def made_at(path: Path) -> float:
        return int(path.name.split("-", 1)[0]) / 1e9

    def prune(self, now: float | None = None) -> list[Path]:
        """Drop what is past the bounds, oldest first, each with a warning; returns them."""
        now = time.time() if now is None else now
        files = self.pending()
        dropped = [p for p in files if now - self.made_at(p) > self.max_age_s]
        kept = [p for p in files if p not in dropped]
        if len(kept) > self.max_files:
            dropped += kept[: len(kept) - self.max_files]
        for path in dropped:
            log.warning("Spool full or report too old: dropping %s, never sent", path.name)
            path.unlink(missing_ok=True)
        return dropped


# --- The hub ---------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed: the token must not go to another address than ``--hub``."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect())


@dataclass
class Answer:
    status: int  # 0: no answer (network error, timeout)
    data: Any = None
    error: str = ""


def _call(
    method: str, url: str, token: str, timeout: float, body: bytes | None = None, **headers: str
) -> Answer:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Accept", "application/json")
    request.add_header("User-Agent", "tldops-probe")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name.replace("_", "-"), value)
    try:
        with _opener.open(request, timeout=timeout) as response:
            status, raw = response.status, response.read(ANSWER_MAX_BYTES)
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read(ANSWER_MAX_BYTES) if exc.fp else b""
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections
        return Answer(0, error=str(getattr(exc, "reason", exc)))
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = None
    error = data.get("detail", "") if isinstance(data, dict) else ""
    return Answer(status, data, error or raw[:200].decode(errors="replace"))


def fetch_tlds(hub: str, token: str, timeout: float) -> Answer:
    """The ccTLDs the hub wants swept (``GET /api/v1/monitor/tlds``)."""
    return _call("GET", hub + TLDS_PATH, token, timeout)


def post_report(
    hub: str, token: str, body: bytes, signature: str, public_key: str, timeout: float
) -> Answer:
    return _call(
        "POST",
        hub + REPORTS_PATH,
        token,
        timeout,
        body,
        X_Probe_Signature=signature,
        X_Probe_Public_Key=public_key,
    )


@dataclass
class Flushed:
    sent: list[str] = field(default_factory=list)  # file names, in the order sent
    dropped: list[str] = field(default_factory=list)  # refused by the hub for good
    waiting: int = 0  # still in the spool (the hub is down or busy)
    error: str = ""


def flush(hub: str, token: str, outbox: Outbox, public_key: str, timeout: float) -> Flushed:
    """Send the spool oldest first; stop at the first report the hub cannot take now (no answer,
    5xx, 429, a redirect), keeping it and every later one for the next run, in order. A report
    refused with another 4xx would be refused for ever: it is dropped, with the hub's reason."""
    done = Flushed()
    files = outbox.pending()
    for n, path in enumerate(files):
        try:
            body, signature = outbox.read(path)
        except (OSError, ValueError, KeyError) as exc:
            log.error("Unreadable spooled report %s dropped: %s", path.name, exc)
            path.unlink(missing_ok=True)
            done.dropped.append(path.name)
            continue
        answer = post_report(hub, token, body, signature, public_key, timeout)
        if 200 <= answer.status < 300:
            path.unlink(missing_ok=True)
            done.sent.append(path.name)
            continue
        if 400 <= answer.status < 500 and answer.status != 429:
            log.error(
                "The hub refused report %s (%d): %s. Dropped: it would never be accepted.",
                path.name,
                answer.status,
                answer.error,
            )
            path.unlink(missing_ok=True)
            done.dropped.append(path.name)
            continue
        why = f"HTTP {answer.status}: {answer.error}" if answer.status else answer.error
        log.warning("The hub cannot take reports now (%s); %d kept for later", why, len(files) - n)
        done.waiting = len(files) - n
        done.error = why
        break
    return done
