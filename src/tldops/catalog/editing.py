"""Setting a ccTLD's IANA contacts by hand, one ccTLD at a time or from a CSV file.

A secretariat without the Internet (or with a ccTLD whose IANA page is out of date) still has to
invite the ccTLD's administrative contact. Every door — ``tldops catalog set`` and
``import-admins``, ``PATCH /api/v1/catalog/tlds/{tld}`` and the CSV endpoint, the portal's forms —
calls the functions here, so the rules are written once:

- who may: :func:`may_edit` (the secretariat and the standing committee, and whoever runs the CLI
  on the machine);
- what is accepted: :func:`clean_value` (bounded lengths, one line, a valid address);
- what is kept: every value set here is marked in ``Tld.hand_set`` with who set it, when, and how
  (``hand`` or ``csv``). :mod:`tldops.catalog.sync` keeps a marked value when IANA's differs and
  reports the difference; :func:`accept_iana` (``tldops catalog set TLD --from-iana``) drops the
  mark and takes IANA's value back.

Each change is written in one transaction with an audit entry per ccTLD. A CSV import is all or
nothing: :func:`plan_import` reads and checks the whole file (every error at once, with its line),
:func:`apply_import` writes it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import idna
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tldops import csvcells
from tldops.catalog.lookup import resolve_tld
from tldops.catalog.models import Tld
from tldops.catalog.sync import CONTACT_FIELDS, FieldChange, TldChange, change_lines
from tldops.kernel.audit import Actor, record
from tldops.kernel.errors import InvalidInput, NotAuthorised, shown

#: The fields a person may set: the ccTLD manager and IANA's administrative and technical contacts,
#: exactly the ones a sync reads from IANA's pages.
EDITABLE: tuple[str, ...] = CONTACT_FIELDS
EMAIL_FIELDS = frozenset({"admin_email", "tech_email"})
#: Longest organisation or manager name (the column's size); longest address (RFC 5321 path).
TEXT_MAX_LENGTH = 300
EMAIL_MAX_LENGTH = 254

#: Where a hand-set value came from (``Tld.hand_set[field]["source"]``).
SOURCE_HAND = "hand"
SOURCE_CSV = "csv"

#: The roles that may edit the catalog through the portal and the API.
EDITOR_ROLES = frozenset({"secretariat", "committee"})

#: CSV import bounds: a file for all 309 ccTLDs with every column full is about 300 KB.
CSV_MAX_BYTES = 1024 * 1024
CSV_MAX_ROWS = 1000
#: How many errors one refusal lists in its message (the API returns them all).
ERRORS_SHOWN = 50
#: Other names people give the columns, as in ``tld,admin_email,admin_name``.
CSV_ALIASES = {"admin_name": "admin_org", "tech_name": "tech_org", "cctld": "tld"}

_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# --- Who may ------------------------------------------------------------------------------------


def may_edit(actor: Actor) -> bool:
    """Whether ``actor`` may set ccTLD contacts: secretariat or committee, or the CLI (run by whoever
    operates the machine). Every door asks this one function, before showing a form or acting."""
    return actor.door == "cli" or actor.role in EDITOR_ROLES


def require_editor(actor: Actor) -> None:
    """:class:`NotAuthorised` unless :func:`may_edit`: what a door calls before reading input."""
    if not may_edit(actor):
        raise NotAuthorised(
            _("Only the secretariat and the standing committee may edit the ccTLD catalog.")
        )


# --- What is accepted ---------------------------------------------------------------------------


def field_label(name: str) -> str:
    """The field as people read it (``admin_email`` → "administrative contact email")."""
    labels = {
        "manager": _("manager"),
        "admin_org": _("administrative contact organisation"),
        "admin_email": _("administrative contact email"),
        "tech_org": _("technical contact organisation"),
        "tech_email": _("technical contact email"),
    }
    return labels.get(name, name)


def clean_value(name: str, raw: str | None) -> str:
    """The clean value of field ``name``: one line, bounded; an address for the email fields,
    its domain lower-cased and IDNA-encoded. ``""`` (clearing the field) is accepted."""
    if name not in EDITABLE:
        raise InvalidInput(
            _("“%(f)s” cannot be set; use one of: %(known)s.")
            % {"f": shown(name), "known": ", ".join(EDITABLE)},
            field=name,
        )
    limit = EMAIL_MAX_LENGTH if name in EMAIL_FIELDS else TEXT_MAX_LENGTH
    if raw is not None and len(raw) > 4 * limit:  # refuse before splitting a megabyte
        raise _too_long(name, limit)
    value = " ".join((raw or "").split())
    if len(value) > limit:
        raise _too_long(name, limit)
    if _FORBIDDEN.search(value):
        raise InvalidInput(
            _("The %(f)s may not contain control or text-direction characters.")
            % {"f": field_label(name)},
            field=name,
        )
    if value and name in EMAIL_FIELDS:
        value = _clean_email(name, value)
    return value


def _too_long(name: str, limit: int) -> InvalidInput:
    return InvalidInput(
        _("The %(f)s may be at most %(n)d characters; shorten it.")
        % {"f": field_label(name), "n": limit},
        field=name,
    )


def _clean_email(name: str, value: str) -> str:
    local, sep, domain = value.rpartition("@")
    bad = InvalidInput(
        _("“%(v)s” is not an email address (%(f)s).") % {"v": shown(value), "f": field_label(name)},
        field=name,
    )
    if not sep or not local or not domain or " " in value:
        raise bad
    try:
        domain = idna.encode(domain.rstrip(".").lower(), uts46=True).decode("ascii")
    except idna.IDNAError:
        raise bad from None
    address = f"{local}@{domain}"
    try:
        validate_email(address)
    except ValidationError:
        raise bad from None
    return address


def clean_values(values: Mapping[str, str | None]) -> dict[str, str]:
    """Every given field cleaned (``None`` means "leave as it is" and is dropped); the first bad
    value raises :class:`InvalidInput` naming its field."""
    out = {}
    for name, raw in values.items():
        if raw is not None:
            out[name] = clean_value(name, raw)
    if not out:
        raise InvalidInput(
            _("Give at least one value to set: %(known)s.") % {"known": ", ".join(EDITABLE)}
        )
    return out


# --- Provenance ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provenance:
    """Where one field's value comes from: IANA (a sync or the packaged data) or a person."""

    field: str
    source: str  # "iana", "hand" or "csv"
    by: str = ""
    at: str = ""
    iana: str | None = None  # IANA's value when a sync last saw it differ (hand-set fields only)


