"""Members' probes: vantage points run in the members' own networks, reporting to the hub.

A member creates a probe (:func:`create`) and gets its token once; the hub keeps the token's
prefix (to find the probe) and its hash (:mod:`tldops.directory.tokens`' helpers, the same as for
personal API tokens). The probe sends each sweep's result with that token and signs it with an
Ed25519 key that lives with the probe (``--state``) and never leaves it.

Why both: the token is a bearer secret that travels with every request (through proxies and
TLS-terminating front ends that may log headers); the private key never travels. Once the key is
registered, a token alone cannot make the hub store a report, and a report kept in the probe's
spool for hours is signed when it is made, not when it is sent.

How the hub learns the key, in order:

1. the member registers it beforehand (portal or API: :func:`create` or :func:`reset_key` with a
   ``public_key``), or
2. trust on first use, bound to the secret token: the first report that carries the right token,
   a public key (``X-Probe-Public-Key``) and a signature by that key registers the key. Only
   someone holding the token can do that, and a member who fears the token leaked before the first
   report revokes the probe (or resets the key, :func:`reset_key`, so the next report registers
   again).

After that every report must be signed by the registered key, and another key offered is refused
until a member resets it. Every change here is written to the audit log.

A report is accepted whole or not at all (:func:`accept_report`): the signature over the exact
bytes is checked first, then every bound (:func:`parse_report`), then it is stored in one
transaction, once per ``report_id`` (a probe resends what it is not sure the hub received).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops.catalog.models import NameServer, Tld
from tldops.directory.audit import Actor
from tldops.directory.models import Person, Role
from tldops.directory.permissions import person_is_member, role_of
from tldops.directory.tokens import digest, digest_matches, new_secret
from tldops.directory.validation import has_forbidden
from tldops.kernel.audit import record
from tldops.kernel.errors import (
    DirectoryError,
    InvalidInput,
    LimitReached,
    NotAuthorised,
    NotFound,
)
from tldops.monitor import ingest
from tldops.monitor.codes import CODES
from tldops.monitor.models import DETAIL_MAX_LENGTH, NAME_MAX_LENGTH, Observation, Probe, Sweep
from tldops.monitor.results import Finding, Sample, Stats, Status, SweepResult

#: What every probe token starts with: not a personal token (``tldops_``), and recognisable.
TOKEN_PREFIX = "tldprobe_"
#: Characters of the token the hub keeps in clear to find the probe (``Probe.token_prefix``).
PREFIX_LENGTH = 16
#: Probes one person may keep (not revoked).
MAX_PROBES_PER_PERSON = 10

#: Bounds of one report (docs/monitor.md, "Probes"). The real world is 309 ccTLDs with 1,543 name
#: servers, about 2,800 addresses: a full sweep is about 3,000 samples, 0.5 MB.
REPORT_MAX_BYTES = 8 * 1024 * 1024
MAX_FINDINGS = 10_000  # a real sweep of every ccTLD has a few hundred
MAX_SAMPLES = 20_000
#: A report may start this far in the probe's future (clocks differ).
CLOCK_SKEW = timedelta(minutes=5)
REPORT_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
HOST_MAX_LENGTH = 253
HOST_RE = re.compile(r"^[A-Za-z0-9._-]*$")
TLD_RE = re.compile(r"^[a-z0-9-]{1,63}$")
MAX_MS = 3_600_000.0
MAX_COUNT = 10**9
MAX_SECONDS = 10**6
MAX_SERIAL = 2**32 - 1
#: Ed25519: a raw public key is 32 bytes, a signature 64.
KEY_BYTES = 32
SIGNATURE_BYTES = 64


class SignatureMissing(DirectoryError):
    """The report is not signed, or its key is unknown to the hub: 401."""

    status = 401


class SignatureInvalid(NotAuthorised):
    """The signature does not verify with the probe's key, or another key is offered: 403."""


class ReportTooLarge(DirectoryError):
    status = 413


class ReportTooSoon(DirectoryError):
    """The probe already reported a sweep started less than half an interval before or after
    this one: 409, nothing stored (a probe cannot outweigh the others by reporting more)."""

    status = 409


