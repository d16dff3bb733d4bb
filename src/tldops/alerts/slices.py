"""Per-ccTLD slices of an alert's domain names, sent by mail: each affected member ccTLD gets only
its own names, the secretariat gets the ccTLDs without members for outreach (docs/alerts.md,
"Slices sent to each ccTLD").

The database is the only queue. Whenever domain indicators are stored for an alert,
:func:`queue` marks its :class:`~tldops.alerts.models.SliceJob` pending, in the same transaction
(a rolled-back upload queues nothing). The worker calls :func:`run_due`, which takes each pending
job in ONE transaction:

- **claim**: one conditional update clears ``pending``; a second worker's update finds nothing
  to clear (on PostgreSQL it waits for the first to commit) and leaves the job alone;
- **slice**: the alert's domain indicators above the job's high-water mark (``done_up_to``, an
  ``Indicator.id``) are read in chunks (``iterator``) and fed to :func:`tldops.alerts.split.split`,
  which writes one ``<A-label>.csv`` a ccTLD in a temporary folder as the names come (the same
  files as ``tldops alert split --out --tlp``): memory stays flat for a million names;
- **send and record**: one mail a ccTLD is queued in the outbox, an
  :class:`~tldops.alerts.models.AlertSlice` row written for it, and the mark moved past the
  names read — in the same transaction, so a worker killed at any point sends nothing and the
  next run does the whole; a run after it finds no name above the mark and sends nothing again.
  A later upload is sliced from the mark: only the new names go out.

:func:`queue` locks the job row (``update_or_create`` selects it for update) *before* the upload
stores its indicators, so uploads to one alert and the worker's claim follow one another: an
upload never commits indicator ids below a mark the worker already moved past them.

Who gets a slice is :func:`tldops.alerts.access.can_read`, the one rule: a member ccTLD's active
contacts who may read the alert (for TLP:RED, only those the author named), each at their
``Person.email`` only — never their other addresses; the ccTLDs without an active contact go to
the secretariat members who may read it (for TLP:RED only those named: otherwise outreach is
skipped and the job says so). The subject carries ``[TLP:…]``, the body's first line and each
CSV's first line the label (``Tlp(alert.tlp).tag``, never translated).
"""

from __future__ import annotations

import logging
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tldops.alerts import access, mailing, split
from tldops.alerts.indicators import Kind
from tldops.alerts.models import Alert, AlertSlice, Indicator, SliceJob
from tldops.alerts.tlp import Tlp
from tldops.catalog.models import Tld
from tldops.directory.audit import Actor, record
from tldops.directory.models import Membership, Person, Role
from tldops.mail import community, outbox

log = logging.getLogger(__name__)

PURPOSE = "alert-slice"
OUTREACH_PURPOSE = "alert-slice-outreach"
#: Indicators read from the database at a time (and handed to the splitter as one chunk).
FETCH = 10_000
#: Jobs one :func:`run_due` call takes at most (the others wait for the next round).
MAX_JOBS = 20
#: A failed job is tried again after 1, 2, 4 … minutes, at most this long.
MAX_RETRY = timedelta(hours=6)

#: ``AlertSlice.note`` and ``SliceJob.outreach_skipped``: stored as codes, shown translated.
NO_READER = "red-no-reader"
SKIPPED_RED = "red"
NO_SECRETARIAT = "no-secretariat"


def queue(alert: Alert) -> None:
    """Mark ``alert``'s slicing due, in the caller's transaction: called where domain indicators
    are stored (:func:`tldops.alerts.services.raise_alert`, ``add_indicators``), before they are,
    so that the job row's lock orders the uploads and the worker (see the module's text)."""
    now = timezone.now()
    SliceJob.objects.update_or_create(
        alert=alert,
        defaults={"pending": True, "queued_at": now, "next_attempt_at": now},
    )


def run_due(now: datetime | None = None) -> int:
    """The worker's hook: slice every pending job that is due; the number of mails queued.
    A job that fails is logged, kept pending and tried again later (the others go on)."""
    now = now or timezone.now()
    due = list(
        SliceJob.objects.filter(pending=True, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:MAX_JOBS]
    )
    mails = 0
    for pk in due:
        try:
            mails += run_job(pk)
        except Exception as exc:  # noqa: BLE001 - logged and kept; the next runs try again
            log.exception("slicing job %s failed; it will be retried", pk)
            _failed(pk, exc)
    return mails


