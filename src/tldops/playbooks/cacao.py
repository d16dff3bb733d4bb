"""The playbooks as OASIS CACAO Security Playbooks v2.0 JSON, in every language of the content.

Why: security teams load playbooks into their own tools (SOAR platforms, CACAO editors); CACAO
2.0 is the open format for that. The free downloads give each playbook in it, next to HTML and PDF.

The mapping (docs/playbooks.md, "CACAO 2.0 downloads"):

- DR/BCP: one CACAO playbook per scenario; DDoS: one CACAO playbook for the whole playbook.
- Every content step is one ``action`` step with one ``manual`` command (the step's text, its
  checklist and its decision point), in the content's order, chained by ``on_completion`` from
  the ``start`` step to the ``end`` step. A DDoS playbook runs through the phases in order, each
  phase's steps then its "ask" steps; a scenario through its stages (first hour, first day,
  recovery, return to normal). The phase or stage is the first part of each step's ``name``.
- A step's owner role is an ``individual`` or ``group`` agent in ``agent_definitions`` named with
  the role's label in the language; a step without an owner is the "everyone" group's.
- Placeholders (``{{ tld }}`` …) become CACAO variables (``__tld__:value``), declared in
  ``playbook_variables`` with a description, to be given by the consumer (``external``).
- Ids: the playbook's is a UUIDv5 of :data:`NAMESPACE` and ``playbook/scenario/language`` (the
  spec allows v5 for playbooks); steps and agents have UUIDv4-form ids derived from the playbook's
  id (the spec requires v4 for steps), so the same content always gives the same JSON.
- CACAO 2.0 has no language property: the language is in ``labels`` (``lang:<code>``).
- ``created``/``modified`` are the content's dates (``created``/``modified`` in the YAML).
- Marked TLP:CLEAR with the spec's standard TLP:CLEAR marking definition: the downloads are public.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
import zipfile
from typing import Any

from tldops.playbooks import catalogs, content

SPEC_VERSION = "cacao-2.0"
#: The fixed namespace of every tldops CACAO id (never change it: ids would change).
NAMESPACE = uuid.UUID("ca09bea1-75a5-480e-8a86-2dc74be6887d")
#: ``created_by``: the TLD-OPS community as a STIX identity.
CREATED_BY = f"identity--{uuid.uuid5(NAMESPACE, 'identity/tld-ops-community')}"

#: The spec's standard TLP:CLEAR marking definition (CACAO 2.0 says these ids MUST be used).
TLP_CLEAR_ID = "marking-tlp--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP_CLEAR = {
    "type": "marking-tlp",
    "id": TLP_CLEAR_ID,
    "created_by": "identity--5abe695c-7bd5-4c31-8824-2528696cdbf1",
    "created": "2022-10-01T00:00:00.000Z",
    "tlpv2_level": "TLP:CLEAR",
}

#: Role (content/schema.json) -> CACAO agent type: a role one person holds, or a group's.
AGENT_TYPES = {
    "top-management": "group",
    "incident-lead": "individual",
    "technical-lead": "individual",
    "communications": "individual",
    "legal": "individual",
    "registry-operations": "group",
    "dns-operations": "group",
    "everyone": "group",
}
#: Who acts where the content names no owner.
DEFAULT_ROLE = "everyone"

#: ``playbook_types`` (the spec's playbook-type-ov).
PLAYBOOK_TYPES = {
    "ddos": ["prevention", "detection", "mitigation", "remediation", "notification"],
    "drbcp": ["mitigation", "remediation", "notification"],
}
#: The command's ``playbook_activity`` (playbook-activity-type-ov) by phase or stage; an "ask"
#: step and a communications step deliver content (they are messages to others).
ACTIVITIES = {
    "prepare": "configure-systems",
    "detect": "analyze-collected-data",
    "respond": "restrict-access",
    "recover": "restore-capabilities",
    "learn": "analyze-collected-data",
    "first_hour": "analyze-collected-data",
    "first_day": "eliminate-risk",
    "recovery": "restore-data",
    "return_to_normal": "restore-capabilities",
}
MESSAGE_ACTIVITY = "deliver-content"

#: What each placeholder stands for (English: the labels catalog has no words for them).
VARIABLES = {
    "tld": "The ccTLD this playbook is used for, e.g. .example.",
    "registry": "The name of the registry that operates the ccTLD.",
    "incident_lead": "The person who leads the response to an incident (and their deputy).",
    "top_manager": "The member of top management who decides (and their deputy).",
    "phone_24x7": "The registry's 24/7 phone number for incidents.",
    "status_page": "The address of the registry's public status page.",
    "website": "The registry's public website.",
    "date": "The date of the event (to be filled in at the time).",
    "time": "The time of the event (to be filled in at the time).",
}


def _v4(*parts: str) -> uuid.UUID:
    """A UUID of version-4 form, derived from ``parts`` so it is the same every time (the spec
    requires UUIDv4 for steps; a hash is as unpredictable as random bits for a consumer)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


