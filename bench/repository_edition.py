"""Time generating one contact repository edition: 1,000 contacts across 300 ccTLDs, on one core.

    .venv/bin/python bench/repository_edition.py            # rewrites its section of docs/benchmarks.md
    .venv/bin/python bench/repository_edition.py --runs 7 --no-docs

The requirement (issue 4, "Measured"): generating one edition — the text body, CSV, vCard, PDF and
the OpenPGP signature — for 1,000 contacts across 300 ccTLDs takes at most 2 seconds on one core.

What it does:

1. Seeds a throwaway data directory (``TLDOPS_DATA_DIR``, a fresh temporary directory unless
   ``--data-dir`` names one) through the real services, like ``bench/seed.py``: 240 ASCII and 60
   IDN ccTLDs, 1,000 contacts round-robin (3 or 4 a ccTLD, so ``TLDOPS_MAX_CONTACTS_PER_CCTLD=4``
   for this process), every fourth with an Arabic, Cyrillic or Chinese name, two phone numbers
   each (valid numbers of the ccTLD's country).
2. Makes a throwaway ed25519 key with the real gpg in its own GNUPGHOME and configures it as the
   signing key, so every edition is signed.
3. Pins itself to one CPU (``sched_setaffinity``; gpg, a child, inherits it), times one cold
   edition (the first of the process: imports, font files), then ``--runs`` times:
   :func:`tldops.repository.editions.generate` (the whole edition as the worker makes it) and
   each part alone (snapshot, text, CSV, vCard, PDF, MIME message, signature). CPU time counts
   this process and its finished children (gpg). Reports medians.
4. Writes the section "Contact repository edition" of docs/benchmarks.md (between its markers).

Exit code 0 when the median edition takes at most 2 s of CPU time, 1 when not.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- repository-edition:start (written by bench/repository_edition.py) -->"
END = "<!-- repository-edition:end -->"
BUDGET = 2.0
CONTACTS, ASCII_TLDS, IDN_TLDS = 1000, 240, 60

sys.path.insert(0, str(ROOT / "bench"))
import report  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_key(home: str) -> str:
    run = ["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run(
        [*run, "--quick-gen-key", "TLD-OPS bench <bench@tldops.example>", "ed25519", "sign", "1d"],
        check=True,
        capture_output=True,
    )
    listing = subprocess.run(
        ["gpg", "--homedir", home, "--batch", "--with-colons", "--list-secret-keys"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def seed() -> dict[str, int]:
    from django.core.management import call_command
    from seed import vet

    from tldops.catalog.baseline import load_baseline
    from tldops.catalog.models import Tld
    from tldops.directory.models import Membership

    call_command("migrate", verbosity=0, interactive=False)
    load_baseline()
    if Membership.objects.exists():
        raise SystemExit("bench/repository_edition.py: this data directory already has members")
    delegated = list(Tld.objects.delegated().order_by("alabel"))
    tlds = [t for t in delegated if t.kind == Tld.Kind.ASCII][:ASCII_TLDS]
    tlds += [t for t in delegated if t.kind == Tld.Kind.IDN][:IDN_TLDS]
    for tld in tlds:
        tld.admin_email = tld.admin_email or f"admin@nic.{tld.alabel}"
    Tld.objects.bulk_update(tlds, ["admin_email"])
    per_tld: dict[int, list[int]] = {}
    for i in range(CONTACTS):
        per_tld.setdefault(i % len(tlds), []).append(i)
    vet(tlds, per_tld)
    return {
        "contacts": Membership.objects.filter(status="active").count(),
        "cctlds": len(per_tld),
        "idn": sum(1 for t in tlds if t.kind == Tld.Kind.IDN),
    }


def cpu_time() -> float:
    """CPU seconds of this process and of its finished children (gpg signs in a child)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn, *args, **kwargs):  # noqa: ANN001, ANN201 - a tiny helper
    wall, cpu = time.perf_counter(), cpu_time()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - wall, cpu_time() - cpu


