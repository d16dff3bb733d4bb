"""How big the monitor's time series is: measured on SQLite, extrapolated to a year.

Stores one day of 5-minute sweeps of one probe over a world the size of the real one (309 ccTLDs,
about 2,600 server addresses, ``--findings`` findings per sweep) through the real
``monitor.ingest.store``, then runs the real retention, and reads the bytes each table and index
takes from SQLite's ``dbstat``. The per-row sizes then give the year of docs/monitor.md
("Storage and retention"): raw for ``MONITOR_RAW_DAYS``, hourly rollups for
``MONITOR_HOURLY_DAYS``, daily rollups for the rest, findings thinned to one per hour and problem.

    python bench/monitor_storage.py [--addresses 2600] [--findings 200] [--probes 3]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def table_bytes(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    return dict(rows)


def group(sizes: dict[str, int], table: str) -> int:
    """A table's bytes with its indexes (Django names them after the table or explicitly)."""
    names = {
        "monitor_observation": ("monitor_observation", "observation_tld_at"),
        "monitor_rollup": ("monitor_rollup", "rollup_", "uniq_rollup"),
        "monitor_finding": ("monitor_finding", "finding_tld_at"),
    }[table]
    return sum(v for k, v in sizes.items() if k.startswith(names) or k == table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=2600)
    parser.add_argument("--findings", type=int, default=200, help="findings per sweep")
    parser.add_argument("--probes", type=int, default=3)
    parser.add_argument("--sweeps", type=int, default=288, help="sweeps stored (288: one day)")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="tldops-monitor-storage-"))
    os.environ["TLDOPS_DATA_DIR"] = str(data)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tldops.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from tldops.catalog.models import Tld
    from tldops.monitor import ingest, retention
    from tldops.monitor.models import Finding, Observation, Rollup
    from tldops.monitor.results import Finding as F
    from tldops.monitor.results import Sample, Stats, Status, SweepResult

    call_command("migrate", verbosity=0, interactive=False)
    db = Path(settings.DATABASES["default"]["NAME"])
    names = [f"t{n:03d}" for n in range(309)]
    Tld.objects.bulk_create([Tld(alabel=n, ulabel=n, kind="ascii") for n in names])
    rng = random.Random(1)
    # (tld, server, address): about 8.4 addresses per ccTLD, half IPv6, as in the real root zone.
    servers = []
    for i in range(args.addresses):
        tld = names[i % len(names)]
        address = (
            f"2001:db8:{i // 256:x}::{i % 256:x}"
            if i % 2
            else f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"
        )
        servers.append((tld, f"ns{i % 9}.nic-{tld}.example", address))
    codes = ["UNSIGNED", "SLOW_RESPONSE", "NS_EXTRA_AT_CHILD", "SERIAL_BEHIND", "AXFR_OPEN"]
    hub = ingest.builtin_probe()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    took = []
    for n in range(args.sweeps):
        at = start + timedelta(minutes=5 * n)
        samples = [
            Sample(
                t,
                s,
                a,
                Status.OK,
                round(rng.uniform(5, 200), 3),
                round(rng.uniform(10, 400), 3),
                2026010100 + n // 12,
            )
            for t, s, a in servers
        ]
        findings = [
            F(t, s, a, codes[k % len(codes)], "detail of the finding, about fifty characters long")
            for k, (t, s, a) in enumerate(servers[: args.findings])
        ]
        result = SweepResult(
            started_at=at, findings=findings, samples=samples, stats=Stats(zones=309)
        )
        t0 = time.perf_counter()
        ingest.store(hub, result, f"r{n}")
        took.append(time.perf_counter() - t0)
    connection.close()
    raw = table_bytes(db)
    obs_rows, find_rows = Observation.objects.count(), Finding.objects.count()
    obs_b = group(raw, "monitor_observation") / obs_rows
    find_b = group(raw, "monitor_finding") / find_rows

    settings.MONITOR_RAW_DAYS = 1
    retention.run(start + timedelta(days=2, hours=1))
    connection.close()
    rolled = table_bytes(db)
    roll_rows = Rollup.objects.count()
    roll_b = group(rolled, "monitor_rollup") / roll_rows
    thin_rows = Finding.objects.count()
    thin_b = group(rolled, "monitor_finding") / max(1, thin_rows)

    p, a, f = args.probes, args.addresses, args.findings
    raw_days, hourly_days = 2, 90
    per_day_raw = 288 * a * p
    year = {
        "raw observations (2 days)": (raw_days * per_day_raw, obs_b),
        "hourly rollups (90 days)": (hourly_days * 24 * a * p, roll_b),
        "daily rollups (the other 273 days)": ((365 - hourly_days) * a * p, roll_b),
        "findings, every sweep (2 days)": (raw_days * 288 * f * p, find_b),
        "findings, one per hour (88 days)": ((90 - raw_days) * 24 * f * p, thin_b),
    }
    print(f"store(): {sum(took) / len(took) * 1000:.0f} ms a sweep of {a} samples and {f} findings")
    print(
        f"bytes per row, indexes included: observation {obs_b:.0f}, rollup {roll_b:.0f}, "
        f"finding {find_b:.0f} (thinned {thin_b:.0f})"
    )
    total = 0
    for what, (rows, b) in year.items():
        total += rows * b
        print(f"{what:40} {rows:>12,} rows {rows * b / 1e6:>10,.0f} MB")
    print(f"{'a year, with retention':40} {'':>12}      {total / 1e6:>10,.0f} MB")
    unrolled = 365 * per_day_raw * obs_b + 365 * 288 * f * p * find_b
    print(
        f"{'a year kept raw (no retention)':40} {365 * per_day_raw:>12,} rows {unrolled / 1e6:>10,.0f} MB"
    )


if __name__ == "__main__":
    main()
