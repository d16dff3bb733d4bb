"""What the benchmark scripts share to report a run: the machine's CPU model, and their own
section of docs/benchmarks.md.

Each script owns one section between its two marker comments and rewrites only that, so the
prose written around the sections by hand, and the other scripts' sections, stay as they are.
"""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
INTRO = (
    "# Benchmarks\n\n"
    "What the quality bars of the specification measure, how, and the latest numbers. "
    "Performance is measured here, by the scripts in `bench/`, never asserted by timing "
    "in tests. Each section is written by its script; rerun the script to refresh it.\n\n"
)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or "" where it does not say."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def write_section(start: str, end: str, body: str, docs: Path = DOCS) -> None:
    """Put ``start``, ``body`` and ``end`` into ``docs`` in place of the section those markers
    enclose, or at the end when there is none yet (the file is made when missing)."""
    text = docs.read_text() if docs.exists() else INTRO
    section = f"{start}\n{body.strip(chr(10))}\n{end}\n"
    if start in text and end in text.split(start, 1)[1]:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    docs.write_text(text)