def run_job(pk: int) -> int:
    """Claim job ``pk`` and slice what is new, all in one transaction; the mails queued (0 when
    another worker had it, or nothing was new)."""
    with transaction.atomic():
        claimed = SliceJob.objects.filter(pk=pk, pending=True).update(
            pending=False, last_run_at=timezone.now()
        )
        if not claimed:
            return 0
        job = SliceJob.objects.select_related("alert", "alert__author").get(pk=pk)
        return _slice(job)


def _failed(pk: int, exc: Exception) -> None:
    job = SliceJob.objects.filter(pk=pk).first()
    if job is None:
        return
    pause = min(timedelta(minutes=2**job.failures), MAX_RETRY)
    SliceJob.objects.filter(pk=pk).update(
        failures=job.failures + 1,
        next_attempt_at=timezone.now() + pause,
        last_error=f"{type(exc).__name__}: {exc}"[:500],
    )


@dataclass
class _Names:
    """The domain indicators of one run, as byte chunks for the splitter; remembers the first
    and last ``Indicator.id`` it handed over."""

    alert: Alert
    above: int
    first: int | None = None
    last: int = 0

    def chunks(self) -> Iterator[bytes]:
        self.last = self.above
        rows = (
            Indicator.objects.filter(alert=self.alert, kind=Kind.DOMAIN.value, id__gt=self.above)
            .order_by("id")
            .values_list("id", "value")
        )
        batch: list[str] = []
        for pk, value in rows.iterator(chunk_size=FETCH):
            if self.first is None:
                self.first = pk
            self.last = pk
            batch.append(value)
            if len(batch) >= FETCH:
                yield ("\n".join(batch) + "\n").encode("utf-8")
                batch = []
        if batch:
            yield ("\n".join(batch) + "\n").encode("utf-8")


def _slice(job: SliceJob) -> int:
    alert = job.alert
    names = _Names(alert, job.done_up_to)
    with tempfile.TemporaryDirectory(prefix="tldops-slices-") as folder:
        result = split.split(
            names.chunks(), split.cctld_index(), out_dir=Path(folder), tlp=alert.label
        )
        if names.first is None:  # nothing new: a re-run, or an upload without domain names
            job.save(update_fields=["pending", "last_run_at"])
            return 0
        mails = _send(job, result, names.first)
    job.done_up_to = names.last
    job.not_cctld += result.not_cctld
    job.invalid += result.invalid
    job.failures, job.last_error = 0, ""
    job.save()
    total = sum(result.counts.values())
    # Staff read the audit log and may not be a RED alert's readers: no title, no ccTLD here.
    record(
        Actor.system(),
        "alert-slices",
        f"Alert {alert.pk}: {total} name(s) under ccTLDs sliced, {mails} mail(s) queued",
        after={"alert": alert.pk, "names": total, "mails": mails},
    )
    return mails


def _readers(people: list[Person], alert: Alert) -> list[Person]:
    """``people`` who may read ``alert``, each once, in order."""
    seen: dict[int, Person] = {}
    for person in people:
        if person.pk not in seen and access.can_read(person, alert):
            seen[person.pk] = person
    return list(seen.values())