def playbook_uuid(playbook: str, scenario: str | None, language: str) -> uuid.UUID:
    """The CACAO playbook id's UUID: v5 of :data:`NAMESPACE` and playbook/scenario/language."""
    return uuid.uuid5(NAMESPACE, f"{playbook}/{scenario or ''}/{language}")


def timestamp(date: str) -> str:
    """A content date (``YYYY-MM-DD``) as a CACAO timestamp: UTC, milliseconds, ``Z``."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        raise ValueError(f"not a date: {date!r}")
    return f"{date}T00:00:00.000Z"


def variables_in(text: str) -> str:
    """``text`` with ``{{ name }}`` placeholders written as CACAO variable uses (``__name__:value``)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"__{name}__:value" if name in content.PLACEHOLDERS else match.group(0)

    return content.PLACEHOLDER_RE.sub(one, text)


def _instructions(step: dict[str, Any], labels: dict[str, str]) -> str:
    """The manual command: what to do (the step's text), the checklist and the decision point."""
    parts = [step["text"].strip()]
    if step.get("checklist"):
        items = "\n".join(f"- {item}" for item in step["checklist"])
        parts.append(f"{labels['checklist']}\n{items}")
    if step.get("decision"):
        parts.append(f"{labels['decision']}\n{step['decision'].strip()}")
    return variables_in("\n\n".join(parts))


class _Builder:
    """One CACAO playbook under construction: its steps in order and the agents they use."""

    def __init__(self, pid: uuid.UUID, labels: dict[str, str]) -> None:
        self.pid = str(pid)
        self.labels = labels
        self.actions: list[tuple[str, dict[str, Any]]] = []
        self.agents: dict[str, dict[str, Any]] = {}
        self.activities: list[str] = []

    def agent(self, role: str) -> str:
        kind = AGENT_TYPES[role]
        key = f"{kind}--{_v4(self.pid, 'agent', role)}"
        self.agents.setdefault(key, {"type": kind, "name": self.labels[role]})
        return key

    def add(self, step: dict[str, Any], where: str, activity: str, ask: bool = False) -> None:
        role = step.get("owner") or DEFAULT_ROLE
        if role == "communications":
            activity = MESSAGE_ACTIVITY
        if activity not in self.activities:
            self.activities.append(activity)
        description = variables_in(step["text"].strip())
        if ask:
            description = f"{self.labels['ask']}\n\n{description}"
        key = f"action--{_v4(self.pid, 'step', step['id'])}"
        self.actions.append(
            (
                key,
                {
                    "type": "action",
                    "name": variables_in(f"{where} — {step['title']}"),
                    "description": description,
                    "commands": [
                        {
                            "type": "manual",
                            "command": _instructions(step, self.labels),
                            "playbook_activity": activity,
                        }
                    ],
                    "agent": self.agent(role),
                },
            )
        )

    def workflow(
        self, start: dict[str, Any], end: dict[str, Any]
    ) -> tuple[str, dict[str, dict[str, Any]]]:
        start_key = f"start--{_v4(self.pid, 'start')}"
        end_key = f"end--{_v4(self.pid, 'end')}"
        keys = [start_key, *(k for k, _ in self.actions), end_key]
        steps = [{"type": "start", **start}, *(s for _, s in self.actions), {"type": "end", **end}]
        flow: dict[str, dict[str, Any]] = {}
        for n, (key, step) in enumerate(zip(keys, steps, strict=True)):
            if step["type"] != "end":
                step["on_completion"] = keys[n + 1]
            flow[key] = step
        return start_key, flow


def _variables(document: Any) -> dict[str, dict[str, Any]]:
    """The playbook variables that ``document`` (the built playbook) uses, sorted by name."""
    used = set(re.findall(r"__([a-z0-9_]+)__:value", json.dumps(document, ensure_ascii=False)))
    return {
        f"__{name}__": {
            "type": "string",
            "description": VARIABLES[name],
            "value": "",
            "external": True,
        }
        for name in sorted(used & set(VARIABLES))
    }