def measure(runs: int) -> dict[str, object]:
    from tldops.mail import outbox
    from tldops.repository import editions, render, signing, snapshot

    period = "2026-11"
    now = datetime(2026, 11, 2, 6, tzinfo=UTC)
    log("cold edition (the first in this process: imports, fonts) …")
    _e, cold_wall, cold_cpu = timed(editions.generate, period, now=now)
    parts: dict[str, list[float]] = {
        k: [] for k in ("snapshot", "text", "csv", "vcard", "pdf", "message", "signature")
    }
    totals_wall: list[float] = []
    totals_cpu: list[float] = []
    sizes: dict[str, int] = {}
    who = signing.signer()
    assert who is not None
    for run in range(runs):
        edition, wall, cpu = timed(editions.generate, period, now=now)
        assert edition.signer == who.fingerprint
        totals_wall.append(wall)
        totals_cpu.append(cpu)
        with outbox.mail_language():
            data, _w, c = timed(snapshot.take, now)
            parts["snapshot"].append(c)
            changes = {**snapshot.changes(None, data), "previous": None}
            for name, fn, args in (
                ("text", render.text, (data, period, changes)),
                ("csv", render.csv, (data,)),
                ("vcard", render.vcard, (data,)),
                ("pdf", render.pdf, (data, period, changes)),
            ):
                _r, _w, c = timed(fn, *args)
                parts[name].append(c)
            msg, _w, c = timed(editions._message, edition)
            parts["message"].append(c)
            _r, _w, c = timed(signing.sign_mime, msg, who)
            parts["signature"].append(c)
        log(f"run {run + 1}/{runs}: edition {wall:.2f} s wall, {cpu:.2f} s CPU")
        sizes = {
            "text": len(edition.text.encode()),
            "csv": len(edition.csv.encode()),
            "vcard": len(edition.vcf.encode()),
            "pdf": len(bytes(edition.pdf)),
            "message": len(bytes(edition.raw)),
        }
        people, cctlds, contacts = edition.people, edition.cctlds, edition.data["contacts"]
    return {
        "cold": (cold_wall, cold_cpu),
        "wall": totals_wall,
        "cpu": totals_cpu,
        "parts": parts,
        "sizes": sizes,
        "people": people,
        "cctlds": cctlds,
        "contacts": contacts,
        "runs": runs,
    }


def versions() -> str:
    import django
    import gnupg
    import uharfbuzz
    import vobject  # noqa: F401

    gpg = subprocess.run(["gpg", "--version"], capture_output=True, text=True).stdout.splitlines()
    return (
        f"Python {platform.python_version()}, Django {django.get_version()}, uharfbuzz "
        f"{uharfbuzz.__version__} (HarfBuzz {uharfbuzz.version_string()}), python-gnupg "
        f"{gnupg.__version__}, {gpg[0] if gpg else 'gpg'}"
    )