def _send(job: SliceJob, result: split.SplitResult, run_from: int) -> int:
    """Queue the run's mails and record its slices; the number of mails."""
    alert = job.alert
    tlds = {t.alabel: t for t in Tld.objects.filter(alabel__in=list(result.counts))}
    contacts: dict[str, list[Person]] = defaultdict(list)
    for m in (
        Membership.objects.filter(
            tld__alabel__in=list(result.counts), status=Membership.Status.ACTIVE
        )
        .select_related("person", "tld")
        .order_by("tld__alabel", "person__email")
    ):
        contacts[m.tld.alabel].append(m.person)
    now = timezone.now()
    rows: list[AlertSlice] = []
    outreach: list[tuple[Tld, int, AlertSlice]] = []
    mails = 0
    job.outreach_skipped = ""
    with outbox.mail_language():
        for alabel in sorted(result.counts):
            tld, count = tlds[alabel], result.counts[alabel]
            row = AlertSlice(
                alert=alert, tld=tld, names=count, member=alabel in contacts, run_from=run_from
            )
            rows.append(row)
            if not row.member:
                outreach.append((tld, count, row))
                continue
            readers = _readers(contacts[alabel], alert)
            if not readers:  # TLP:RED and none of its contacts named
                row.note = NO_READER
                continue
            _member_mail(alert, tld, count, result.files[alabel], readers)
            row.recipients, row.sent_at = len(readers), now
            mails += 1
        if outreach:
            staff = _readers(
                list(Person.objects.filter(role=Role.SECRETARIAT).order_by("email")), alert
            )
            if staff:
                _outreach_mail(alert, outreach, result.files, staff)
                for _tld, _count, row in outreach:
                    row.recipients, row.sent_at = len(staff), now
                mails += 1
            else:
                code = SKIPPED_RED if alert.label.named_only else NO_SECRETARIAT
                job.outreach_skipped = code
                for _tld, _count, row in outreach:
                    row.note = code
    AlertSlice.objects.bulk_create(rows)
    Alert.touch(alert.pk)  # its page shows the slices
    return mails


def _attach(msg: Any, path: Path, alabel: str) -> None:
    msg.add_attachment(path.read_bytes(), maintype="text", subtype="csv", filename=f"{alabel}.csv")


def _member_mail(alert: Alert, tld: Tld, count: int, path: Path, readers: list[Person]) -> None:
    """One mail to a member ccTLD's contacts who may read the alert, its slice attached."""
    tag = alert.label.tag
    where = tld.display
    text = _("Names under %(tld)s in alert %(pk)d: %(title)s") % {
        "tld": where,
        "pk": alert.pk,
        "title": alert.title,
    }
    subject = community.subject(text, f"[{tag}]")
    lines = [
        tag,
        "",
        ngettext(
            "%(n)d name under %(tld)s is listed in alert %(pk)d, “%(title)s”.",
            "%(n)d names under %(tld)s are listed in alert %(pk)d, “%(title)s”.",
            count,
        )
        % {"n": count, "tld": where, "pk": alert.pk, "title": alert.title},
        _(
            "They are attached, and only they: %(file)s, its first line the label "
            "“# %(tag)s”, then the header “domain” and one name a row."
        )
        % {"file": f"{tld.alabel}.csv", "tag": tag},
        "",
        _("The alert: %(link)s") % {"link": mailing.alert_url(alert)},
        "",
        _("You receive this as a contact of %(tld)s. Share it only as %(tag)s allows.")
        % {"tld": where, "tag": tag},
    ]
    _queue(alert, subject, lines, readers, [(tld.alabel, path)], PURPOSE)


def _outreach_mail(
    alert: Alert,
    outreach: list[tuple[Tld, int, AlertSlice]],
    files: dict[str, Path],
    staff: list[Person],
) -> None:
    """One mail to the secretariat members who may read the alert: the affected ccTLDs without
    an active member, with their counts and IANA administrative contacts, one CSV each."""
    tag = alert.label.tag
    text = _("Names under ccTLDs without members in alert %(pk)d: %(title)s") % {
        "pk": alert.pk,
        "title": alert.title,
    }
    subject = community.subject(text, f"[{tag}]")
    lines = [
        tag,
        "",
        ngettext(
            "Alert %(pk)d, “%(title)s”, lists names under %(n)d ccTLD that has no active "
            "member, for outreach:",
            "Alert %(pk)d, “%(title)s”, lists names under %(n)d ccTLDs that have no active "
            "member, for outreach:",
            len(outreach),
        )
        % {"pk": alert.pk, "title": alert.title, "n": len(outreach)},
        "",
    ]
    for tld, count, _row in outreach:
        admin = " ".join(
            part
            for part in (tld.admin_org, f"<{tld.admin_email}>" if tld.admin_email else "")
            if part
        )
        lines.append(
            ngettext("- %(tld)s: %(n)d name", "- %(tld)s: %(n)d names", count)
            % {"tld": tld.display, "n": count}
        )
        lines.append(
            "  "
            + _("IANA administrative contact: %(admin)s")
            % {"admin": admin or _("not known to the catalog")}
        )
    lines += [
        "",
        _(
            "One CSV a ccTLD is attached (<A-label>.csv, its first line “# %(tag)s”). "
            "Share it only as %(tag)s allows."
        )
        % {"tag": tag},
        "",
        _("The alert: %(link)s") % {"link": mailing.alert_url(alert)},
    ]
    attached = [(tld.alabel, files[tld.alabel]) for tld, _count, _row in outreach]
    _queue(alert, subject, lines, staff, attached, OUTREACH_PURPOSE)