def provenance(tld: Tld) -> list[Provenance]:
    """Each editable field's provenance, in :data:`EDITABLE` order."""
    out = []
    for name in EDITABLE:
        mark = (tld.hand_set or {}).get(name)
        if isinstance(mark, dict):
            out.append(
                Provenance(
                    name,
                    str(mark.get("source") or SOURCE_HAND),
                    str(mark.get("by") or ""),
                    str(mark.get("at") or ""),
                    mark.get("iana"),
                )
            )
        else:
            out.append(Provenance(name, "iana"))
    return out


# --- Setting one ccTLD --------------------------------------------------------------------------


def _diff(tld: Tld, values: Mapping[str, str]) -> list[FieldChange]:
    return [
        FieldChange(name, getattr(tld, name), value)
        for name, value in values.items()
        if getattr(tld, name) != value
    ]


def _write(tld: Tld, changes: list[FieldChange], *, actor: Actor, source: str, action: str) -> None:
    """Write ``changes`` on ``tld`` (locked by the caller), mark them hand-set, audit them."""
    marks = dict(tld.hand_set or {})
    at = timezone.now().isoformat(timespec="seconds")
    for fc in changes:
        setattr(tld, fc.field, fc.after)
        old = marks.get(fc.field)
        # IANA's value is what the field held before a person first set it, if a sync gave it.
        iana = old.get("iana") if isinstance(old, dict) else (fc.before if tld.synced_at else None)
        marks[fc.field] = {"by": actor.label[:300], "at": at, "source": source, "iana": iana}
    tld.hand_set = marks
    tld.save(update_fields=[*(fc.field for fc in changes), "hand_set", "updated_at"])
    record(
        actor,
        action,
        f"Set by hand ({source}) on {tld.display}: " + ", ".join(fc.field for fc in changes),
        tld=tld,
        before={fc.field: fc.before for fc in changes},
        after={**{fc.field: fc.after for fc in changes}, "source": source},
    )


