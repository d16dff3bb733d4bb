"""Benchmark: the coverage page, the member directory, the alert pages and the API under load.

    .venv/bin/python bench/load_directory.py            # full run, writes docs/benchmarks.md
    .venv/bin/python bench/load_directory.py --duration 3 --no-docs   # a quick look

One run:
1. seeds two fresh data directories (temporary, under --workdir) through bench/seed.py: 100 and
   1,000 active members over the 309 delegated ccTLDs, with 10 alerts a member (1,000 and
   10,000; issue 10) and 20 members signed in, one for each client;
2. counts the SQL queries of each page in both (bench/queries.py): they must be equal (no N+1);
3. starts ``tldops run`` on the 1,000-member directory, on free loopback ports, and waits for it;
4. for each page runs ``wrk -t2 -c20 -d15s`` (after a short unrecorded warm-up) with
   bench/wrk_report.lua, which prints p50/p95/p99 and requests/s as JSON; the alert pages go
   through the 20 members' sessions (or API tokens) in turn, each with alerts that member may
   read, TLP:RED ones that named them included;
5. stops the server (SIGTERM to the process group it started) and writes the results into the
   sections of docs/benchmarks.md between the ``directory-load`` and ``alerts-load`` markers.

Everything talks to 127.0.0.1 only and runs for fixed durations. Needs wrk (``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LUA = BENCH / "wrk_report.lua"
P95_BUDGET_MS = 100.0
IDS_HINT = "eight to ten"  # seed.py: IDS_PER_CLIENT community alerts + up to RED_PER_CLIENT RED
SEQUENTIAL = 5  # requests timed one at a time before the load
WRK_TIMEOUT = "30s"  # slower answers count as timeouts and leave wrk's latency statistics
START = "<!-- directory-load:start (written by bench/load_directory.py) -->"
END = "<!-- directory-load:end -->"
ALERTS_START = "<!-- alerts-load:start (written by bench/load_directory.py) -->"
ALERTS_END = "<!-- alerts-load:end -->"

sys.path.insert(0, str(BENCH))
import report  # noqa: E402
from queries import ALERT_PAGES, PAGES  # noqa: E402  (the same pages, counted in-process)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_env(data_dir: Path, members: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TLDOPS_")}
    env.update(
        TLDOPS_DATA_DIR=str(data_dir),
        # 1,000 members over 309 ccTLDs is 4 for some: above the default limit of 3 (seed.py).
        TLDOPS_MAX_CONTACTS_PER_CCTLD=str(max(3, -(-members // 309))),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def run_json(cmd: list[str], env: dict[str, str], *, timeout: float) -> dict:
    done = subprocess.run(
        cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"bench: {' '.join(cmd[:3])} failed with exit code {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def seed(data_dir: Path, members: int, alerts: int = 0, clients: int = 0) -> dict:
    saved = data_dir / "seed.json"  # what seed.py printed, so that --reuse can skip seeding
    if saved.exists():
        log(f"reusing the {members} members seeded in {data_dir}")
        return json.loads(saved.read_text())
    log(f"seeding {members} members, {alerts} alerts into {data_dir}")
    env = bench_env(data_dir, members)
    cmd = [sys.executable, str(BENCH / "seed.py"), "--members", str(members)]
    cmd += ["--alerts", str(alerts), "--clients", str(clients)]
    result = run_json(cmd, env, timeout=1800)
    log(
        f"  {result['members']} active members, {result.get('alerts', 0)} alerts "
        f"in {result['seconds']} s"
    )
    saved.write_text(json.dumps(result))
    return result


def count_queries(data_dir: Path, members: int, seeded: dict) -> dict:
    env = bench_env(data_dir, members)
    cmd = [
        sys.executable,
        str(BENCH / "queries.py"),
        "--cookie",
        seeded["session_cookie"],
        "--token",
        seeded["api_token"],
    ]
    if seeded.get("clients"):  # the detail pages: an alert the first client may read
        first = seeded["clients"][0]
        cmd = [*cmd[:2], "--cookie", first["session_cookie"], "--token", first["api_token"]]
        cmd += ["--alert", str(first.get("plain_alert") or first["alert_ids"][0])]
    return run_json(cmd, env, timeout=600)


# --- The server ------------------------------------------------------------------------------------


class Server:
    """``tldops run`` in its own process group, on free loopback ports, logging to a file."""

    def __init__(self, data_dir: Path, members: int, log_path: Path, command: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = bench_env(
            data_dir,
            members,
            TLDOPS_WEB_LISTEN=f"127.0.0.1:{self.port}",
            TLDOPS_SMTP_LISTEN=f"127.0.0.1:{free_port()}",
            TLDOPS_LMTP_LISTEN=f"127.0.0.1:{free_port()}",
            TLDOPS_BASE_URL=f"http://127.0.0.1:{self.port}",
            TLDOPS_MONITOR_ENABLED="false",  # no sweeps of the Internet during the load
        )
        # "tldops run" by default; {port} in another command is replaced (e.g. to compare servers).
        self.command = command
        words = shlex.split(command.format(port=self.port))
        if words[0] == "tldops":
            words = [sys.executable, "-m", "tldops", *words[1:]]
        self.cmd = words
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> None:
        log(f"starting {self.command} on {self.base}")
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.cmd,
            env=self.env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(
                    f"bench: tldops run exited with code {self.proc.returncode}; "
                    f"see {self.log_path}:\n{self.log_path.read_text(errors='replace')[-3000:]}"
                )
            try:
                with urllib.request.urlopen(self.base + "/", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        self.stop()
        raise SystemExit(f"bench: tldops run did not answer on {self.base} within {timeout} s")

    def _group_stats(self) -> list[list[str]]:
        """/proc/PID/stat fields (from field 3 on) of every process in the server's group."""
        if self.proc is None:
            return []
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # field 5 of stat, the process group
                found.append(fields)
        return found

    def processes(self) -> int:
        """How many processes the server's process group has (web workers, the supervisor …)."""
        return len(self._group_stats())

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the processes of the server's group.

        Unlike latency, the CPU time a request costs hardly depends on what else the machine
        runs: it tells what the server would do on an idle machine when the machine is busy.
        """
        ticks = os.sysconf("SC_CLK_TCK")
        return sum(int(f[11]) + int(f[12]) for f in self._group_stats()) / ticks  # utime, stime

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        log("stopping the server (SIGTERM)")
        os.killpg(self.proc.pid, signal.SIGTERM)  # the group this script started, by its id
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._log.close()


# --- Load ------------------------------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def headers_for(auth: str, seeded: dict) -> dict[str, str]:
    if auth == "session":
        return {"Cookie": seeded["session_cookie"]}
    if auth == "token":
        return {"Authorization": f"Bearer {seeded['api_token']}"}
    return {}


def request_lines(path: str, auth: str, seeded: dict) -> list[tuple[str, str, str]]:
    """(path, header name, value) of every request an alert page's load goes through: each
    client's member with that member's session or token, and for ``{alert}`` each alert that
    member may read (seed.py chose them with ``alerts.access.visible_to``)."""
    per_client = []
    for client in seeded.get("clients", []):
        name, value = (
            ("Cookie", client["session_cookie"])
            if auth == "session"
            else ("Authorization", f"Bearer {client['api_token']}")
        )
        ids = client["alert_ids"] if "{alert}" in path else [None]
        per_client.append([(path.format(alert=i), name, value) for i in ids])
    # Interleaved: consecutive requests (and so concurrent ones) are different members'.
    return [line for row in itertools.zip_longest(*per_client) for line in row if line]


def check_page(url: str, headers: dict[str, str], *, timeout: float = 120) -> tuple[int, int]:
    """Status and size of one request, redirects not followed: a login redirect is not a page."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, len(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, 0


