"""Probes (issue 11, "Vantage points"): a member's probes, and the two calls a probe makes.

A thin door onto :mod:`tldops.monitor.probes`. Members manage their probes with their usual
credential (personal token or portal session). A probe calls ``POST /monitor/reports`` and
``GET /monitor/tlds`` with its own token, ``Authorization: Bearer tldprobe_…``, and nothing else:
a person's token or session is refused there (401), as a probe's token is everywhere else.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from ninja.security import HttpBearer

from tldops.api.auth import AUTH, Unauthenticated, actor, require_member
from tldops.api.schemas import AUTH_ERRORS, InputSchema, Pagination, errors
from tldops.directory import tokens
from tldops.monitor import probes
from tldops.monitor.models import NAME_MAX_LENGTH, Probe
from tldops.ops import incident_alerts

log = logging.getLogger(__name__)

router = Router(auth=AUTH, tags=["monitor"])


class ProbeToken(HttpBearer):
    """``Authorization: Bearer tldprobe_…``: a probe's token (and nothing else)."""

    def __call__(self, request: HttpRequest) -> Probe:
        scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(_("A probe sends its token: “Authorization: Bearer tldprobe_…”."))
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Probe:
        probe = probes.authenticate(token)
        if probe is not None:
            return probe
        if token.startswith(tokens.TOKEN_PREFIX):
            raise Unauthenticated(
                _(
                    "This is a personal API token: a probe reports with its own token, shown "
                    "when the probe was created (Monitor → Probes in the portal)."
                )
            )
        raise Unauthenticated(
            _(
                "This probe token is not valid: unknown, revoked, or its owner is no longer a "
                "member. Create a probe in the portal (Monitor → Probes)."
            )
        )


PROBE_AUTH = [ProbeToken()]


class ProbeOut(Schema):
    id: int
    name: str
    token_prefix: str = Field(description="The token's first characters, to recognise it.")
    public_key: str = Field(description="The registered Ed25519 key (raw, base64), or empty.")
    key_registered: bool
    created_at: datetime
    last_report_at: datetime | None
    revoked_at: datetime | None


def _probe(p: Probe) -> dict[str, Any]:
    return {
        "id": p.pk,
        "name": p.name,
        "token_prefix": p.token_prefix or "",
        "public_key": p.public_key,
        "key_registered": bool(p.public_key),
        "created_at": p.created_at,
        "last_report_at": p.last_report_at,
        "revoked_at": p.revoked_at,
    }


class ProbeCreated(ProbeOut):
    token: str = Field(description="The probe's token: shown this once, keep it with the probe.")


class ProbeIn(InputSchema):
    name: str = Field(max_length=NAME_MAX_LENGTH, description="Where it runs, for instance.")
    public_key: str = Field(
        "",
        max_length=64,
        description="The probe's Ed25519 public key (raw, base64; `tldops probe --show-key`), "
        "to register it now; empty: the first report registers it.",
    )


class KeyIn(InputSchema):
    public_key: str = Field(
        "", max_length=64, description="A new key to register now; empty: the next report's."
    )


@router.get(
    "/monitor/probes",
    response={200: list[ProbeOut], **errors(*AUTH_ERRORS)},
    summary="Your probes",
)
@paginate(Pagination)
def list_probes(request: HttpRequest) -> Any:
    """Your probes, newest first, revoked ones included: `{"items", "count"}`."""
    return [_probe(p) for p in probes.list_for(require_member(request))]


@router.post(
    "/monitor/probes",
    response={201: ProbeCreated, **errors(400, 409, *AUTH_ERRORS)},
    summary="Create a probe",
)
def create_probe(request: HttpRequest, body: ProbeIn) -> Any:
    """Create a probe (at most 10 not revoked each). Its token is in the answer, this once;
    run it with `tldops probe --hub URL --token T`."""
    person = require_member(request)
    probe, token = probes.create(
        person, body.name, public_key=body.public_key, actor=actor(request)
    )
    return Status(201, {**_probe(probe), "token": token})


@router.delete(
    "/monitor/probes/{probe_id}",
    response={200: ProbeOut, **errors(404, *AUTH_ERRORS)},
    summary="Revoke a probe",
)
def revoke_probe(request: HttpRequest, probe_id: int) -> dict[str, Any]:
    """Revoke one of your probes (staff: anyone's); its token is refused at once, its reports
    stay. Another member's probe is 404, whether it exists or not."""
    person = require_member(request)
    return _probe(probes.revoke(probe_id, person, actor=actor(request)))


