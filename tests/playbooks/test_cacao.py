"""The CACAO 2.0 downloads (src/tldops/playbooks/cacao.py): valid against our schema of the
specification (tests/playbooks/cacao/cacao-2.0.schema.json) in every language, ids stable and
unique, a workflow that runs from start to end through every content step once, texts in the
download's language, and a zip whose bytes depend only on the content."""

from __future__ import annotations

import copy
import io
import json
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from tldops.playbooks import cacao, catalogs, content

SCHEMA = json.loads((Path(__file__).parent / "cacao" / "cacao-2.0.schema.json").read_text())
VALIDATOR = jsonschema_rs.validator_for(SCHEMA)
LANGUAGES = list(catalogs.LANGUAGES)
CASES = [(p, lang) for p in content.PLAYBOOKS for lang in LANGUAGES]
#: The script each non-Latin language is written in.
SCRIPTS = {"ar": re.compile(r"[\u0600-\u06ff]"), "zh": re.compile(r"[\u4e00-\u9fff]")}
VARIABLE_USE = re.compile(r"__([a-zA-Z][a-zA-Z0-9_-]*)__:value")


def errors(document: dict[str, Any]) -> list[str]:
    return [str(e) for e in VALIDATOR.iter_errors(document)]


def content_steps(playbook: str, book: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The content's steps in order, per CACAO playbook (one list for DDoS, one per scenario)."""
    if playbook == "ddos":
        return [[s for phase in book["phases"] for s in phase["steps"] + phase["ask"]]]
    return [[s for stage in content.STAGES for s in sc[stage]] for sc in book["scenarios"]]


def walk(document: dict[str, Any]) -> list[str]:
    """The step ids from workflow_start, following on_completion, to the step that has none."""
    flow = document["workflow"]
    order = [document["workflow_start"]]
    while "on_completion" in flow[order[-1]]:
        target = flow[order[-1]]["on_completion"]
        assert target in flow, f"on_completion to a missing step {target}"
        assert target not in order, "the workflow loops"
        order.append(target)
    return order


def uuids(node: Any) -> list[str]:
    """Every <type>--<uuid> identifier in ``node``, keys and values."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found += re.findall(r"^[a-z-]+--([0-9a-f-]{36})$", key)
            found += uuids(value)
    elif isinstance(node, list):
        for value in node:
            found += uuids(value)
    elif isinstance(node, str):
        found += re.findall(r"^[a-z-]+--([0-9a-f-]{36})$", node)
    return found


def test_the_schema_is_a_valid_2020_12_schema():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert jsonschema_rs.meta.is_valid(SCHEMA)


@pytest.mark.parametrize(("playbook", "language"), CASES)
def test_every_playbook_in_every_language_is_valid_cacao(playbook, language):
    documents = cacao.playbooks(playbook, language)
    expected = 1 if playbook == "ddos" else len(content.load(playbook)["scenarios"])
    assert len(documents) == expected
    for document in documents:
        assert errors(document) == []
        assert document["spec_version"] == "cacao-2.0"
        assert f"lang:{language}" in document["labels"]
        assert document["markings"] == [cacao.TLP_CLEAR_ID]
        assert (
            document["data_marking_definitions"][cacao.TLP_CLEAR_ID]["tlpv2_level"] == "TLP:CLEAR"
        )
        assert document["created"] <= document["modified"]


@pytest.mark.parametrize(("playbook", "language"), CASES)
def test_references_resolve_and_every_definition_is_used(playbook, language):
    for document in cacao.playbooks(playbook, language):
        flow = document["workflow"]
        agents = document["agent_definitions"]
        used_agents = {s["agent"] for s in flow.values() if s["type"] == "action"}
        assert used_agents == set(agents)
        for key, agent in agents.items():
            assert key.split("--")[0] == agent["type"] in {"individual", "group"}
            assert agent["name"] in catalogs.labels(language).values()
        for key, marking in document["data_marking_definitions"].items():
            assert marking["id"] == key
        declared = set(document.get("playbook_variables", {}))
        text = json.dumps({k: v for k, v in document.items() if k != "playbook_variables"})
        used = {f"__{name}__" for name in VARIABLE_USE.findall(text)}
        assert used == declared
        assert "{{" not in text, "a placeholder was left as it is in the content"
        activities = {c["playbook_activity"] for s in flow.values() for c in s.get("commands", [])}
        assert activities == set(document["playbook_activities"])


@pytest.mark.parametrize(("playbook", "language"), CASES)
def test_the_workflow_runs_from_start_through_every_step_to_end(playbook, language):
    for document in cacao.playbooks(playbook, language):
        flow = document["workflow"]
        order = walk(document)
        assert flow[order[0]]["type"] == "start"
        assert flow[order[-1]]["type"] == "end"
        assert sorted(order) == sorted(flow), "a step is not reachable from workflow_start"
        assert [flow[k]["type"] for k in order[1:-1]] == ["action"] * (len(order) - 2)
        for step in flow.values():
            for command in step.get("commands", []):
                assert command["type"] == "manual" and command["command"].strip()


@pytest.mark.parametrize(("playbook", "language"), CASES)
def test_every_content_step_appears_once_in_order(playbook, language):
    localized = catalogs.localize(playbook, language)
    documents = cacao.playbooks(playbook, language)
    expected = content_steps(playbook, localized.book)
    assert len(documents) == len(expected)
    for document, steps in zip(documents, expected, strict=True):
        actions = [document["workflow"][k] for k in walk(document)[1:-1]]
        assert len(actions) == len(steps)
        for action, step in zip(actions, steps, strict=True):
            assert action["name"].endswith(cacao.variables_in(step["title"]))
            command = action["commands"][0]["command"]
            assert command.startswith(cacao.variables_in(step["text"].strip()))
            for item in step.get("checklist", []):
                assert f"- {cacao.variables_in(item)}" in command
            if step.get("decision"):
                assert cacao.variables_in(step["decision"].strip()) in command
    all_ids = [s["id"] for steps in expected for s in steps]
    assert len(all_ids) == len(set(all_ids))


@pytest.mark.parametrize("language", ["ar", "zh"])
@pytest.mark.parametrize("playbook", content.PLAYBOOKS)
def test_arabic_and_chinese_downloads_are_in_their_language(playbook, language):
    script = SCRIPTS[language]
    localized = catalogs.localize(playbook, language)
    english = cacao.playbooks(playbook, "en")
    for document, steps, in_english in zip(
        cacao.playbooks(playbook, language),
        content_steps(playbook, localized.book),
        english,
        strict=True,
    ):
        assert script.search(document["name"])
        assert document["name"] != in_english["name"]
        for agent in document["agent_definitions"].values():
            assert script.search(agent["name"]), agent
        actions = [document["workflow"][k] for k in walk(document)[1:-1]]
        for action, step in zip(actions, steps, strict=True):
            if step["text"] not in localized.english:
                assert script.search(action["commands"][0]["command"]), action["name"]
        translated = [
            a for a, s in zip(actions, steps, strict=True) if s["text"] not in localized.english
        ]
        assert len(translated) >= len(actions) // 2, "most steps are translated"


def test_ids_are_deterministic_unique_and_of_the_right_uuid_versions():
    seen: set[str] = set()
    for playbook, language in CASES:
        documents = cacao.playbooks(playbook, language)
        assert documents == cacao.playbooks(playbook, language)
        for document in documents:
            pid = uuid.UUID(document["id"].removeprefix("playbook--"))
            assert pid.version == 5
            scenario = next(
                (
                    x.split(":", 2)[2]
                    for x in document["labels"]
                    if x.startswith("tldops:scenario:")
                ),
                None,
            )
            assert pid == uuid.uuid5(cacao.NAMESPACE, f"{playbook}/{scenario or ''}/{language}")
            assert document["id"] not in seen
            seen.add(document["id"])
            for key in document["workflow"]:
                assert uuid.UUID(key.split("--")[1]).version == 4
            # the UUID part is unique across all objects of the playbook, whatever their type
            inside = uuids({"w": document["workflow"], "a": document["agent_definitions"]})
            keys = set(uuids(list(document["workflow"]) + list(document["agent_definitions"])))
            assert len(keys) == len(document["workflow"]) + len(document["agent_definitions"])
            assert set(inside) == keys


def test_step_ids_do_not_depend_on_the_order_of_calls():
    """Ids come from the content, not from the order calls are made in."""
    first = cacao.playbooks("drbcp", "fr")[3]
    cacao.playbooks("ddos", "fr")
    again = cacao.playbooks("drbcp", "fr")[3]
    assert list(first["workflow"]) == list(again["workflow"])


def test_dates_come_from_the_content():
    for playbook in content.PLAYBOOKS:
        book = content.load(playbook)
        assert book["created"] <= book["modified"]
        document = cacao.playbooks(playbook, "en")[0]
        assert document["created"] == f"{book['created']}T00:00:00.000Z"
        assert document["modified"] == f"{book['modified']}T00:00:00.000Z"
    with pytest.raises(ValueError):
        cacao.timestamp("6 December 2026")


@pytest.mark.parametrize("playbook", content.PLAYBOOKS)
def test_the_zip_is_deterministic_and_holds_one_file_per_playbook(playbook):
    data = cacao.archive(playbook, "ar")
    assert data == cacao.archive(playbook, "ar")
    assert data != cacao.archive(playbook, "en")
    documents = cacao.playbooks(playbook, "ar")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        assert len(infos) == len(documents)
        modified = tuple(int(p) for p in content.load(playbook)["modified"].split("-"))
        for info, document in zip(infos, documents, strict=True):
            assert info.date_time == (*modified, 0, 0, 0)
            assert info.filename.startswith(f"tldops-{playbook}")
            assert info.filename.endswith(".ar.cacao.json")
            assert json.loads(zf.read(info).decode("utf-8")) == document
            assert zf.read(info) == cacao.dumps(document)
    if playbook == "drbcp":
        names = [i.filename for i in infos]
        scenarios = [s["id"] for s in content.load("drbcp")["scenarios"]]
        assert names == [cacao.filename("drbcp", "ar", s) for s in scenarios]


def test_unknown_playbook_or_language_is_an_error():
    with pytest.raises(KeyError):
        cacao.playbooks("phishing", "en")
    with pytest.raises(KeyError):
        cacao.playbooks("ddos", "de")


# --- the schema refuses what the specification forbids ---------------------------------------


@pytest.fixture
def good() -> dict[str, Any]:
    document = copy.deepcopy(cacao.playbooks("drbcp", "en")[0])
    assert errors(document) == []
    return document


def test_schema_rejects_a_playbook_without_spec_version(good):
    del good["spec_version"]
    assert any("spec_version" in e for e in errors(good))


@pytest.mark.parametrize(
    "bad_id",
    [
        "playbook--not-a-uuid",
        "playbook--0e911c40-c1c7-0875-8704-9d48244a01e3",  # no UUID version 0
        "playbook--0e911c40-c1c7-4875-c704-9d48244a01e3",  # not the RFC 4122 variant
        "Playbook--0e911c40-c1c7-4875-8704-9d48244a01e3",
        "identity--0e911c40-c1c7-4875-8704-9d48244a01e3",  # not a playbook's id
        "0e911c40-c1c7-4875-8704-9d48244a01e3",
    ],
)
def test_schema_rejects_a_bad_playbook_id(good, bad_id):
    good["id"] = bad_id
    assert errors(good)


def test_schema_rejects_other_breaches_of_the_specification(good):
    def broken(change) -> list[str]:
        document = copy.deepcopy(good)
        change(document)
        return errors(document)

    flow_keys = list(good["workflow"])
    end_key = next(k for k in flow_keys if k.startswith("end--"))
    action_key = next(k for k in flow_keys if k.startswith("action--"))
    # created without exactly three fractional digits
    assert broken(lambda d: d.__setitem__("created", "2026-12-06T00:00:00Z"))
    assert broken(lambda d: d.__setitem__("modified", "2026-12-06T00:00:00.000+01:00"))
    # an end step that goes on
    assert broken(lambda d: d["workflow"][end_key].__setitem__("on_completion", action_key))
    # on_completion together with on_success
    assert broken(lambda d: d["workflow"][action_key].__setitem__("on_success", end_key))
    # a step id that is not UUIDv4, or whose type part is not its type
    assert broken(
        lambda d: d["workflow"].__setitem__(
            f"action--{uuid.uuid5(cacao.NAMESPACE, 'x')}", d["workflow"].pop(action_key)
        )
    )
    assert broken(
        lambda d: d["workflow"].__setitem__(
            action_key.replace("action--", "end--"), d["workflow"].pop(action_key)
        )
    )
    # an action without an agent, a manual command without its instruction
    assert broken(lambda d: d["workflow"][action_key].pop("agent"))
    assert broken(lambda d: d["workflow"][action_key]["commands"][0].pop("command"))
    # a TLP level that does not exist, a variable name without its underscores
    assert broken(
        lambda d: d["data_marking_definitions"][cacao.TLP_CLEAR_ID].__setitem__(
            "tlpv2_level", "TLP:WHITE"
        )
    )
    assert broken(lambda d: d["playbook_variables"].__setitem__("tld", {"type": "string"}))
    # a property the specification does not define
    assert broken(lambda d: d.__setitem__("language", "en"))