def section(result: dict[str, object], seeded: dict[str, int], cpu_name: str) -> str:
    med = statistics.median
    wall, cpu = result["wall"], result["cpu"]
    parts = result["parts"]
    cold_wall, cold_cpu = result["cold"]
    met = med(cpu) <= BUDGET
    verdict = (
        f"**Result: {'met' if met else 'not met'}** — median {med(cpu):.2f} s CPU "
        f"({med(wall):.2f} s wall) per edition in a running process against a budget of "
        f"{BUDGET:.0f} s; the first edition of a fresh process (imports, font files) "
        f"{cold_cpu:.2f} s CPU ({cold_wall:.2f} s wall)."
    )
    load = os.getloadavg()
    rows = "\n".join(
        f"| {label} | {med(parts[key]) * 1000:.0f} | {min(parts[key]) * 1000:.0f} | "
        f"{max(parts[key]) * 1000:.0f} |"
        for key, label in (
            ("snapshot", "Snapshot (read the directory, 4 queries)"),
            ("text", "Text body"),
            ("csv", "CSV"),
            ("vcard", "vCard 4.0"),
            ("pdf", "PDF (typeset: HarfBuzz shaping and subsetting)"),
            ("message", "MIME message (multipart/mixed, base64/QP)"),
            ("signature", "OpenPGP signature (gpg, PGP/MIME)"),
        )
    )
    sizes = result["sizes"]
    return f"""## Contact repository edition

**Requirement** (issue 4): generating one edition — text body, CSV, vCard, PDF and the OpenPGP
signature — for 1,000 contacts across 300 ccTLDs takes at most 2 s on one core.

{verdict}

Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on: {cpu_name}, pinned to one CPU with
`sched_setaffinity`; load average before the run {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}
(other sessions' work on the same machine counts in wall time; CPU time hardly depends on it).
Versions: {versions()}. Database: SQLite (WAL), seeded through the real directory services.

Data: {result["contacts"]:,} contacts ({result["people"]:,} people) in {result["cctlds"]} ccTLDs
({seeded["idn"]} of them IDN), every fourth name Arabic, Cyrillic or Chinese, two phone numbers
each. Sizes: text {sizes["text"] // 1024} KiB, CSV {sizes["csv"] // 1024} KiB, vCard
{sizes["vcard"] // 1024} KiB, PDF {sizes["pdf"] // 1024} KiB, signed message
{sizes["message"] // 1024} KiB.

Whole edition (`editions.generate`: everything the worker does before the one transaction that
stores and queues it), {result["runs"]} runs after the cold one: median **{med(cpu):.2f} s CPU**
(fastest {min(cpu):.2f}, slowest {max(cpu):.2f}), {med(wall):.2f} s wall. CPU time counts this
process and its children (gpg); wall time also counts waiting for the other sessions' work.

Each part alone (CPU time, ms):

| Part | median | min | max |
|---|---:|---:|---:|
{rows}

How the PDF engine was chosen (CPU s for the PDF alone, 1,000 contacts/300 ccTLDs, same data
and scripts, one core; "cold" is the first PDF of a fresh process, "warm" the next ones):

| Engine | cold | warm |
|---|---:|---:|
| WeasyPrint 70, the plain template (one paragraph a ccTLD, a line per contact) | 3.05 | 2.7–3.05 |
| … without `dir=auto` | 2.93 | 2.66–2.79 |
| … one `FontConfiguration` reused between calls | 2.94 | 2.44–2.52 |
| … `presentational_hints`/`optimize_images` off, `uncompressed_pdf` | 3.11 | 2.53–2.73 |
| … all of it plus `hyphens: none` (`text-rendering` is not supported) | 2.82 | 2.46–2.51 |
| fpdf2 2.8.9, `set_text_shaping(True)`, fallback fonts, `multi_cell` | 16.0 | 15.5–17.1 |
| fpdf2 2.8.9 without shaping (Arabic then unjoined) | 5.3 | 5.2–5.5 |
| `tldops.kernel.typeset` (uharfbuzz shaping and subsetting, PDF written directly) | 0.79 | 0.64–0.77 |

Font loading is a small share for WeasyPrint (cold and warm differ by 0.3–0.5 s): the cost is
per line and per glyph (Pango lays out every line about three times; a Python loop writes every
glyph). fpdf2's line breaking shapes every prefix of a line. ReportLab was not measured: it
embeds TrueType outlines only (the Noto CJK fonts are CFF) and does not shape Arabic. The
typesetter shapes each line once with HarfBuzz (a second time only when it must wrap), picks a
font per character from a stack (DejaVu Sans, then the Noto families), orders right-to-left runs
and bidi isolates itself, and subsets the faces with HarfBuzz; its PDF has the same content
(every contact, every field, the same header) and a text layer (checked with pdftotext by
`tests/repository/test_render.py`).

Reproduce: `.venv/bin/python bench/repository_edition.py` (`--runs N`, `--no-docs`,
`--data-dir DIR` to keep the seeded data).
"""


def write_docs(text_section: str) -> None:
    report.write_section(START, END, text_section)
    log(f"wrote {report.DOCS.relative_to(ROOT)}")


def cpu_model() -> str:
    model = report.cpu_model()
    return f"{os.cpu_count()} CPUs ({model})" if model else f"{os.cpu_count()} CPUs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="recorded editions (default 5)")
    parser.add_argument("--data-dir", help="seed here and keep it (default: a temporary one)")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="tldops-bench-edition-", dir="/tmp"))
    data_dir = Path(args.data_dir) if args.data_dir else workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    gnupg_home = workdir / "gnupg"
    gnupg_home.mkdir(mode=0o700)
    try:
        fingerprint = make_key(str(gnupg_home))
        os.environ["TLDOPS_DATA_DIR"] = str(data_dir)
        os.environ["TLDOPS_MAX_CONTACTS_PER_CCTLD"] = "4"
        os.environ["TLDOPS_REPOSITORY_SIGNING_KEY"] = fingerprint
        os.environ["TLDOPS_GNUPG_HOME"] = str(gnupg_home)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tldops.settings")
        import django

        django.setup()
        cpu = sorted(os.sched_getaffinity(0))[0]
        os.sched_setaffinity(0, {cpu})  # gpg, a child process, inherits it
        log(f"seeding {CONTACTS} contacts in {data_dir} …")
        with contextlib.redirect_stdout(io.StringIO()):
            seeded = seed()
        log(f"seeded {seeded}")
        result = measure(args.runs)
        text = section(result, seeded, cpu_model())
        print(text)
        if not args.no_docs:
            write_docs(text)
        return 0 if statistics.median(result["cpu"]) <= BUDGET else 1
    finally:
        subprocess.run(
            ["gpgconf", "--homedir", str(gnupg_home), "--kill", "all"], capture_output=True
        )
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