def wrk(
    url: str,
    headers: dict[str, str],
    *,
    threads: int,
    connections: int,
    seconds: int,
    requests_file: Path | None = None,
) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", WRK_TIMEOUT]
    cmd += ["-s", str(LUA)]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(url)
    env = dict(os.environ)
    if requests_file is not None:  # wrk_report.lua goes through its lines instead of the URL
        env["TLDOPS_WRK_REQUESTS"] = str(requests_file)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=seconds + 120, check=False, env=env
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for line in done.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            result = json.loads(line.removeprefix("WRK_JSON "))
            result["wrk_cpu_seconds"] = round(
                after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3
            )
            return result
    raise SystemExit(
        f"bench: wrk gave no result (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    )


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    log("wrk is missing; installing it with apt-get")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], check=True)


# --- Machine and versions --------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = report.cpu_model() or "unknown"
    ram = "unknown"
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        ram = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
    }


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"Python": platform.python_version(), "SQLite": sqlite3.sqlite_version}
    for dist in ("Django", "django-ninja", "gunicorn", "tldops"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    first = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    out["wrk"] = (first.stdout or first.stderr).splitlines()[0].split(" [")[0].removeprefix("wrk ")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    out["tldops commit"] = commit.stdout.strip() or "unknown"
    return out


# --- Report ----------------------------------------------------------------------------------------

LABELS = {
    "alerts": "Alert list `/alerts/` (member sessions; first page of 50)",
    "alerts_filtered": "Alert list `/alerts/?tld=fr&status=open` (member sessions)",
    "alert": "An alert `/alerts/<id>/` (member sessions; alerts each may read)",
    "api_alerts": "API `/api/v1/alerts` (tokens; default page of 100)",
    "api_alert": "API `/api/v1/alerts/{id}` (tokens; alerts each may read)",
    "coverage": "Coverage page `/` (public)",
    "directory": "Directory page `/directory/` (member session)",
    "api_contacts": "API `/api/v1/directory/contacts` (token; default page of 100)",
    "api_contacts_all": "API `/api/v1/directory/contacts?limit=1000` (token; all 1,000)",
}


def load_rows(results: dict, names: list[str]) -> list[str]:
    """The rows of the load table, one for each page of ``names``."""
    cfg = results["config"]
    lines = []
    for name, r in ((n, results["load"][n]) for n in names):
        if "error" in r:
            lines.append(f"| {LABELS.get(name, name)} | {r['error']} | | | | | | | | | | | |")
            continue
        errors = sum(r["errors"].values())
        if not r["requests"]:
            lines.append(
                f"| {LABELS.get(name, name)} | {r['check_status']}, {r['check_bytes'] / 1024:.0f} KiB "
                f"| {r['alone_ms']:.0f} | no answer within {cfg['seconds']} s | | | | 0 | 0 "
                f"| {errors} | | | |"
            )
            continue
        cpu = (
            f" {r['server_cpu_ms']:.1f} | {r['wrk_cpu_ms']:.2f} "
            f"| {r['load_average'][0]:.1f} → {r['load_average'][1]:.1f} |"
            if "server_cpu_ms" in r
            else " | | |"
        )
        lines.append(
            f"| {LABELS.get(name, name)} | {r['check_status']}, {r['check_bytes'] / 1024:.0f} KiB "
            f"| {r['alone_ms']:.0f} | {r['p50_ms']:.1f} | **{r['p95_ms']:.1f}** | {r['p99_ms']:.1f} | {r['max_ms']:.0f} "
            f"| {r['rps']:.0f} | {r['requests']} | {errors} |{cpu}"
        )
    return lines


def render(results: dict) -> str:
    cfg = results["config"]
    lines = [
        "## Directory, coverage and API under load",
        "",
        "**Requirement** (issue 2): with 1,000 members across the 309 delegated ccTLDs, the public "
        "coverage page, the member directory page and the API's directory listing answer with "
        f"p95 below {P95_BUDGET_MS:.0f} ms under {cfg['connections']} concurrent clients against "
        "`tldops run`, and the number of SQL queries per page does not grow with the number of members.",
        "",
        f"**Result: {results['verdict']}**",
        "",
        f"Measured {results['date']} on: {results['machine']['cpus']} CPUs "
        f"({results['machine']['cpu']}), {results['machine']['ram']} RAM, {results['machine']['os']}. "
        "The load generator (wrk) runs on the same machine and competes with the server for the "
        "CPUs. Load average before the run: "
        + ", ".join(f"{x:.2f}" for x in results["load_average"])
        + ". Database: the embedded default, SQLite in WAL mode.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()) + ".",
        "",
        f"Server: `{cfg['server_cmd']}` (web processes: {results['web_workers'] or 'one'}, "
        f"the default of one per CPU unless the command says otherwise; processes in its group: "
        f"{results['server_processes']}), "
        "data seeded by `bench/seed.py` through the real directory services; "
        f"{results['seed']['members']:,} active members, {results['seed']['max_contacts_per_cctld']} "
        "contacts at most per ccTLD (`TLDOPS_MAX_CONTACTS_PER_CCTLD=4` for this data set: 1,000 "
        "members do not fit in 309 × 3).",
        "",
        f"Load: `wrk -t{cfg['threads']} -c{cfg['connections']} -d{cfg['seconds']}s "
        f"--timeout {WRK_TIMEOUT} -s bench/wrk_report.lua URL` per page, after "
        f"{cfg['warmup']} unrecorded sequential requests; the directory page with a member's "
        "session cookie, the API with a member's bearer token. wrk keeps every client busy "
        "(closed loop): a request's latency includes its wait behind the others. *Alone* is the "
        f"median of {SEQUENTIAL} requests made one at a time just before the load: the service "
        "time, the floor under every latency measured with 20 clients.",
        "",
        "*CPU ms/req* is the CPU time the server's processes (all of them) used per request "
        "during the load, *wrk CPU* the load generator's; *load* the 1-minute load average "
        "before and after the page's load (other work on the machine shows there).",
        "",
        "| Page | Answer | alone ms | p50 ms | p95 ms | p99 ms | max ms | req/s | requests "
        "| non-2xx/errors | CPU ms/req | wrk CPU ms/req | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    lines += load_rows(results, [n for n in results["load"] if n not in ALERT_PAGES])
    sizes = sorted(results["queries"], key=int)
    lines += [
        "",
        "SQL queries per request (Django test client in-process on the same database, counted "
        "with `CaptureQueriesContext` by `bench/queries.py`): *built* is a request after the "
        "cache was emptied (the page made from the database), *cached* the same request again "
        "(the rendered fragment or API page kept under the directory version):",
        "",
        "| Page | "
        + " | ".join(f"built, {n} members" for n in sizes)
        + " | "
        + " | ".join(f"cached, {n} members" for n in sizes)
        + " | constant |",
        "|---|" + "---:|" * (2 * len(sizes)) + "---|",
    ]
    for name, _path, _auth in [p for p in PAGES if p[0] not in ALERT_PAGES]:
        cells, constant = [], True
        for kind in ("queries", "queries_cached"):
            counts = [results["queries"][n].get(name, {}).get(kind) for n in sizes]
            cells += [str(c) if c is not None else "error" for c in counts]
            constant = constant and None not in counts and len(set(counts)) == 1
        verdict = "yes" if constant else "**no**"
        lines.append(f"| {LABELS.get(name, name)} | " + " | ".join(cells) + f" | {verdict} |")
    lines += [
        "",
        "Reproduce: `.venv/bin/python bench/load_directory.py` (see `bench/README.md`); raw "
        "numbers: `--json FILE`.",
    ]
    return "\n".join(lines) + "\n"


def render_alerts(results: dict) -> str:
    """The section of the alert pages (issue 10)."""
    cfg, seed_ = results["config"], results["seed"]
    names = [n for n in results["load"] if n in ALERT_PAGES]
    clients = seed_.get("clients", [])
    lines = [
        "## Alert pages under load",
        "",
        f"**Requirement** (issue 10): the alert list and detail pages with 10,000 alerts and "
        f"1,000 members, {cfg['connections']} concurrent clients, p95 below "
        f"{P95_BUDGET_MS:.0f} ms.",
        "",
        f"**Result: {results['alerts_verdict']}**",
        "",
        f"Measured {results['date']} in the same run as the directory above (same machine: "
        f"{results['machine']['cpus']} CPUs, {results['machine']['cpu']}; same server, "
        f"`{cfg['server_cmd']}`, SQLite in WAL mode; load average before the run "
        + ", ".join(f"{x:.2f}" for x in results["load_average"])
        + ").",
        "",
        f"Data (`bench/seed.py --alerts`): {seed_.get('alerts', 0):,} alerts raised through "
        f"`alerts.services.raise_alert` by the {seed_['members']:,} members, "
        f"{seed_.get('red_alerts', 0)} of them TLP:RED naming one to four members, the rest "
        "CLEAR, GREEN, AMBER and AMBER+STRICT; every category and severity, one to four "
        "affected ccTLDs (.fr in one alert in eight), indicators on a third; dates over the "
        f"past year, a third monitoring or resolved; {seed_.get('reactions', 0):,} reactions.",
        "",
        f"Clients: {len(clients)} different members, each signed in (a session for the pages, "
        "an API token for the API). wrk's requests go through the members in turn (consecutive "
        "and concurrent requests are different members'), each with its own cookie or token; "
        "the detail pages with "
        f"{IDS_HINT} alerts each member may read (chosen with `alerts.access.visible_to`, "
        "the RED ones that named them included). Every member/page pair is checked to answer "
        "200 before the load. Columns as in the directory's table; *pairs* is the number of "
        "different member/page requests the load goes through.",
        "",
        "The alert pages and answers are kept in the cache per reader, never shared (TLP; "
        'docs/alerts.md, "Cached per reader, never shared"): under this load each client\'s '
        "pages are built once, then served from that client's own entries until something "
        "changes. What building one costs is the query count below; in time, in-process on "
        "the same data just before the cache was added (`bench/profile_pages.py`), about 6 ms "
        "for the list, 10 ms for the filtered list and 6 ms for an alert's page.",
        "",
        "| Page | Answer | pairs | alone ms | p50 ms | p95 ms | p99 ms | max ms | req/s | "
        "requests | non-2xx/errors | CPU ms/req | wrk CPU ms/req | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in zip(names, load_rows(results, names), strict=True):
        pairs = results["load"][name].get("pairs", "")
        head, sep, rest = row.partition(" | ")  # the page's label, then the answer ...
        answer, sep2, rest = rest.partition(" | ")
        lines.append(f"{head} | {answer} | {pairs} | {rest}" if sep and sep2 else row)
    sizes = sorted(results["queries"], key=int)
    lines += [
        "",
        "SQL queries per request when the page is *built* (`bench/queries.py`, in-process, the "
        "cache emptied first), with 10 alerts a member in both data sets:",
        "",
        "| Page | "
        + " | ".join(
            f"{int(n):,} members, {int(n) * results['config'].get('alerts_per_member', 10):,} alerts"
            for n in sizes
        )
        + " | constant |",
        "|---|" + "---:|" * len(sizes) + "---|",
    ]
    for name in [p[0] for p in PAGES if p[0] in ALERT_PAGES]:
        counts = [results["queries"][n].get(name, {}).get("queries") for n in sizes]
        constant = None not in counts and len(set(counts)) == 1
        cells = [str(c) if c is not None else "error" for c in counts]
        lines.append(
            f"| {LABELS.get(name, name)} | "
            + " | ".join(cells)
            + f" | {'yes' if constant else '**no**'} |"
        )
    lines += [
        "",
        "Reproduce: `.venv/bin/python bench/load_directory.py` (both sections; see "
        "`bench/README.md`).",
    ]
    return "\n".join(lines) + "\n"


def write_docs(results: dict) -> None:
    """The directory's section, and the alert pages' one when this run loaded them."""
    report.write_section(START, END, render(results))
    if any(name in ALERT_PAGES for name in results["load"]):
        report.write_section(ALERTS_START, ALERTS_END, render_alerts(results))
    log(f"wrote {report.DOCS.relative_to(ROOT)}")


def verdict(results: dict, names: list[str]) -> str:
    """ "met — …" when every page of ``names`` answered, with p95 below the budget, no error and
    the same number of queries in both data sets; "not met — " and why otherwise."""
    load = {n: r for n, r in results["load"].items() if n in names}
    if not load:
        return "not measured (no such page in this run)."
    loaded = [r for r in load.values() if "error" not in r]
    over = [
        n
        for n, r in load.items()
        if "error" in r or not r["requests"] or r["p95_ms"] >= P95_BUDGET_MS
    ]
    failed = [n for n, r in load.items() if "error" not in r and sum(r["errors"].values())]
    growing = []
    for kind in ("queries", "queries_cached"):
        for name in names:
            counts = {results["queries"][n].get(name, {}).get(kind) for n in results["queries"]}
            if counts and (None in counts or len(counts) != 1) and name not in growing:
                growing.append(name)
    if loaded and not over and not failed and not growing:
        return f"met — p95 below {P95_BUDGET_MS:.0f} ms on every page, queries per page constant."
    parts = []
    if over:
        parts.append("p95 at or above the budget (or page not loaded): " + ", ".join(over))
    if failed:
        parts.append("errors or non-2xx answers: " + ", ".join(failed))
    if growing:
        parts.append("query count not constant (or page failed): " + ", ".join(growing))
    return "not met — " + "; ".join(parts) + "."


# --- Main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000, help="members for the load test")
    parser.add_argument("--small", type=int, default=100, help="members of the second query count")
    parser.add_argument(
        "--alerts-per-member",
        type=int,
        default=10,
        help="alerts seeded per member (10: 10,000 alerts with 1,000 members)",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=20, help="concurrent clients")
    parser.add_argument("--duration", type=int, default=15, help="seconds of load per page")
    parser.add_argument(
        "--warmup", type=int, default=5, help="unrecorded sequential requests before each page"
    )
    parser.add_argument(
        "--server-cmd",
        default="tldops run",
        help="the server to load (default: tldops run); {port} is replaced by the chosen port",
    )
    parser.add_argument("--workdir", type=Path, help="where the data directories go (default: tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the data directories afterwards")
    parser.add_argument(
        "--reuse",
        type=Path,
        metavar="DIR",
        help="reuse the data directories a --keep run left in DIR instead of seeding new ones "
        "(kept afterwards)",
    )
    parser.add_argument(
        "--pages",
        help="only these pages, comma-separated (" + ", ".join(p[0] for p in PAGES) + ")",
    )
    parser.add_argument(
        "--no-queries", action="store_true", help="skip the query count (quick comparisons)"
    )
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--json", type=Path, help="also write the raw results to this file")
    parser.add_argument(
        "--render-json",
        type=Path,
        metavar="FILE",
        help="run nothing: rewrite the docs section from the results a --json run saved",
    )
    args = parser.parse_args(argv)
    if args.render_json:
        results = json.loads(args.render_json.read_text())
        write_docs(results)
        return 0 if results["verdict"].startswith("met") else 1

    ensure_wrk()
    if args.reuse:
        workdir = args.reuse.resolve()
        args.keep = True
    else:
        workdir = Path(tempfile.mkdtemp(prefix="tldops-bench-", dir=args.workdir))
    log(f"working in {workdir}")
    pages = [p for p in PAGES if not args.pages or p[0] in args.pages.split(",")]
    results: dict = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_average": os.getloadavg(),
        "versions": versions(),
        "queries": {},
        "load": {},
    }
    server = None
    try:
        seeded = {}
        for n in sorted({args.members} if args.no_queries else {args.small, args.members}):
            data_dir = workdir / f"members-{n}"
            seeded[n] = seed(data_dir, n, n * args.alerts_per_member, args.connections)
            if args.no_queries:
                continue
            results["queries"][str(n)] = count_queries(data_dir, n, seeded[n])
            summary = {
                k: (v["queries"], v["queries_cached"]) if "queries" in v else v.get("error")
                for k, v in results["queries"][str(n)].items()
            }
            log(f"  queries per page (built, cached) at {n} members: {summary}")
        big = seeded[args.members]
        results["seed"] = big

        server = Server(
            workdir / f"members-{args.members}",
            args.members,
            workdir / "server.log",
            args.server_cmd,
        )
        server.start()
        time.sleep(3)  # web worker processes still starting are counted too
        results["server_processes"] = server.processes()
        banner = re.search(r"(\d+) web process", server.log_path.read_text(errors="replace"))
        results["web_workers"] = int(banner.group(1)) if banner else None
        results["config"] = {
            "threads": args.threads,
            "connections": args.connections,
            "seconds": args.duration,
            "warmup": args.warmup,
            "server_cmd": args.server_cmd,
            "alerts_per_member": args.alerts_per_member,
        }
        for name, path, auth in pages:
            requests_file = None
            if name in ALERT_PAGES:
                # One member per client: the requests go through the members' sessions (tokens)
                # and the alerts each may read; every one is checked to answer 200 first.
                lines = request_lines(path, auth, big)
                requests = [(server.base + p, {h: v}) for p, h, v in lines]
                requests_file = workdir / f"requests-{name}.tsv"
                requests_file.write_text("".join(f"{p}\t{h}: {v}\n" for p, h, v in lines))
            else:
                requests = [(server.base + path, headers_for(auth, big))]
            url, headers = requests[0]
            checked = [check_page(u, h) for u, h in requests]
            status, size = checked[0]
            wrong = [
                (u, st) for (u, _h), (st, _size) in zip(requests, checked, strict=True) if st != 200
            ]
            if wrong:
                log(f"{name}: {wrong[0][0]} answers {wrong[0][1]}, not 200; not loaded")
                results["load"][name] = {"error": f"HTTP {wrong[0][1]}"}
                continue
            size = sorted(size for _st, size in checked)[len(checked) // 2]  # the median
            log(
                f"{name}: {path} ({size} bytes, {len(requests)} member/page pairs): "
                f"{args.warmup} warm-up requests, {args.duration} s load"
            )
            for i in range(args.warmup):  # sequential: nothing left queued in the server
                check_page(*requests[i % len(requests)])
            # Service time: one client, one request at a time; 20 clients wait about 20 times this.
            alone = []
            for i in range(SEQUENTIAL):
                started = time.monotonic()
                check_page(*requests[(i * 7) % len(requests)])
                alone.append((time.monotonic() - started) * 1000)
            cpu_before, load_before = server.cpu_seconds(), os.getloadavg()[0]
            r = wrk(
                url,
                headers,
                threads=args.threads,
                connections=args.connections,
                seconds=args.duration,
                requests_file=requests_file,
            )
            # wrk stops with requests still queued in the server; let them finish before the next page.
            drained = time.monotonic()
            check_page(url, headers, timeout=600)
            r["drain_seconds"] = round(time.monotonic() - drained, 1)
            # CPU per request, the server's and wrk's: the drain adds its few requests to the
            # server's time, not to wrk's count; that errs on the side of a dearer request.
            r["server_cpu_ms"] = (server.cpu_seconds() - cpu_before) * 1000 / max(1, r["requests"])
            r["wrk_cpu_ms"] = r["wrk_cpu_seconds"] * 1000 / max(1, r["requests"])
            r["load_average"] = [load_before, os.getloadavg()[0]]
            r.update(
                check_status=status,
                check_bytes=size,
                alone_ms=sorted(alone)[len(alone) // 2],
                pairs=len(requests),
            )
            results["load"][name] = r
            log(
                f"  alone {r['alone_ms']:.0f} ms; under load p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
                f"{r['rps']:.0f} req/s, errors {r['errors']}; CPU per request: server "
                f"{r['server_cpu_ms']:.2f} ms, wrk {r['wrk_cpu_ms']:.2f} ms; load average "
                f"{r['load_average'][0]:.1f} → {r['load_average'][1]:.1f}"
            )
    finally:
        if server is not None:
            server.stop()

    directory_pages = [p[0] for p in pages if p[0] not in ALERT_PAGES]
    alert_pages = [p[0] for p in pages if p[0] in ALERT_PAGES]
    results["verdict"] = verdict(results, directory_pages)
    results["alerts_verdict"] = verdict(results, alert_pages)
    log("alert pages: " + results["alerts_verdict"])
    log(results["verdict"])

    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    if not args.no_docs:
        if args.pages or args.no_queries:
            log("not writing the docs: --pages/--no-queries make a partial run")
        else:
            write_docs(results)
    if args.keep:
        log(f"data kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    verdicts = [results[v] for v in ("verdict", "alerts_verdict")]
    return 0 if all(v.startswith(("met", "not measured")) for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
