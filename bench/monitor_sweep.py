"""Benchmark: one sweep of a simulated ccTLD world the size of the real one, beside zonemaster-cli,
dnsviz and the name server's own capacity (issue 11).

    .venv/bin/python bench/monitor_sweep.py                 # as root: the world runs on port 53
    .venv/bin/python bench/monitor_sweep.py --zonemaster-limit 40 --no-docs

The world (``tests/monitor/world.py``, ``World.generate``): 309 ccTLDs named after the catalog's
baseline, 1,543 NS records over 1,098 name server hosts (one 127.x address each; hosts beyond two
per ccTLD are shared), glue for all at a synthetic signed root, 221 signed zones, and by default one
ccTLD per fault of ``tests.monitor.world.FAULTS`` (``--no-faults``: none). One NSD serves every
zone on all 1,098 addresses; a second the root; faults add a third NSD, an Unbound and a socket
that swallows packets.

zonemaster-cli (Debian's, 5.0.2) always asks port 53 and dnsviz follows referrals to port 53, so
the world runs on port 53 of its 127.x addresses (the script refuses to start if anything has port
53 on any address), and ``tldops monitor sweep`` is given the same world and port. Then, in one
run, each tool sweeps every zone, one after the other:

1. ``tldops monitor sweep --root-hints … --trust-anchor … --port 53 --format json`` (a child
   process; its JSON gives its own stats: queries, wall_s, cpu_s);
2. ``zonemaster-cli --hints … ZONE`` for every zone, two at a time (the issue's setting);
3. ``dnsviz probe -A -a . -x .:<root servers>`` over every zone, then ``dnsviz grok`` with the root's
   DNSKEY as trust anchor (dnsviz from PyPI in its own virtualenv, ``--dnsviz-venv``);
4. ``dnsperf`` against one address of the NSD serving the zones: the queries per second it takes,
   the upper bound of any sweep.

Each tool's *wall* time is measured here, its *CPU* time is the user + system time of its
processes (``getrusage(RUSAGE_CHILDREN)``), and its *queries* are counted by the servers
(``nsd-control stats_noreset`` on every NSD of the world, plus what the dropping socket swallowed)
so every tool is counted the same way. A fault counts as *found* by tldops when every (code,
server) of ``World.expected`` is reported; by a peer when it reports a message about the faulty
server (or, for a zone fault, the zone) that it gives for no healthy zone. *False alarms* are
tldops findings of WARNING or above on ccTLDs without a fault.

Prints a Markdown section; without ``--no-docs`` rewrites the "Monitor sweep" section of
docs/benchmarks.md. Every process is stopped on exit; only 127.0.0.0/8 is used.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from bench.report import cpu_model, write_section  # noqa: E402
from tests.monitor import world as w  # noqa: E402
from tests.monitor.world import FAULTS, World  # noqa: E402

BEGIN = "<!-- monitor-sweep:start (written by bench/monitor_sweep.py) -->"
END = "<!-- monitor-sweep:end -->"
WARNING_LEVELS = {"WARNING", "ERROR", "CRITICAL"}
#: Faults a peer must name the faulty server for (a serial disagreement is about the zone).
NAMED_FAULTS = {
    w.STOPPED,
    w.DROPS,
    w.LAME,
    w.OPEN_RECURSION,
    w.GLUE_MISMATCH,
    w.NS_MISSING_AT_CHILD,
}
DEBS = {"dnsperf": "dnsperf", "zonemaster-cli": "zonemaster-cli", "nsd": "nsd"}


# -- tools ---------------------------------------------------------------------------------------


def ensure_debs(names: list[str]) -> None:
    """apt-get install the bench's Debian packages that are missing (when we can)."""
    missing = [DEBS[n] for n in names if shutil.which(n) is None]
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SystemExit(f"missing: {' '.join(missing)} (apt-get install them)")
    print(f"installing {' '.join(missing)}", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True, env=env, timeout=900)