def set_contacts(
    tld: Tld | str, values: Mapping[str, str | None], *, actor: Actor
) -> list[FieldChange]:
    """Set some of a ccTLD's manager and contact fields by hand; returns what changed (empty when
    every value was already the catalog's). The changed fields are marked hand-set, so a later
    ``catalog sync`` keeps them and reports where IANA differs."""
    require_editor(actor)
    cleaned = clean_values(values)
    alabel = tld.alabel if isinstance(tld, Tld) else resolve_tld(tld, delegated_only=False).alabel
    with transaction.atomic():
        target = Tld.objects.select_for_update().get(alabel=alabel)
        changes = _diff(target, cleaned)
        if changes:
            _write(target, changes, actor=actor, source=SOURCE_HAND, action="catalog.set")
    if isinstance(tld, Tld):
        tld.refresh_from_db()
    return changes


def accept_iana(
    tld: Tld | str, fields: Iterable[str] | None = None, *, actor: Actor
) -> tuple[list[str], list[FieldChange]]:
    """Give hand-set fields back to IANA (all of them, or ``fields``): the mark is dropped and, where
    a sync has already seen IANA's value, that value is written now; otherwise the next sync
    writes it. Returns the fields released and the values changed."""
    require_editor(actor)
    wanted = list(fields or EDITABLE)
    for name in wanted:
        if name not in EDITABLE:
            clean_value(name, "")  # raises the "cannot be set" error
    alabel = tld.alabel if isinstance(tld, Tld) else resolve_tld(tld, delegated_only=False).alabel
    with transaction.atomic():
        target = Tld.objects.select_for_update().get(alabel=alabel)
        marks = dict(target.hand_set or {})
        released = [name for name in wanted if name in marks]
        if not released:
            return [], []
        changes = []
        for name in released:
            iana = marks.pop(name).get("iana")
            if iana is not None and iana != getattr(target, name):
                changes.append(FieldChange(name, getattr(target, name), iana))
                setattr(target, name, iana)
        target.hand_set = marks
        target.save(update_fields=[*(fc.field for fc in changes), "hand_set", "updated_at"])
        record(
            actor,
            "catalog.accept_iana",
            f"IANA's values accepted again on {target.display}: " + ", ".join(released),
            tld=target,
            before={"hand_set": released, **{fc.field: fc.before for fc in changes}},
            after={fc.field: fc.after for fc in changes},
        )
    if isinstance(tld, Tld):
        tld.refresh_from_db()
    return released, changes


# --- CSV import ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem of a CSV file: its line (1 is the header), the column, what is wrong."""

    line: int
    message: str
    column: str = ""

    def __str__(self) -> str:
        where = _("line %(n)d") % {"n": self.line}
        if self.column:
            where += f" ({self.column})"
        return f"{where}: {self.message}"


class ImportRefused(InvalidInput):
    """The CSV file has errors; nothing was changed. ``row_errors`` lists every one of them."""

    def __init__(self, errors: list[RowError]) -> None:
        lines = [str(e) for e in errors[:ERRORS_SHOWN]]
        if len(errors) > ERRORS_SHOWN:
            lines.append(_("… and %(n)d more.") % {"n": len(errors) - ERRORS_SHOWN})
        message = _("The CSV file has %(n)d error(s); nothing was changed.") % {"n": len(errors)}
        super().__init__("\n".join([message, *lines]), field="csv")
        self.row_errors = errors