def _queue(
    alert: Alert,
    subject: str,
    lines: list[str],
    people: list[Person],
    files: list[tuple[str, Path]],
    purpose: str,
) -> None:
    """Queue one mail with the CSV files attached: to all of ``people`` at once, or, for a
    TLP:RED alert, a copy to each with only their own address in ``To:`` (nobody learns who
    else was named), its title never shown on the outbox's pages (staff read them)."""
    groups = [[p] for p in people] if alert.label is Tlp.RED else [people]
    for group in groups:
        msg = outbox.build_message(
            subject=subject, body="\n".join(lines) + "\n", to=[p.email for p in group]
        )
        for alabel, path in files:
            _attach(msg, path, alabel)
        outbox.enqueue(msg, purpose=purpose, shown_subject=mailing.shown_subject(alert))


# --- What the doors show -------------------------------------------------------------------------


@dataclass
class Summary:
    """An alert's slices as the portal, the API and the CLI show them to its readers."""

    cctlds: list[dict[str, Any]] = field(default_factory=list)
    not_cctld: int = 0
    invalid: int = 0
    pending: bool = False
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "cctlds": self.cctlds,
            "not_cctld": self.not_cctld,
            "invalid": self.invalid,
            "pending": self.pending,
            "note": self.note,
        }


def note_text(code: str) -> str:
    """The sentence for a stored note code (translated; ``""`` for none)."""
    return {
        NO_READER: _("not sent: the alert is TLP:RED and none of this ccTLD's contacts is named"),
        SKIPPED_RED: _(
            "Outreach skipped because of TLP:RED: the ccTLDs without members were not sent to "
            "the secretariat, as none of its members is named."
        ),
        NO_SECRETARIAT: _(
            "Outreach skipped: there is no secretariat member to send the ccTLDs without "
            "members to."
        ),
    }.get(code, "")


def summary(alert: Alert) -> Summary:
    """Per ccTLD (A-label order): names sent in all, whether it is a member ccTLD, how many
    people the last mail went to, when the last one left, how many mails; with the names under
    other TLDs and the invalid ones. Shown only to people who may read the alert: the doors ask
    :func:`tldops.alerts.services.get` first."""
    out = Summary()
    job = SliceJob.objects.filter(alert=alert).first()
    if job is None:
        return out
    out.not_cctld, out.invalid, out.pending = job.not_cctld, job.invalid, job.pending
    out.note = note_text(job.outreach_skipped)
    last: dict[int, AlertSlice] = {}
    for row in AlertSlice.objects.filter(alert=alert).order_by("run_from"):
        last[row.tld_id] = row
    grouped = (
        AlertSlice.objects.filter(alert=alert)
        .values("tld_id", "tld__alabel", "tld__ulabel")
        .annotate(
            names=Sum("names"),
            mails=Count("sent_at"),
            first_sent=Min("sent_at"),
            last_sent=Max("sent_at"),
        )
        .order_by("tld__alabel")
    )
    for g in grouped:
        row = last[g["tld_id"]]
        out.cctlds.append(
            {
                "cctld": g["tld__alabel"],
                "ulabel": g["tld__ulabel"],
                "names": g["names"],
                "member": row.member,
                "recipients": row.recipients,
                "mails": g["mails"],
                "sent_at": g["last_sent"],
                "note": note_text(row.note),
            }
        )
    return out


__all__ = ["PURPOSE", "OUTREACH_PURPOSE", "Summary", "queue", "run_due", "run_job", "summary"]