def ensure_dnsviz(venv: Path) -> Path:
    """dnsviz from PyPI in its own virtualenv (never the project's)."""
    exe = venv / "bin" / "dnsviz"
    if not exe.exists():
        print(f"installing dnsviz into {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "-q"]
        # grok needs pygraphviz (it refuses to start without it, exit 2).
        subprocess.run(
            [*pip, "dnsviz", "pygraphviz", "dnspython", "cryptography"], check=True, timeout=900
        )
    return exe


class Meter:
    """Wall, CPU of the children waited for meanwhile, and queries the world's servers got."""

    def __init__(self, world: World) -> None:
        self.world = world

    def __enter__(self) -> Meter:
        self.q0 = self.world.queries()
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu0 = r.ru_utime + r.ru_stime
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.monotonic() - self.t0
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = r.ru_utime + r.ru_stime - self.cpu0
        self.queries = self.world.queries() - self.q0

    def row(self) -> dict[str, float]:
        return {"wall_s": self.wall, "cpu_s": self.cpu, "queries": self.queries}


# -- the data directory for tldops ----------------------------------------------------------------


def prepare_data(data: Path) -> list[str]:
    """A fresh data directory with the catalog's baseline; the delegated ccTLDs' A-labels."""
    os.environ["TLDOPS_DATA_DIR"] = str(data)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tldops.settings")
    import django  # lazy: Django is set up only after TLDOPS_DATA_DIR names the data directory

    django.setup()
    from django.core.management import call_command  # lazy: needs Django set up

    from tldops.catalog.baseline import load_baseline  # lazy: needs Django set up
    from tldops.catalog.models import Tld  # lazy: needs Django set up

    call_command("migrate", verbosity=0, interactive=False)
    load_baseline()
    return list(Tld.objects.delegated().order_by("alabel").values_list("alabel", flat=True))


# -- the tools' runs ------------------------------------------------------------------------------


def run_monitor(world: World, args: argparse.Namespace, env: dict[str, str]) -> dict:
    cmd = [sys.executable, "-m", "tldops", "monitor", "sweep"]
    if args.monitor_cmd:
        cmd = shlex.split(args.monitor_cmd)
    cmd += [
        "--root-hints",
        str(world.root_hints_path),
        "--trust-anchor",
        str(world.trust_anchor_path),
        "--port",
        str(world.port),
        "--timeout",
        str(args.timeout),
        "--tries",
        str(args.tries),
        "--format",
        "json",
    ]
    # The world's ccTLDs (all 309 by default): a smaller world (--tlds N) must not be swept for
    # the catalog's others, which its root rightly does not know (each a false alarm).
    cmd += [arg for tld in world.tlds for arg in ("--tld", tld)]
    with Meter(world) as meter:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.limit_s)
    out = {"cmd": " ".join(shlex.quote(c) for c in cmd[2:] if not c.startswith("/")), **meter.row()}
    if done.returncode != 0:
        reason = "NotImplementedError" if "NotImplementedError" in done.stderr else "failed"
        out.update(error=reason, stderr=done.stderr[-2000:])
        return out
    data = json.loads(done.stdout)
    out["own_stats"] = data.get("stats", {})
    out["findings"] = data.get("findings", [])
    return out


def judge_monitor(world: World, result: dict) -> dict:
    """Faults found (every expected (code, server) reported) and false alarms."""
    if "findings" not in result:
        return {}
    seen: dict[str, set[tuple[str, str]]] = {}
    false_alarms = []
    for f in result["findings"]:
        seen.setdefault(f["tld"], set()).add((f["code"], f["server"].rstrip(".")))
        if f["tld"] not in world.expected and f["severity"] in WARNING_LEVELS:
            false_alarms.append(f)
    per_fault = {}
    for spec in world.specs:
        if spec.fault:
            want = world.expected[spec.name]
            got = seen.get(spec.name, set())
            per_fault[spec.fault] = {
                "tld": spec.name,
                "found": want <= got,
                "codes": sorted({c for c, _ in got}),
            }
    return {"per_fault": per_fault, "false_alarms": false_alarms}


ZM_LINE = re.compile(r"^\s*[\d.]+\s+([A-Z]+)\s+(\S+)\s*(.*)$")