@dataclass
class ImportPlan:
    """What an import would change; :attr:`digest` identifies it, so that the change applied is the
    one that was previewed."""

    rows: int = 0
    changed: list[TldChange] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changed

    @property
    def digest(self) -> str:
        data = [[c.alabel, [[f.field, f.before, f.after] for f in c.changes]] for c in self.changed]
        return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()[:32]

    def summary_lines(self) -> list[str]:
        """The plan as people read it: a count, then the same ``~ .fr field: old → new`` lines as
        ``catalog sync`` shows."""
        head = _("Rows read: %(rows)d. ccTLDs to change: %(changed)d; unchanged: %(same)d.") % {
            "rows": self.rows,
            "changed": len(self.changed),
            "same": len(self.unchanged),
        }
        return [head, *change_lines(self.changed)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "changed": [
                {
                    "tld": c.alabel,
                    "display": c.display,
                    "changes": [
                        {"field": f.field, "before": f.before, "after": f.after} for f in c.changes
                    ],
                }
                for c in self.changed
            ],
            "unchanged": len(self.unchanged),
            "digest": self.digest,
        }


def decode_csv(data: bytes | str) -> str:
    """The file's text: at most :data:`CSV_MAX_BYTES`, UTF-8 (a byte-order mark is dropped)."""
    if isinstance(data, str):
        if len(data) > CSV_MAX_BYTES:
            raise ImportRefused([RowError(0, _too_big())])
        return data.removeprefix("\ufeff")
    if len(data) > CSV_MAX_BYTES:
        raise ImportRefused([RowError(0, _too_big())])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRefused(
            [RowError(line, _("The file is not UTF-8 text; save it as CSV UTF-8."))]
        ) from None


def _too_big() -> str:
    return _("The file is larger than %(n)d KB; split it.") % {"n": CSV_MAX_BYTES // 1024}


def _delimiter(text: str) -> str:
    """``,`` unless the header uses ``;`` or tabs instead (as spreadsheets in many languages do)."""
    header = text.split("\n", 1)[0]
    for sep in (",", ";", "\t"):
        if sep in header:
            return sep
    return ","


def _columns(header: list[str]) -> tuple[list[str], list[RowError]]:
    names, errors = [], []
    for raw in header:
        name = raw.strip().lower().replace(" ", "_").replace("-", "_")
        name = CSV_ALIASES.get(name, name)
        if name != "tld" and name not in EDITABLE:
            errors.append(
                RowError(
                    1,
                    _("unknown column “%(c)s”; the columns are tld and any of: %(known)s.")
                    % {"c": shown(raw), "known": ", ".join(EDITABLE)},
                )
            )
        elif name in names:
            errors.append(RowError(1, _("the column “%(c)s” is given twice.") % {"c": name}))
        names.append(name)
    if "tld" not in names:
        errors.append(RowError(1, _("the header needs a “tld” column.")))
    if not any(n in EDITABLE for n in names):
        errors.append(RowError(1, _("the header names no column to set (e.g. admin_email).")))
    return names, errors


def parse_csv(data: bytes | str) -> list[tuple[int, Tld, dict[str, str]]]:
    """Every row of an admin-contact CSV as ``(line, ccTLD, {field: clean value})``; an empty cell
    leaves its field as it is. Raises :class:`ImportRefused` with every error found."""
    text = decode_csv(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    errors: list[RowError] = []
    rows: list[tuple[int, Tld, dict[str, str]]] = []
    seen: dict[str, int] = {}
    names: list[str] = []
    count = 0
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if not names:
                names, header_errors = _columns(cells)
                if header_errors:
                    raise ImportRefused(header_errors)
                continue
            count += 1
            if count > CSV_MAX_ROWS:  # the whole file is refused, whatever else is wrong
                raise ImportRefused(
                    [
                        RowError(
                            line, _("more than %(n)d rows; split the file.") % {"n": CSV_MAX_ROWS}
                        )
                    ]
                )
            if len(cells) != len(names):
                errors.append(
                    RowError(
                        line,
                        _("%(got)d cells where the header has %(want)d columns.")
                        % {"got": len(cells), "want": len(names)},
                    )
                )
                continue
            row = dict(zip(names, (csvcells.restore(c) for c in cells), strict=True))
            try:
                tld = resolve_tld(row.pop("tld"), delegated_only=False)
            except InvalidInput as exc:
                errors.append(RowError(line, exc.message, "tld"))
                continue
            if tld.alabel in seen:
                errors.append(
                    RowError(
                        line,
                        _("%(t)s is already on line %(n)d.")
                        % {"t": tld.display, "n": seen[tld.alabel]},
                        "tld",
                    )
                )
                continue
            seen[tld.alabel] = line
            values: dict[str, str] = {}
            for name, raw in row.items():
                if not raw.strip():
                    continue
                try:
                    values[name] = clean_value(name, raw)
                except InvalidInput as exc:
                    errors.append(RowError(line, exc.message, name))
            rows.append((line, tld, values))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, _("not valid CSV (%(e)s).") % {"e": exc}))
    if not names:
        errors.append(
            RowError(1, _("the file is empty; it needs a header such as tld,admin_email."))
        )
    if errors:
        raise ImportRefused(errors)
    return rows