def _playbook(
    *,
    book: dict[str, Any],
    language: str,
    complete: bool,
    scenario: str | None,
    name: str,
    description: str,
    builder: _Builder,
    start: dict[str, Any],
    end: dict[str, Any],
) -> dict[str, Any]:
    playbook = book["kind"]
    start_key, flow = builder.workflow(start, end)
    labels = ["tldops", f"tldops:{playbook}", f"lang:{language}"]
    if scenario:
        labels.append(f"tldops:scenario:{scenario}")
    if not complete:
        labels.append("translation:partial")
    result: dict[str, Any] = {
        "type": "playbook",
        "spec_version": SPEC_VERSION,
        "id": f"playbook--{builder.pid}",
        "name": variables_in(name),
        "description": variables_in(description),
        "playbook_types": PLAYBOOK_TYPES[playbook],
        "playbook_activities": builder.activities,
        "created_by": CREATED_BY,
        "created": timestamp(book["created"]),
        "modified": timestamp(book["modified"]),
        "labels": labels,
        "markings": [TLP_CLEAR_ID],
        "workflow_start": start_key,
        "workflow": flow,
        "agent_definitions": dict(sorted(builder.agents.items(), key=lambda kv: kv[1]["name"])),
        "data_marking_definitions": {TLP_CLEAR_ID: dict(TLP_CLEAR)},
    }
    variables = _variables(result)
    if variables:
        result["playbook_variables"] = variables
    return result


def _ddos(localized: catalogs.Localized, labels: dict[str, str]) -> list[dict[str, Any]]:
    book = localized.book
    builder = _Builder(playbook_uuid("ddos", None, localized.language), labels)
    for phase in book["phases"]:
        for step in phase["steps"]:
            builder.add(step, phase["title"], ACTIVITIES[phase["id"]])
        for step in phase["ask"]:
            builder.add(step, phase["title"], MESSAGE_ACTIVITY, ask=True)
    first, last = book["phases"][0], book["phases"][-1]
    return [
        _playbook(
            book=book,
            language=localized.language,
            complete=localized.complete,
            scenario=None,
            name=book["title"],
            description=f"{book['summary']}\n\n{labels['audience']}\n{book['audience']}",
            builder=builder,
            start={"name": first["title"], "description": variables_in(first["intro"])},
            end={"name": last["title"]},
        )
    ]


def _scenario(
    localized: catalogs.Localized, labels: dict[str, str], scenario: dict[str, Any]
) -> dict[str, Any]:
    book = localized.book
    builder = _Builder(playbook_uuid("drbcp", scenario["id"], localized.language), labels)
    for stage in content.STAGES:
        for step in scenario[stage]:
            builder.add(step, labels[stage], ACTIVITIES[stage])
    parts = [
        f"{labels['trigger']}\n{scenario['trigger']}",
        f"{labels['who_decides']}\n{scenario['who_decides']}",
        labels["communication"],
    ]
    for template in scenario["communication"]:
        parts.append(
            f"{labels[template['audience']]} — {labels['subject']}: {template['subject']}\n\n"
            f"{template['body']}"
        )
    return _playbook(
        book=book,
        language=localized.language,
        complete=localized.complete,
        scenario=scenario["id"],
        name=f"{book['title']} — {scenario['title']}",
        description="\n\n".join(parts),
        builder=builder,
        start={"name": labels["trigger"], "description": variables_in(scenario["trigger"])},
        end={"name": labels["return_to_normal"]},
    )


def playbooks(playbook_id: str, language: str) -> list[dict[str, Any]]:
    """The CACAO 2.0 playbooks of ``playbook_id`` (one of ``content.PLAYBOOKS``) in ``language``
    (one of ``catalogs.LANGUAGES``), in the content's order: one for DDoS, one per DR/BCP
    scenario. Untranslated units are in English, as on the pages. KeyError for an unknown one."""
    localized = catalogs.localize(playbook_id, language)
    labels = catalogs.labels(language)
    if playbook_id == "ddos":
        return _ddos(localized, labels)
    return [_scenario(localized, labels, s) for s in localized.book["scenarios"]]


def dumps(document: dict[str, Any]) -> bytes:
    """One CACAO playbook as the bytes of its JSON file (UTF-8, readable, stable)."""
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def filename(playbook_id: str, language: str, scenario: str | None = None) -> str:
    """The file name of one CACAO playbook, e.g. ``tldops-drbcp-site-loss.ar.cacao.json``."""
    stem = f"tldops-{playbook_id}" + (f"-{scenario}" if scenario else "")
    return f"{stem}.{language}.cacao.json"


def archive_name(playbook_id: str, language: str) -> str:
    """The name of the zip :func:`archive` gives, e.g. ``tldops-ddos.fr.cacao.zip``."""
    return f"tldops-{playbook_id}.{language}.cacao.zip"


def archive(playbook_id: str, language: str) -> bytes:
    """A zip of :func:`playbooks` (one JSON file each, in order), the same bytes for the same
    content: every entry dated with the playbook's ``modified`` date, fixed permissions."""
    documents = playbooks(playbook_id, language)
    book = content.load(playbook_id)
    scenarios = [s["id"] for s in book.get("scenarios", [])] or [None]
    year, month, day = (int(p) for p in book["modified"].split("-"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for scenario, document in zip(scenarios, documents, strict=True):
            info = zipfile.ZipInfo(
                filename(playbook_id, language, scenario), date_time=(year, month, day, 0, 0, 0)
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, dumps(document))
    return buffer.getvalue()