def run_zonemaster(world: World, zones: list[str], args: argparse.Namespace) -> dict:
    def one(zone: str) -> tuple[str, list[tuple[str, str, str]], float]:
        t0 = time.monotonic()
        cmd = ["zonemaster-cli", "--hints", str(world.root_hints_path), "--no-ipv6", "--raw"]
        cmd += ["--show-level", "--level", "NOTICE", "--no-progress", zone]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.zone_timeout)
            text = done.stdout
        except subprocess.TimeoutExpired as exc:
            text = (exc.stdout or b"").decode(errors="replace") + "\n 0 ERROR BENCH_TIMEOUT"
        messages = [m.groups() for m in map(ZM_LINE.match, text.splitlines()) if m]
        return zone, messages, time.monotonic() - t0

    with Meter(world) as meter:
        pool = ThreadPoolExecutor(args.zonemaster_parallel)
        try:
            results = list(pool.map(one, zones))
        finally:  # interrupted: run no further zone
            pool.shutdown(wait=True, cancel_futures=True)
    return {
        **meter.row(),
        "zones": len(zones),
        "messages": {z: [list(m) for m in ms] for z, ms, _ in results},
        "slowest": max((w, z) for z, _, w in results),
    }


def run_dnsviz(world: World, zones: list[str], exe: Path, args: argparse.Namespace, work: Path):
    roots = ",".join(
        f"{n}={a}"
        for n, a in zip(
            ("a.root.test", "b.root.test", "c.root.test"), world.root_addresses, strict=False
        )
    )
    names = work / "dnsviz-names.txt"
    names.write_text("".join(z + ".\n" for z in zones))
    probe, grok = work / "dnsviz-probe.json", work / "dnsviz-grok.json"
    out: dict = {"zones": len(zones)}
    with Meter(world) as m1:
        subprocess.run(
            [str(exe), "probe", "-A", "-4", "-a", ".", "-x", ".:" + roots]
            + ["-t", str(args.dnsviz_threads), "-f", str(names), "-o", str(probe)],
            check=True,
            capture_output=True,
            timeout=args.limit_s,
        )
    with Meter(world) as m2:
        subprocess.run(
            [str(exe), "grok", "-r", str(probe), "-t", str(world.trust_anchor_dnskey_path)]
            + ["-l", "warning", "-o", str(grok)],
            check=True,
            capture_output=True,
            timeout=args.limit_s,
        )
    out.update(
        wall_s=m1.wall + m2.wall,
        cpu_s=m1.cpu + m2.cpu,
        queries=m1.queries + m2.queries,
        probe_wall_s=m1.wall,
        grok_wall_s=m2.wall,
    )
    data = json.loads(grok.read_text())
    messages = {}
    for zone in zones:
        found: list[list[str]] = []

        def walk(node: object, level: str = "", found: list[list[str]] = found) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in ("errors", "warnings") and isinstance(value, list):
                        for item in value:
                            code = item.get("code", "?") if isinstance(item, dict) else "?"
                            lvl = "ERROR" if key == "errors" else "WARNING"
                            found.append([lvl, code, json.dumps(item)])
                    else:
                        walk(value, level)
            elif isinstance(node, list):
                for value in node:
                    walk(value, level)

        walk(data.get(zone + ".", {}))
        messages[zone] = found
    out["messages"] = messages
    return out


def judge_peer(world: World, messages: dict[str, list[list[str]]]) -> dict:
    """A fault is found when the tool says something about the faulty server (or the faulty
    zone) that it says about no healthy zone; message kinds are compared by tag."""
    healthy_tags = {
        tag for zone, ms in messages.items() if zone not in world.expected for _, tag, _ in ms
    }
    per_fault = {}
    for spec in world.specs:
        if not spec.fault or spec.name not in messages:
            continue
        bad = spec.fault_server
        needles = []
        if spec.fault in NAMED_FAULTS and bad is not None:
            needles = [bad.host, *bad.addresses]
        tags = set()
        for _level, tag, text in messages[spec.name]:
            if tag in healthy_tags:
                continue
            if needles and not any(
                re.search(rf"(?<![\w.-]){re.escape(n)}(?![\w-]|\.\d)", text) for n in needles
            ):
                continue
            tags.add(tag)
        per_fault[spec.fault] = {"tld": spec.name, "found": bool(tags), "codes": sorted(tags)}
    return {"per_fault": per_fault, "healthy_tags": sorted(healthy_tags)}