# --- Members' probes ------------------------------------------------------------------------------


def _is_staff(person: Person) -> bool:
    return role_of(person) in (Role.SECRETARIAT, Role.COMMITTEE)


def _actor(person: Person, actor: Actor | None) -> Actor:
    return actor or Actor.of(person, "system")


def _probe_actor(probe: Probe) -> Actor:
    """The probe itself, acting with its token (its first report registering its key)."""
    return Actor(label=f"probe:{probe.pk}:{probe.name}", door="api")


def clean_public_key(value: str | None) -> str:
    """A raw Ed25519 public key in base64 (44 characters), as the probe prints it; "" for none."""
    text = (value or "").strip()
    if not text:
        return ""
    if len(text) > 64:
        raise InvalidInput(_("The public key is too long for an Ed25519 key."), field="public_key")
    try:
        raw = base64.b64decode(text, validate=True)
        Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            _(
                "The public key must be a raw Ed25519 public key of 32 bytes in base64 (44 "
                "characters), as “tldops probe --show-key” prints it."
            ),
            field="public_key",
        ) from None
    if len(raw) != KEY_BYTES:  # pragma: no cover - from_public_bytes refuses other sizes
        raise InvalidInput(_("An Ed25519 public key is 32 bytes."), field="public_key")
    return base64.b64encode(raw).decode()


def _clean_name(name: str | None) -> str:
    if name is not None and len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(
            _("The probe's name may be at most %(n)d characters.") % {"n": NAME_MAX_LENGTH},
            field="name",
        )
    label = " ".join((name or "").split())
    if not label or not label.isprintable():
        raise InvalidInput(
            _("Give the probe a name of 1 to %(n)d characters (where it runs, for instance).")
            % {"n": NAME_MAX_LENGTH},
            field="name",
        )
    return label


def create(
    owner: Person, name: str, *, public_key: str = "", actor: Actor | None = None
) -> tuple[Probe, str]:
    """A new probe of ``owner`` (a member); returns it and its token, shown this once.

    ``public_key``: the probe's Ed25519 key, registered now instead of by its first report."""
    if not person_is_member(owner):
        raise NotAuthorised(_("Only members of TLD-OPS may run a probe."))
    label = _clean_name(name)
    key = clean_public_key(public_key)
    with transaction.atomic():
        # The owner's row, locked: two creations at once cannot both pass the bound.
        Person.objects.select_for_update().filter(pk=owner.pk).first()
        kept = Probe.objects.filter(owner=owner, revoked_at=None).count()
        if kept >= MAX_PROBES_PER_PERSON:
            raise LimitReached(
                _("You have %(n)d probes already, the most one may keep; revoke one first.")
                % {"n": MAX_PROBES_PER_PERSON}
            )
        plaintext = new_secret(TOKEN_PREFIX)
        probe = Probe.objects.create(
            name=label,
            owner=owner,
            token_prefix=plaintext[:PREFIX_LENGTH],
            token_hash=digest(plaintext),
            public_key=key,
        )
        record(
            _actor(owner, actor),
            "probe-created",
            f"Probe “{label}” (#{probe.pk}) created" + (" with its key" if key else ""),
            person=owner,
        )
    return probe, plaintext


def list_for(person: Person) -> QuerySet[Probe]:
    """``person``'s own probes, revoked ones included, newest first."""
    return Probe.objects.filter(owner=person, builtin=False).order_by("-created_at", "-pk")


def get_for(person: Person, probe_id: int) -> Probe:
    """A probe ``person`` may manage: their own, or any member's for staff. Another's is "not
    found", whether it exists or not."""
    probe = Probe.objects.filter(pk=probe_id, builtin=False).select_related("owner").first()
    if probe is None or not (probe.owner_id == person.pk or _is_staff(person)):
        raise NotFound(_("You have no such probe."))
    return probe


