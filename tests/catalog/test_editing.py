"""Setting ccTLD contacts by hand and from CSV (tldops.catalog.editing), and what a sync does with
them afterwards (against the local IANA server of tests/catalog/conftest.py)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tldops.catalog import editing, sync
from tldops.catalog.models import Tld
from tldops.directory.audit import Actor
from tldops.directory.models import AuditEntry
from tldops.kernel.errors import InvalidInput, NotAuthorised

pytestmark = pytest.mark.django_db

CLI = Actor(label="cli:tester", door="cli")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("catalog", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# --- One ccTLD ------------------------------------------------------------------------------------


def test_set_writes_marks_and_audits(catalog, staff):
    sec = staff("secretariat", "sec@tldops.example")
    changes = editing.set_contacts(
        "fr",
        {"admin_email": " Admin@NIC.FR ", "admin_org": "Afnic  admin", "tech_email": None},
        actor=Actor.of(sec, "web"),
    )
    assert [(c.field, c.before, c.after) for c in changes] == [
        ("admin_email", "admin@nic.fr", "Admin@nic.fr"),
        ("admin_org", "", "Afnic admin"),
    ]
    fr = Tld.objects.get(alabel="fr")
    assert (fr.admin_email, fr.admin_org) == ("Admin@nic.fr", "Afnic admin")
    mark = fr.hand_set["admin_email"]
    assert (mark["source"], mark["by"]) == ("hand", "secretariat:sec@tldops.example")
    assert mark["iana"] is None  # never synced: no IANA value known
    assert set(fr.hand_set) == {"admin_email", "admin_org"}
    entry = AuditEntry.objects.get(action="catalog.set")
    assert (entry.tld, entry.door, entry.actor_person) == (fr, "web", sec)
    assert entry.before == {"admin_email": "admin@nic.fr", "admin_org": ""}
    assert entry.after["source"] == "hand"
    # the same values again: nothing changes, nothing is audited
    assert editing.set_contacts("fr", {"admin_email": "Admin@nic.fr"}, actor=CLI) == []
    assert AuditEntry.objects.filter(action="catalog.set").count() == 1


@pytest.mark.parametrize(
    "values, field",
    [
        ({"admin_email": "not an address"}, "admin_email"),
        ({"admin_email": "x@" + "a" * 260}, "admin_email"),
        ({"tech_email": "a@b"}, "tech_email"),
        ({"admin_org": "x" * 301}, "admin_org"),
        ({"manager": "Evil\u202eCorp"}, "manager"),
        ({"manager": "two\nlines\x00"}, "manager"),
        ({"iso_code": "ZZ"}, "iso_code"),
        ({}, None),
    ],
)
def test_bad_values_are_refused_and_nothing_changes(catalog, values, field):
    before = Tld.objects.get(alabel="fr").__dict__.copy()
    with pytest.raises(InvalidInput) as exc:
        editing.set_contacts("fr", values, actor=CLI)
    assert exc.value.field == field
    after = Tld.objects.get(alabel="fr").__dict__
    assert {k: after[k] for k in ("admin_email", "admin_org", "manager", "hand_set")} == {
        k: before[k] for k in ("admin_email", "admin_org", "manager", "hand_set")
    }
    assert not AuditEntry.objects.filter(action="catalog.set").exists()


@pytest.mark.parametrize("role", ["member", None])
def test_only_staff_may_edit_through_web_or_api(catalog, staff, make_member, role):
    if role == "member":
        person = make_member(catalog["nl"], email="m@nl.example")
        actor = Actor.of(person, "api")
    else:
        actor = Actor(label="anonymous", door="web")
    assert editing.may_edit(actor) is False
    with pytest.raises(NotAuthorised):
        editing.set_contacts("fr", {"admin_email": "a@nic.fr"}, actor=actor)
    committee = staff("committee", "chair@tldops.example")
    assert editing.may_edit(Actor.of(committee, "api")) is True
    assert editing.may_edit(CLI) is True


def test_a_cleared_field_is_empty_and_marked(catalog):
    editing.set_contacts("fr", {"manager": ""}, actor=CLI)
    fr = Tld.objects.get(alabel="fr")
    assert fr.manager == "" and fr.hand_set["manager"]["source"] == "hand"


# --- CSV ------------------------------------------------------------------------------------------


GOOD_CSV = (
    "tld,admin_email,admin_name\nfr,new@nic.fr,Afnic\n.UA,admin@nic.ua,\nрф,admin@nic.ru,RIPN\n"
)


def test_csv_dry_run_shows_the_diff_and_writes_nothing(catalog):
    plan = editing.plan_import(GOOD_CSV.encode(), actor=CLI)
    assert plan.rows == 3
    assert [c.alabel for c in plan.changed] == ["fr", "xn--p1ai"]
    assert plan.unchanged == ["ua"]  # same address, empty name cell: left as it is
    lines = plan.summary_lines()
    assert lines[0] == "Rows read: 3. ccTLDs to change: 2; unchanged: 1."
    assert "~ .fr admin_email: admin@nic.fr → new@nic.fr" in lines
    assert "~ .рф (xn--p1ai) admin_org: — → RIPN" in lines
    assert Tld.objects.get(alabel="fr").admin_email == "admin@nic.fr"
    assert not AuditEntry.objects.exists()


def test_csv_apply_writes_everything_marked_csv(catalog):
    plan = editing.apply_import(GOOD_CSV, actor=CLI)
    assert len(plan.changed) == 2
    fr = Tld.objects.get(alabel="fr")
    assert (fr.admin_email, fr.admin_org) == ("new@nic.fr", "Afnic")
    assert fr.hand_set["admin_email"]["source"] == "csv"
    assert not Tld.objects.get(alabel="ua").hand_set
    assert AuditEntry.objects.filter(action="catalog.import_admins").count() == 3  # 2 + summary


def test_csv_errors_are_all_reported_with_lines_and_nothing_is_written(catalog):
    text = (
        "tld;admin_email;tech_email\n"  # semicolons, as a French spreadsheet saves
        "fr;new@nic.fr;\n"
        "zz;a@b.example;\n"
        "nl;not-an-address;\n"
        "fr;other@nic.fr;\n"
        "ca;ok@cira.ca;bad address\n"
        "br;only two\n"
    )
    with pytest.raises(editing.ImportRefused) as exc:
        editing.apply_import(text, actor=CLI)
    got = [(e.line, e.column) for e in exc.value.row_errors]
    assert got == [(3, "tld"), (4, "admin_email"), (5, "tld"), (6, "tech_email"), (7, "")]
    assert "line 5 (tld): .fr is already on line 2." in exc.value.message
    assert Tld.objects.get(alabel="fr").admin_email == "admin@nic.fr"
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    "data, needle",
    [
        (b"tld,admin_email\n" + b"fr,a@nic.fr\n" * 100_000, "larger than"),
        ("tld,admin_email\n" + "fr,a@nic.fr\n" * (editing.CSV_MAX_ROWS + 1), "more than 1000"),
        (b"tld,admin_email\nfr,\xff@nic.fr\n", "line 2: The file is not UTF-8"),
        ("tld,phone\nfr,+33\n", "unknown column"),
        ("admin_email\na@nic.fr\n", "needs a “tld” column"),
        ("", "the file is empty"),
        ('tld,admin_email\nfr,"unclosed\n', "not valid CSV"),
    ],
)
def test_csv_bounds_and_format_errors(catalog, data, needle):
    with pytest.raises(editing.ImportRefused) as exc:
        editing.plan_import(data, actor=CLI)
    assert needle in exc.value.message


def test_csv_cells_written_by_tldops_are_read_back(catalog):
    # tldops' own CSV puts a quote before a cell a spreadsheet would run as a formula
    editing.apply_import("tld,manager\nfr,'=Registry\n", actor=CLI)
    assert Tld.objects.get(alabel="fr").manager == "=Registry"


def test_apply_refuses_when_the_catalog_changed_since_the_preview(catalog):
    preview = editing.plan_import(GOOD_CSV, actor=CLI)
    editing.set_contacts("fr", {"admin_email": "meanwhile@nic.fr"}, actor=CLI)
    with pytest.raises(InvalidInput) as exc:
        editing.apply_import(GOOD_CSV, actor=CLI, expected=preview.digest)
    assert exc.value.field == "digest"
    assert Tld.objects.get(alabel="fr").admin_email == "meanwhile@nic.fr"


# --- Sync keeps hand-set values -------------------------------------------------------------------


def _plan(accept: tuple[str, ...] = ()) -> sync.Plan:
    return sync.compute_plan(sync.fetch_snapshot(), accept_iana=accept)


def test_sync_keeps_hand_set_values_and_reports_the_difference(iana_server, make_tld):
    make_tld("fr", admin_email="")
    editing.set_contacts("fr", {"admin_email": "hand@nic.fr.example"}, actor=CLI)
    plan = _plan()
    fr_changes = {fc.field for c in plan.changed if c.alabel == "fr" for fc in c.changes}
    assert "admin_email" not in fr_changes and "manager" in fr_changes
    assert [(c.alabel, fc.field, fc.before, fc.after) for c in plan.kept for fc in c.changes] == [
        ("fr", "admin_email", "hand@nic.fr.example", "tld-admin@nic.fr.example")
    ]
    text = "\n".join(plan.summary_lines())
    assert (
        "= .fr admin_email: kept hand@nic.fr.example, set by hand (IANA says "
        "tld-admin@nic.fr.example; to take it: tldops catalog set fr --from-iana)"
    ) in text
    kept = plan.as_dict()["kept"]
    assert kept == [
        {
            "tld": "fr",
            "field": "admin_email",
            "catalog": "hand@nic.fr.example",
            "iana": "tld-admin@nic.fr.example",
            "source": "hand",
            "set_by": "cli:tester",
            "set_at": kept[0]["set_at"],
        }
    ]
    sync.apply_plan(plan)
    fr = Tld.objects.get(alabel="fr")
    assert fr.admin_email == "hand@nic.fr.example"  # kept
    assert fr.manager.startswith("Association Fictive")  # the rest followed IANA
    assert fr.hand_set["admin_email"]["iana"] == "tld-admin@nic.fr.example"
    # offline, later: give the field back to IANA with the value the sync saw
    released, changes = editing.accept_iana("fr", actor=CLI)
    assert released == ["admin_email"]
    assert [(c.before, c.after) for c in changes] == [
        ("hand@nic.fr.example", "tld-admin@nic.fr.example")
    ]
    fr.refresh_from_db()
    assert fr.admin_email == "tld-admin@nic.fr.example" and fr.hand_set == {}
    assert AuditEntry.objects.filter(action="catalog.accept_iana", tld=fr).count() == 1
    assert _plan().kept == []


def test_sync_accept_iana_takes_iana_values_and_drops_the_marks(iana_server, make_tld):
    make_tld("fr", admin_email="")
    editing.set_contacts("fr", {"admin_email": "hand@nic.fr.example"}, actor=CLI)
    plan = _plan(accept=("fr",))
    assert plan.kept == []
    sync.apply_plan(plan)
    fr = Tld.objects.get(alabel="fr")
    assert fr.admin_email == "tld-admin@nic.fr.example" and fr.hand_set == {}


def test_a_restored_cctld_keeps_its_hand_set_values(iana_server, make_tld):
    make_tld("nl", delegated=False)
    editing.set_contacts("nl", {"admin_email": "hand@sidn.nl.example"}, actor=CLI)
    sync.apply_plan(_plan())
    nl = Tld.objects.get(alabel="nl")
    assert nl.delegated and nl.admin_email == "hand@sidn.nl.example"


# --- The CLI door ---------------------------------------------------------------------------------


def test_cli_set_show_and_from_iana(catalog):
    text = run("set", "fr", "--admin-email", "new@nic.fr", "--admin-org", "Afnic")
    assert "~ .fr admin_email: admin@nic.fr → new@nic.fr" in text
    assert "keeps these values" in text
    shown = json.loads(run("show", "fr", "--format", "json"))
    assert shown["admin_email"] == "new@nic.fr"
    assert shown["hand_set"][0].startswith("admin_org (hand, cli:")
    assert AuditEntry.objects.get(action="catalog.set").door == "cli"
    assert "follow IANA again" in run("set", "fr", "--from-iana")
    assert Tld.objects.get(alabel="fr").hand_set == {}
    assert "No field of .fr was set by hand." in run("set", "fr", "--from-iana")


@pytest.mark.parametrize(
    "args, needle",
    [
        (("set", "fr"), "Give a value to set"),
        (("set", "fr", "--admin-email", "nope"), "is not an email address"),
        (("set", "fr", "--admin-email", "a@nic.fr", "--from-iana"), "not both"),
    ],
)
def test_cli_set_errors(catalog, args, needle):
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert needle in str(exc.value)


def test_cli_import_dry_run_then_apply(catalog, tmp_path):
    path = tmp_path / "admins.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    text = run("import-admins", str(path))
    assert "~ .fr admin_email: admin@nic.fr → new@nic.fr" in text and "Dry run" in text
    assert Tld.objects.get(alabel="fr").admin_email == "admin@nic.fr"
    data = json.loads(run("import-admins", str(path), "--apply", "--format", "json"))
    assert data["applied"] is True and [c["tld"] for c in data["changed"]] == ["fr", "xn--p1ai"]
    assert Tld.objects.get(alabel="fr").admin_email == "new@nic.fr"


def test_cli_import_errors_list_every_line(catalog, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("tld,admin_email\nzz,a@b.example\nfr,nope\n", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        run("import-admins", str(path), "--apply")
    message = str(exc.value)
    assert "2 error(s); nothing was changed" in message
    assert "line 2 (tld)" in message and "line 3 (admin_email)" in message
    with pytest.raises(CommandError) as exc:
        run("import-admins", str(tmp_path / "missing.csv"))
    assert "Cannot read" in str(exc.value)


def test_cli_sync_accept_iana(iana_server, make_tld):
    make_tld("fr", admin_email="")
    editing.set_contacts("fr", {"admin_email": "hand@nic.fr.example"}, actor=CLI)
    data = json.loads(run("sync", "--dry-run", "--format", "json"))
    assert [k["field"] for k in data["kept"]] == ["admin_email"]
    run("sync", "--yes", "--accept-iana", ".FR")
    assert Tld.objects.get(alabel="fr").admin_email == "tld-admin@nic.fr.example"


def test_invite_points_to_catalog_set_then_works_once_set(make_tld, outbox):
    from tldops.directory import actions

    fr = make_tld("fr", admin_email="")
    with pytest.raises(InvalidInput) as exc:
        actions.invite_cctld(fr, actor=CLI)
    assert "tldops catalog set fr --admin-email ADDRESS" in exc.value.message
    run("set", "fr", "--admin-email", "admin@nic.fr.example")
    fr.refresh_from_db()
    actions.invite_cctld(fr, actor=CLI)
    assert [m["To"] for _path, m in outbox()] == ["admin@nic.fr.example"]