def run_dnsperf(world: World, args: argparse.Namespace, work: Path) -> dict:
    spec = next(s for s in world.specs if s.fault is None)
    address = spec.servers[0].addresses[0]
    queries = work / "dnsperf.txt"
    queries.write_text("".join(f"{s.name}. SOA\n" for s in world.specs if s.fault is None))
    cmd = ["dnsperf", "-s", address, "-p", str(world.port), "-d", str(queries)]
    cmd += ["-l", str(args.dnsperf_seconds), "-c", "8", "-T", "2", "-q", "200"]
    with Meter(world) as meter:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.limit_s)
    qps = re.search(r"Queries per second:\s+([\d.]+)", done.stdout)
    lost = re.search(r"Queries lost:\s+(\d+)", done.stdout)
    return {
        **meter.row(),
        "qps": float(qps.group(1)) if qps else 0.0,
        "lost": int(lost.group(1)) if lost else -1,
        "address": address,
    }


# -- the report -----------------------------------------------------------------------------------


def fmt_found(judged: dict) -> str:
    per = judged.get("per_fault", {})
    if not per:
        return "—"
    return f"{sum(v['found'] for v in per.values())}/{len(per)}"


def report(world: World, results: dict, args: argparse.Namespace) -> str:
    now = dt.datetime.now(dt.UTC)
    load = os.getloadavg()
    mon = results.get("monitor", {})
    lines = [
        "## Monitor sweep: the whole simulated ccTLD world (issue 11)",
        "",
        "**Requirement**: every check over all 309 ccTLDs in at most timeout × tries + 3 s of wall "
        "time and at least 50 times faster than zonemaster-cli, at most 0.5 ms of CPU per query, "
        "every injected fault found, no false alarm.",
        "",
    ]
    if "error" in mon:
        lines += [f"**Result: not measured** — `tldops monitor sweep` {mon['error']}.", ""]
    elif mon:
        q = mon["queries"] or mon["own_stats"].get("queries", 0)  # counted at the servers
        cpu = mon["own_stats"].get("cpu_s", mon["cpu_s"])
        bound = args.timeout * args.tries + 3
        zm = results.get("zonemaster", {})
        own_wall = mon["own_stats"].get("wall_s", mon["wall_s"])
        # Both ways: the sweep itself (what the bound is about), and the whole command with
        # Python's and Django's start-up (what a person typing it waits).
        ratio = zm.get("wall_s", 0) / own_wall if own_wall and zm else 0
        whole = zm.get("wall_s", 0) / mon["wall_s"] if mon["wall_s"] and zm else 0
        judged = results["monitor_judged"]
        met = (
            own_wall <= bound
            and (not zm or ratio >= 50)
            and q
            and cpu / q * 1000 <= 0.5
            and all(v["found"] for v in judged.get("per_fault", {}).values())
            and not judged.get("false_alarms")
        )
        versus = (
            f"{ratio:.0f}× faster than zonemaster-cli ({whole:.0f}× for the whole command, "
            f"start-up of {mon['wall_s'] - own_wall:.1f} s included"
            + (", not 50×)" if whole < 50 else ")")
            if zm
            else "zonemaster-cli not run"
        )
        lines += [
            f"**Result: {'met' if met else 'NOT met'}** — sweep "
            f"{own_wall:.2f} s wall (bound {bound:.1f} s; {mon['wall_s']:.2f} s for the whole "
            f"command), {cpu / q * 1000 if q else 0:.3f} ms CPU per query, {versus}, faults found "
            f"{fmt_found(judged)}, false alarms {len(judged.get('false_alarms', []))}.",
            "",
        ]
    lines += [
        f"Measured {now:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs "
        f"({cpu_model() or platform.machine()}), Python {platform.python_version()}; load average "
        f"before the run {results['load'][0]:.2f}, after {load[0]:.2f}. World: "
        f"{len(world.specs)} ccTLDs, {sum(len(s.servers) for s in world.specs):,} NS records, "
        f"{len(world._hosts):,} hosts, {sum(s.signed for s in world.specs)} signed "
        f"(ECDSAP256SHA256, ldns-signzone), faults: "
        + (", ".join(f"{s.fault} (.{s.name})" for s in world.specs if s.fault) or "none")
        + f"; built and signed in {world.build_s:.1f} s, answering after {world.start_s:.1f} s; "
        f"port {world.port}. Monitor timeout {args.timeout} s × {args.tries} tries.",
        "",
        "| Tool | zones | wall s | CPU s | queries (at the servers) | CPU ms / query | faults found |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]

    def row(name: str, r: dict, zones: int, judged: dict | None) -> None:
        if not r or "error" in r:
            lines.append(f"| {name} | {zones} | — | — | — | — | {r.get('error', 'not run')} |")
            return
        per_q = r["cpu_s"] / r["queries"] * 1000 if r["queries"] else 0
        lines.append(
            f"| {name} | {zones} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['queries']:,} | "
            f"{per_q:.3f} | {fmt_found(judged or {})} |"
        )

    row("`tldops monitor sweep`", mon, len(world.specs), results.get("monitor_judged"))
    if mon.get("own_stats"):
        s = mon["own_stats"]
        lines.append(
            f"| … its own stats (sweep only, no start-up) | {s.get('zones', 0)} | "
            f"{s.get('wall_s', 0):.2f} | {s.get('cpu_s', 0):.2f} | {s.get('queries', 0):,} | "
            f"{s.get('cpu_s', 0) / s['queries'] * 1000 if s.get('queries') else 0:.3f} | |"
        )
    zm = results.get("zonemaster", {})
    row(
        f"zonemaster-cli, {args.zonemaster_parallel} at a time",
        zm,
        zm.get("zones", 0),
        results.get("zonemaster_judged"),
    )
    dv = results.get("dnsviz", {})
    row("dnsviz probe + grok", dv, dv.get("zones", 0), results.get("dnsviz_judged"))
    perf = results.get("dnsperf", {})
    if perf:
        lines.append(
            f"| dnsperf → NSD ({args.dnsperf_seconds} s, SOA of every zone, one address) | | "
            f"{perf['wall_s']:.2f} | {perf['cpu_s']:.2f} | {perf['queries']:,} | "
            f"{perf['cpu_s'] / perf['queries'] * 1000 if perf['queries'] else 0:.3f} | "
            f"**{perf['qps']:,.0f} queries/s** |"
        )
    slowest = ""
    if zm.get("slowest"):
        slowest = (
            f"zonemaster-cli's slowest zone took {zm['slowest'][0]:.1f} s (.{zm['slowest'][1]})."
        )
    lines += ["", "Per fault (codes or tags each tool gave for the faulty ccTLD):", ""]
    lines += ["| fault | ccTLD | tldops | zonemaster-cli | dnsviz |", "|---|---|---|---|---|"]
    for fault in FAULTS:
        cells = []
        tld = ""
        for key in ("monitor_judged", "zonemaster_judged", "dnsviz_judged"):
            v = results.get(key, {}).get("per_fault", {}).get(fault)
            if v is None:
                cells.append("—")
                continue
            tld = v["tld"]
            mark = "found" if v["found"] else "missed"
            cells.append(f"{mark}: {', '.join(v['codes'][:4]) or '—'}")
        if tld:
            lines.append(f"| {fault} | .{tld} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "*Wall* measured by this script; *CPU* user + system of the tool's processes; *queries* "
        "counted by the world's NSDs (`nsd-control stats_noreset`, root and ccTLD servers, plus "
        "packets the dropping socket swallowed), the same for every tool (the Unbound of the "
        "open-recursion fault is not counted). The `tldops` row includes starting Python and "
        "Django; its *own stats* row is what the sweep reports. A peer *finds* a fault when it "
        "reports a message about the faulty server (or zone) of a kind it reports for no "
        "healthy zone; the peers also flag what the loopback world makes true for every zone "
        "(private addresses, no reverse DNS, no IPv6), which is not counted. " + slowest,
        "",
        "Reproduce (as root, port 53 of 127.x addresses must be free): "
        "`.venv/bin/python bench/monitor_sweep.py` (`--no-faults`, `--zonemaster-limit N`, "
        "`--skip zonemaster,dnsviz,dnsperf`, `--no-docs`, `--json FILE`); see bench/README.md.",
    ]
    return "\n".join(lines)


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tlds", type=int, default=309)
    parser.add_argument("--ns-records", type=int, default=1543)
    parser.add_argument("--hosts", type=int, default=1098)
    parser.add_argument("--signed", type=int, default=221)
    parser.add_argument("--no-faults", action="store_true", help="a world without faults")
    parser.add_argument("--port", type=int, default=53, help="53: the peers cannot ask another")
    parser.add_argument("--timeout", type=float, default=1.0, help="the monitor's, per try")
    parser.add_argument("--tries", type=int, default=2)
    parser.add_argument("--zonemaster-parallel", type=int, default=2)
    parser.add_argument("--zonemaster-limit", type=int, default=0, help="first N zones (0: all)")
    parser.add_argument("--zone-timeout", type=float, default=600, help="per zonemaster-cli run")
    parser.add_argument("--dnsviz-threads", type=int, default=16)
    parser.add_argument("--dnsviz-venv", type=Path, default=ROOT / "var" / "bench-venv")
    parser.add_argument("--dnsperf-seconds", type=int, default=10)
    parser.add_argument(
        "--skip", default="", help="comma-separated: monitor,zonemaster,dnsviz,dnsperf"
    )
    parser.add_argument("--limit-s", type=float, default=3600, help="bound on any one command")
    parser.add_argument("--monitor-cmd", default="", help=argparse.SUPPRESS)  # a stub, for testing
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, interrupted)  # stop the world's servers on SIGTERM too
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    ensure_debs(["nsd"] + [n for n in ("zonemaster-cli", "dnsperf") if n.split("-")[0] not in skip])
    dnsviz = None if "dnsviz" in skip else ensure_dnsviz(args.dnsviz_venv)
    work = Path(tempfile.mkdtemp(prefix="tldops-bench-monitor-"))
    labels = prepare_data(work / "data")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), TLDOPS_DATA_DIR=str(work / "data"))
    faults = {}
    if not args.no_faults:  # spread over the alphabet, never the first (its address is dnsperf's)
        step = max(1, min(args.tlds, len(labels)) // (len(FAULTS) + 1))
        faults = {sorted(labels)[step * (i + 1)]: f for i, f in enumerate(FAULTS)}
    world = World.generate(
        labels,
        n_tlds=args.tlds,
        ns_records=args.ns_records,
        hosts=args.hosts,
        signed=args.signed,
        faults=faults,
        workdir=work / "world",
        port=args.port,
        root_addresses=("127.53.255.1", "127.53.255.2", "127.53.255.3"),
    )
    results: dict = {"load": os.getloadavg()}
    try:
        world.start()
        print(
            f"world: built {world.build_s:.1f} s, answering after {world.start_s:.1f} s",
            file=sys.stderr,
        )
        zones = [s.name for s in world.specs]
        if "monitor" not in skip:
            results["monitor"] = run_monitor(world, args, env)
            results["monitor_judged"] = judge_monitor(world, results["monitor"])
            print(f"monitor: {results['monitor'].get('error', 'done')}", file=sys.stderr)
        if "zonemaster" not in skip:
            chosen = zones[: args.zonemaster_limit] if args.zonemaster_limit else zones
            if args.zonemaster_limit:  # keep the faulty zones in a subset
                chosen = sorted(set(chosen) | set(world.expected))
            results["zonemaster"] = run_zonemaster(world, chosen, args)
            results["zonemaster_judged"] = judge_peer(world, results["zonemaster"]["messages"])
            print(f"zonemaster: {results['zonemaster']['wall_s']:.1f} s", file=sys.stderr)
        if dnsviz is not None:
            results["dnsviz"] = run_dnsviz(world, zones, dnsviz, args, work)
            results["dnsviz_judged"] = judge_peer(world, results["dnsviz"]["messages"])
            print(f"dnsviz: {results['dnsviz']['wall_s']:.1f} s", file=sys.stderr)
        if "dnsperf" not in skip:
            results["dnsperf"] = run_dnsperf(world, args, work)
        body = report(world, results, args)
    finally:
        world.stop()
        if args.json:
            args.json.write_text(json.dumps(results, indent=1, default=str))
        if args.keep:
            print(f"work directory kept: {work}", file=sys.stderr)
        else:
            with contextlib.suppress(OSError):
                shutil.rmtree(work)
    print(body)
    measured = "error" not in results.get("monitor", {})
    full = measured and not skip and not args.zonemaster_limit and args.tlds == 309
    if not args.no_docs and full:
        write_section(BEGIN, END, body)
    elif not args.no_docs:
        print("(a partial or failed run: docs/benchmarks.md not written)", file=sys.stderr)


if __name__ == "__main__":
    main()