def revoke(probe: Probe | int, person: Person, *, actor: Actor | None = None) -> Probe:
    """Revoke a probe (its owner, or staff): its token is refused from now on; its reports stay."""
    if not isinstance(probe, Probe):
        probe = get_for(person, probe)
    elif probe.builtin or not (probe.owner_id == person.pk or _is_staff(person)):
        raise NotFound(_("You have no such probe."))
    with transaction.atomic():
        updated = Probe.objects.filter(pk=probe.pk, revoked_at=None).update(
            revoked_at=timezone.now()
        )
        if not updated:
            raise NotFound(_("This probe is revoked already."))
        probe.refresh_from_db()
        record(
            _actor(person, actor),
            "probe-revoked",
            f"Probe “{probe.name}” (#{probe.pk}) revoked",
            person=probe.owner,
        )
    return probe


def reset_key(
    probe: Probe | int, person: Person, *, public_key: str = "", actor: Actor | None = None
) -> Probe:
    """Forget the probe's key (its owner, or staff): the next report signed with the token and
    carrying its key registers it again; or register ``public_key`` now. For a probe whose key
    file was lost, or moved to another machine."""
    if not isinstance(probe, Probe):
        probe = get_for(person, probe)
    elif probe.builtin or not (probe.owner_id == person.pk or _is_staff(person)):
        raise NotFound(_("You have no such probe."))
    if probe.revoked_at is not None:
        raise InvalidInput(_("This probe is revoked: create a new one."))
    key = clean_public_key(public_key)
    with transaction.atomic():
        before = probe.public_key
        Probe.objects.filter(pk=probe.pk).update(public_key=key)
        probe.public_key = key
        record(
            _actor(person, actor),
            "probe-key-reset",
            f"Probe “{probe.name}” (#{probe.pk}): key "
            + ("replaced" if key else "forgotten, the next report registers one"),
            person=probe.owner,
            before={"public_key": before},
            after={"public_key": key},
        )
    return probe


def authenticate(token: str | None) -> Probe | None:
    """The probe of a valid token, or ``None``: unknown, revoked, or its owner no longer a member
    (a probe reports in its owner's name). The hash is compared in constant time."""
    token = (token or "").strip()
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    probe = (
        Probe.objects.select_related("owner")
        .filter(token_prefix=token[:PREFIX_LENGTH], builtin=False)
        .first()
    )
    if probe is None or not digest_matches(token, probe.token_hash):
        return None
    if probe.revoked_at is not None or probe.owner is None or not person_is_member(probe.owner):
        return None
    return probe


# --- Signatures ------------------------------------------------------------------------------------


def _verify_with(public_key_b64: str, body: bytes, signature_b64: str | None) -> bool:
    if not public_key_b64 or not signature_b64 or len(signature_b64) > 200:
        return False
    try:
        signature = base64.b64decode(signature_b64.strip(), validate=True)
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
        if len(signature) != SIGNATURE_BYTES:
            return False
        key.verify(signature, body)
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def verify(probe: Probe, body: bytes, signature_b64: str | None) -> bool:
    """Whether ``signature_b64`` (base64 Ed25519) signs exactly ``body`` with the probe's
    registered key; ``False`` while it has none."""
    return _verify_with(probe.public_key, body, signature_b64)


def _check_signature(
    probe: Probe, body: bytes, signature_b64: str | None, offered_key: str | None
) -> str:
    """The key the report is signed with (registered, or offered for registration), or an
    error saying what is wrong."""
    offered = (offered_key or "").strip()
    if probe.public_key:
        if offered and offered != probe.public_key:
            raise SignatureInvalid(
                _(
                    "This probe has another key registered. If the probe's key changed, reset "
                    "its key in the portal (Monitor → Probes) or with POST "
                    "/api/v1/monitor/probes/{id}/reset-key; nothing was stored."
                ),
                field="X-Probe-Public-Key",
            )
        key = probe.public_key
    else:
        if not offered:
            raise SignatureMissing(
                _(
                    "This probe has no key registered yet: its first report must carry its "
                    "public key in X-Probe-Public-Key; nothing was stored."
                ),
                field="X-Probe-Public-Key",
            )
        try:
            key = clean_public_key(offered)
        except InvalidInput as exc:
            raise SignatureMissing(exc.message, field="X-Probe-Public-Key") from None
    if not signature_b64:
        raise SignatureMissing(
            _(
                "The report is not signed: send the base64 Ed25519 signature of the exact body "
                "in X-Probe-Signature; nothing was stored."
            ),
            field="X-Probe-Signature",
        )
    if not _verify_with(key, body, signature_b64):
        raise SignatureInvalid(
            _(
                "The signature does not verify with this probe's key over the body as received: "
                "the report was changed, or signed with another key; nothing was stored."
            ),
            field="X-Probe-Signature",
        )
    return key