@router.post(
    "/monitor/probes/{probe_id}/reset-key",
    response={200: ProbeOut, **errors(400, 404, *AUTH_ERRORS)},
    summary="Reset a probe's key",
)
def reset_probe_key(request: HttpRequest, probe_id: int, body: KeyIn) -> dict[str, Any]:
    """Forget the probe's registered key (the next report with its token registers the key it
    carries), or register `public_key` now: for a probe moved or whose key file was lost."""
    person = require_member(request)
    probe = probes.reset_key(probe_id, person, public_key=body.public_key, actor=actor(request))
    return _probe(probe)


class TldsOut(Schema):
    tlds: list[str] = Field(description="A-labels of every delegated ccTLD, to sweep.")


@router.get(
    "/monitor/tlds",
    auth=PROBE_AUTH,
    response={200: TldsOut, **errors(401)},
    summary="The ccTLDs a probe sweeps (probe token)",
)
def probe_tlds(request: HttpRequest) -> dict[str, Any]:
    """Every delegated ccTLD's A-label: what `tldops probe` sweeps unless told `--tld`."""
    return {"tlds": probes.delegated_tlds()}


class ReportOut(Schema):
    sweep: int = Field(description="The sweep stored for the report.")
    report_id: str
    duplicate: bool = Field(description="This report_id was received before: nothing new stored.")
    key_registered: bool = Field(description="The probe's key is registered (now or before).")


REPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "A sweep's result (`tldops monitor sweep --format json`, "
                    "with `samples`) and the probe's `report_id`; see docs/monitor.md.",
                    "required": ["report_id", "started_at"],
                    "properties": {
                        "report_id": {"type": "string", "maxLength": 64},
                        "started_at": {"type": "string", "format": "date-time"},
                        "findings": {
                            "type": "array",
                            "maxItems": probes.MAX_FINDINGS,
                            "items": {"type": "object"},
                        },
                        "samples": {
                            "type": "array",
                            "maxItems": probes.MAX_SAMPLES,
                            "items": {"type": "object"},
                        },
                        "stats": {"type": "object"},
                    },
                }
            }
        },
    },
    "parameters": [
        {
            "in": "header",
            "name": "X-Probe-Signature",
            "required": True,
            "schema": {"type": "string", "maxLength": 200},
            "description": "Base64 Ed25519 signature of the exact body, by the probe's key.",
        },
        {
            "in": "header",
            "name": "X-Probe-Public-Key",
            "required": False,
            "schema": {"type": "string", "maxLength": 64},
            "description": "The probe's public key (raw, base64): registered by the first "
            "report; afterwards it must be the registered one, if sent.",
        },
    ],
}


@router.post(
    "/monitor/reports",
    auth=PROBE_AUTH,
    response={200: ReportOut, 201: ReportOut, **errors(400, 401, 403, 413)},
    summary="Send a probe's report (probe token, signed)",
    openapi_extra=REPORT_BODY,
)
def post_report(request: HttpRequest) -> Any:
    """A probe's sweep, signed: 201 stored; 200 the same `report_id` again (stored once); 401
    wrong token or no signature; 403 a signature that does not verify; 400 a bound broken; 413
    over 8 MB. Refused reports store nothing."""
    probe: Probe = request.auth  # type: ignore[attr-defined]
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > probes.REPORT_MAX_BYTES:
        raise probes.ReportTooLarge(
            _("The report is over the limit of %(n)d bytes; nothing was stored.")
            % {"n": probes.REPORT_MAX_BYTES}
        )
    body = request.read(probes.REPORT_MAX_BYTES + 1)
    sweep, new = probes.accept_report(
        probe,
        body,
        request.headers.get("X-Probe-Signature"),
        request.headers.get("X-Probe-Public-Key"),
    )
    if new:
        _evaluate()
    answer = {
        "sweep": sweep.pk,
        "report_id": sweep.report_id,
        "duplicate": not new,
        "key_registered": bool(probe.public_key),
    }
    return Status(201 if new else 200, answer)


def _evaluate() -> None:
    """Open or close incidents with what the report added, and raise the automatic alerts
    (:func:`tldops.ops.incident_alerts.evaluate`). The report is stored whatever happens here: an
    error is logged, and the next report or the hub's own sweep evaluates again."""
    try:
        incident_alerts.evaluate()
    except Exception:  # noqa: BLE001 - the report is kept; the next evaluation catches up
        log.exception("Evaluating incidents after a probe's report failed")