def _plan(rows: list[tuple[int, Tld, dict[str, str]]], tlds: Mapping[str, Tld]) -> ImportPlan:
    plan = ImportPlan(rows=len(rows))
    for _line, parsed, values in rows:
        tld = tlds[parsed.alabel]
        changes = _diff(tld, values)
        if changes:
            plan.changed.append(TldChange(tld.alabel, tld.display, changes))
        else:
            plan.unchanged.append(tld.alabel)
    return plan


def plan_import(data: bytes | str, *, actor: Actor) -> ImportPlan:
    """Read and check the whole file and say what it would change (the dry run). Writes nothing;
    only an editor may ask (the preview shows the contacts it would replace)."""
    require_editor(actor)
    rows = parse_csv(data)
    tlds = {t.alabel: t for t in Tld.objects.filter(alabel__in=[r[1].alabel for r in rows])}
    return _plan(rows, tlds)


def apply_import(data: bytes | str, *, actor: Actor, expected: str | None = None) -> ImportPlan:
    """Write a CSV import in one transaction, an audit entry per changed ccTLD and one for the
    import. With ``expected`` (the :attr:`ImportPlan.digest` of the preview), refuse when the
    catalog changed since the preview, so that nobody applies a change they have not seen."""
    require_editor(actor)
    rows = parse_csv(data)
    with transaction.atomic():
        tlds = {
            t.alabel: t
            for t in Tld.objects.select_for_update().filter(alabel__in=[r[1].alabel for r in rows])
        }
        plan = _plan(rows, tlds)
        if expected is not None and plan.digest != expected:
            raise InvalidInput(
                _(
                    "The catalog changed since this preview; nothing was changed. Look at the "
                    "new preview and confirm again."
                ),
                field="digest",
            )
        for change in plan.changed:
            _write(
                tlds[change.alabel],
                change.changes,
                actor=actor,
                source=SOURCE_CSV,
                action="catalog.import_admins",
            )
        if plan.changed:
            record(
                actor,
                "catalog.import_admins",
                f"Admin contacts imported from CSV: {len(plan.changed)} ccTLDs changed, "
                f"{len(plan.unchanged)} unchanged",
                after={"changed": [c.alabel for c in plan.changed], "rows": plan.rows},
            )
    return plan