# --- Reports ---------------------------------------------------------------------------------------


def _bad(message: str, where: str) -> InvalidInput:
    return InvalidInput(message, field=where)


def _str(item: dict[str, Any], key: str, where: str, limit: int, *, required: bool = True) -> str:
    value = item.get(key, None if required else "")
    if not isinstance(value, str):
        raise _bad(_("%(w)s: “%(k)s” must be a string.") % {"w": where, "k": key}, where)
    if len(value) > limit:
        raise _bad(
            _("%(w)s: “%(k)s” may be at most %(n)d characters.")
            % {"w": where, "k": key, "n": limit},
            where,
        )
    if has_forbidden(value):
        # Terminal escapes and the like would reach an operator's terminal or a mail.
        raise _bad(_("%(w)s: “%(k)s” holds control characters.") % {"w": where, "k": key}, where)
    return value


def _number(value: Any, where: str, limit: float, *, integer: bool = False) -> Any:
    if value is None:
        return None
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise _bad(_("%(w)s must be a number.") % {"w": where}, where)
    if not math.isfinite(value) or value < 0 or value > limit:
        raise _bad(_("%(w)s is out of bounds (0 to %(n)s).") % {"w": where, "n": limit}, where)
    return value


def _host(item: dict[str, Any], where: str) -> str:
    server = _str(item, "server", where, HOST_MAX_LENGTH)
    if not HOST_RE.match(server):
        raise _bad(_("%(w)s: the server is not a host name.") % {"w": where}, where)
    return server.lower()


def _address(item: dict[str, Any], where: str, *, required: bool) -> str:
    text = _str(item, "address", where, 45)
    if not text and not required:
        return ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise _bad(
            _("%(w)s: “%(a)s” is not an IP address.") % {"w": where, "a": text}, where
        ) from None


def _tld(item: dict[str, Any], where: str, tlds: set[str]) -> str:
    name = _str(item, "tld", where, 63).lower()
    if not TLD_RE.match(name):
        raise _bad(_("%(w)s: “%(t)s” is not a ccTLD's A-label.") % {"w": where, "t": name}, where)
    tlds.add(name)
    return name


def _list(data: dict[str, Any], key: str, limit: int) -> list[Any]:
    items = data.get(key, [])
    if not isinstance(items, list):
        raise _bad(_("“%(k)s” must be a list.") % {"k": key}, key)
    if len(items) > limit:
        raise _bad(
            _("A report may carry at most %(n)d %(k)s; this one has %(m)d.")
            % {"n": limit, "k": key, "m": len(items)},
            key,
        )
    return items


REPORT_KEYS = {"report_id", "started_at", "findings", "samples", "stats"}
FINDING_KEYS = {"tld", "server", "address", "code", "severity", "detail"}
SAMPLE_KEYS = {"tld", "server", "address", "status", "udp_ms", "tcp_ms", "serial"}
STATS_KEYS = {"zones", "servers", "queries", "wall_s", "cpu_s"}


