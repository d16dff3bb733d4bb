"""The playbooks' content: one YAML file per playbook in ``content/``, in English.

Every paragraph has a stable id (a section, a phase, a step, a scenario, a template, a table), so
that translations can follow it and a change of the English text can be found. The shape is
``content/schema.json`` (JSON Schema 2020-12), which ``tests/playbooks/test_content.py`` checks
every file against, with the rules a schema cannot say (ids unique, every DDoS phase seen from
every perspective, every DR/BCP scenario of the issue present with top management's part in it,
only the known placeholders in the templates).

Placeholders in text are ``{{ name }}``, one of :data:`PLACEHOLDERS`: a ccTLD's own plan fills
them with its values.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml

CONTENT = Path(__file__).resolve().parent / "content"
PLAYBOOKS = ("ddos", "drbcp")
#: The stages of a DR/BCP scenario, in order, after its trigger.
STAGES = ("first_hour", "first_day", "recovery", "return_to_normal")
#: What a ccTLD's own plan fills in (docs/playbooks.md).
PLACEHOLDERS = frozenset(
    {
        "tld",
        "registry",
        "incident_lead",
        "top_manager",
        "phone_24x7",
        "status_page",
        "website",
        "date",
        "time",
    }
)
PLACEHOLDER_RE = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")


@functools.cache
def load(playbook: str) -> dict[str, Any]:
    """The playbook ``playbook`` (one of :data:`PLAYBOOKS`) as a dict, read once."""
    if playbook not in PLAYBOOKS:
        raise KeyError(playbook)
    with open(CONTENT / f"{playbook}.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@functools.cache
def injects() -> dict[str, Any]:
    """The injects for table-top exercises (``content/injects.yaml``, shape
    ``content/injects.schema.json``), read once: timed surprises per DR/BCP scenario and for the
    DDoS playbook."""
    with open(CONTENT / "injects.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def deck(playbook: str, scenario: str = "", source: dict[str, Any] | None = None) -> list[dict]:
    """The injects of ``playbook`` (and of its DR/BCP ``scenario``) in the order of their time,
    from ``source`` (a localized copy of :func:`injects`) or the English."""
    for entry in (source or injects())["decks"]:
        if entry["playbook"] == playbook and entry.get("scenario", "") == (scenario or ""):
            return sorted(entry["injects"], key=lambda i: i["at"])
    return []


def placeholders(text: str) -> set[str]:
    """The placeholder names used in ``text``."""
    return set(PLACEHOLDER_RE.findall(text))