def _object(item: Any, where: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _bad(_("%(w)s must be a JSON object.") % {"w": where}, where)
    extra = sorted(set(item) - keys)
    if extra:
        raise _bad(
            _("%(w)s: unknown field(s) %(f)s.") % {"w": where, "f": ", ".join(extra)[:200]}, where
        )
    return item


def parse_report(body: bytes, *, now: datetime | None = None) -> tuple[str, SweepResult]:
    """The report's id and result, every bound checked (docs/monitor.md, "Probes"); the first
    problem found is raised (:class:`~tldops.kernel.errors.InvalidInput`, with the field)."""
    if len(body) > REPORT_MAX_BYTES:
        raise ReportTooLarge(
            _("The report is over the limit of %(n)d bytes; nothing was stored.")
            % {"n": REPORT_MAX_BYTES}
        )
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad(_("The report is not JSON."), "body") from None
    data = _object(data, "report", REPORT_KEYS)
    report_id = data.get("report_id")
    if not isinstance(report_id, str) or not REPORT_ID_RE.match(report_id):
        raise _bad(
            _("“report_id” must be 1 to 64 letters, digits or . _ : - (the probe's id of it)."),
            "report_id",
        )
    now = now or timezone.now()
    started_text = data.get("started_at")
    try:
        started = datetime.fromisoformat(started_text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _bad(_("“started_at” must be an ISO 8601 date and time."), "started_at") from None
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    if started > now + CLOCK_SKEW:
        raise _bad(_("“started_at” is in the future: check the probe's clock (NTP)."), "started_at")
    if started < now - timedelta(days=settings.MONITOR_RAW_DAYS):
        raise _bad(
            _("The report is older than %(n)d days, the time the hub keeps raw results.")
            % {"n": settings.MONITOR_RAW_DAYS},
            "started_at",
        )
    tlds: set[str] = set()
    findings = []
    for n, raw in enumerate(_list(data, "findings", MAX_FINDINGS)):
        where = f"findings[{n}]"
        item = _object(raw, where, FINDING_KEYS)
        code = _str(item, "code", where, 40)
        if code not in CODES:
            raise _bad(_("%(w)s: unknown code “%(c)s”.") % {"w": where, "c": code}, where)
        findings.append(
            Finding(
                tld=_tld(item, where, tlds),
                server=_host(item, where),
                address=_address(item, where, required=False),
                code=code,
                detail=_str(item, "detail", where, DETAIL_MAX_LENGTH, required=False),
            )
        )
    samples = []
    for n, raw in enumerate(_list(data, "samples", MAX_SAMPLES)):
        where = f"samples[{n}]"
        item = _object(raw, where, SAMPLE_KEYS)
        status = _str(item, "status", where, 20)
        if status not in Status.ALL:
            raise _bad(_("%(w)s: unknown status “%(s)s”.") % {"w": where, "s": status}, where)
        samples.append(
            Sample(
                tld=_tld(item, where, tlds),
                server=_host(item, where),
                address=_address(item, where, required=True),
                status=status,
                udp_ms=_number(item.get("udp_ms"), f"{where}.udp_ms", MAX_MS),
                tcp_ms=_number(item.get("tcp_ms"), f"{where}.tcp_ms", MAX_MS),
                serial=_number(item.get("serial"), f"{where}.serial", MAX_SERIAL, integer=True),
            )
        )
    stats = _object(data.get("stats", {}), "stats", STATS_KEYS)
    result = SweepResult(
        started_at=started,
        findings=findings,
        samples=samples,
        stats=Stats(
            zones=_number(stats.get("zones"), "stats.zones", MAX_COUNT, integer=True) or 0,
            servers=_number(stats.get("servers"), "stats.servers", MAX_COUNT, integer=True) or 0,
            queries=_number(stats.get("queries"), "stats.queries", MAX_COUNT, integer=True) or 0,
            wall_s=float(_number(stats.get("wall_s"), "stats.wall_s", MAX_SECONDS) or 0.0),
            cpu_s=float(_number(stats.get("cpu_s"), "stats.cpu_s", MAX_SECONDS) or 0.0),
        ),
    )
    if tlds:
        known = set(
            Tld.objects.filter(alabel__in=tlds, delegated=True).values_list("alabel", flat=True)
        )
        unknown = sorted(tlds - known)
        if unknown:
            raise _bad(
                _("Not a delegated ccTLD of the hub's catalog: %(t)s.")
                % {"t": ", ".join(unknown[:10])},
                "tld",
            )
        _keep_known_servers(result, tlds)
    return report_id, result


def _keep_known_servers(result: SweepResult, tlds: set[str]) -> None:
    """Keep only what the report says about servers the hub knows for each ccTLD: those the
    catalog lists and those the hub's own probe saw in its sweeps of the raw period (with their
    addresses). A probe cannot invent servers, open incidents about them or draw charts of
    them; what it says about others is dropped (and counted in ``result.ignored``)."""
    pairs: set[tuple[str, str, str]] = set()
    for alabel, host, v4, v6 in NameServer.objects.filter(tld__alabel__in=tlds).values_list(
        "tld__alabel", "hostname", "ipv4", "ipv6"
    ):
        for address in [*(v4 or []), *(v6 or [])]:
            pairs.add((alabel, host.lower().rstrip("."), _canonical(address)))
    since = timezone.now() - timedelta(days=settings.MONITOR_RAW_DAYS)
    pairs.update(
        Observation.objects.filter(tld__alabel__in=tlds, sweep__probe__builtin=True, at__gte=since)
        .values_list("tld__alabel", "server", "address")
        .distinct()
    )
    hosts = {(t, h) for t, h, _a in pairs}
    before = len(result.findings) + len(result.samples)
    result.findings = [
        f
        for f in result.findings
        if not f.server
        or ((f.tld, f.server) in hosts and (not f.address or (f.tld, f.server, f.address) in pairs))
    ]
    result.samples = [s for s in result.samples if (s.tld, s.server, s.address) in pairs]
    result.ignored = before - len(result.findings) - len(result.samples)


def _canonical(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


def accept_report(
    probe: Probe,
    body: bytes,
    signature_b64: str | None,
    offered_key: str | None = None,
) -> tuple[Sweep, bool]:
    """Check and store one report of ``probe`` (authenticated by its token); returns the sweep
    and whether it is new (``False``: this ``report_id`` was stored before, nothing is done).

    Refused whole, nothing stored, when the signature does not verify (:class:`SignatureMissing`,
    :class:`SignatureInvalid`) or a bound is broken (:class:`InvalidInput`,
    :class:`ReportTooLarge`). The first report registers the key it is signed with (see the
    module's docstring)."""
    key = _check_signature(probe, body, signature_b64, offered_key)
    report_id, result = parse_report(body)
    with transaction.atomic():
        existing = Sweep.objects.filter(probe=probe, report_id=report_id).first()
        if existing is not None:
            return existing, False
        if not probe.public_key:
            # Only if still none: two first reports at once register one key, not two.
            if not Probe.objects.filter(pk=probe.pk, public_key="").update(public_key=key):
                probe.refresh_from_db(fields=["public_key"])
                if probe.public_key != key:
                    raise SignatureInvalid(
                        _("This probe has another key registered; nothing was stored."),
                        field="X-Probe-Public-Key",
                    )
            else:
                probe.public_key = key
                record(
                    _probe_actor(probe),
                    "probe-key-registered",
                    f"Probe “{probe.name}” (#{probe.pk}): key registered by its first report",
                    person=probe.owner,
                    after={"public_key": key},
                )
        spacing = timedelta(seconds=settings.MONITOR_INTERVAL / 2)
        if (
            Sweep.objects.filter(
                probe=probe,
                started_at__gt=result.started_at - spacing,
                started_at__lt=result.started_at + spacing,
            )
            .exclude(report_id=report_id)
            .exists()
        ):
            raise ReportTooSoon(
                _(
                    "This probe already reported a sweep started within %(n)d seconds of this "
                    "one; nothing was stored."
                )
                % {"n": int(spacing.total_seconds())},
                field="started_at",
            )
        sweep = ingest.store(probe, result, report_id)
        if getattr(sweep, "duplicate", False):  # stored meanwhile by the same report sent twice
            return sweep, False
        probe.last_report_at = timezone.now()
        Probe.objects.filter(pk=probe.pk).update(last_report_at=probe.last_report_at)
    return sweep, True


def delegated_tlds() -> list[str]:
    """The A-labels a probe sweeps when not told otherwise: every delegated ccTLD of the catalog."""
    return list(
        Tld.objects.filter(delegated=True).order_by("alabel").values_list("alabel", flat=True)
    )
