"""Where the time of one benchmarked page goes: wall time per request, then a cProfile of a few.

    TLDOPS_DATA_DIR=/tmp/tldops-bench .venv/bin/python bench/profile_pages.py \
        --cookie "sessionid=..." --token "tldops_..." [--page directory] [--runs 5]

Uses Django's test client in-process on a data directory seeded by bench/seed.py (run
``bench/load_directory.py --keep`` to get one, with its cookie and token in ``--json``). It times
each page's requests one after another, with no concurrency: that is the service time a single
``tldops run`` web thread needs per request, the floor under every latency wrk measures.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from queries import PAGES  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cookie", required=True, help="session cookie, name=value, from seed.py")
    parser.add_argument("--token", required=True, help="API token from seed.py")
    parser.add_argument("--page", choices=[p[0] for p in PAGES], action="append", help="only these")
    parser.add_argument("--alert", type=int, help="an alert id the member may read (its pages)")
    parser.add_argument("--runs", type=int, default=5, help="timed requests per page")
    parser.add_argument("--top", type=int, default=25, help="profile lines to show")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tldops.settings")
    import django

    django.setup()
    from django.test import Client

    name, _sep, value = args.cookie.partition("=")
    for page, path, auth in PAGES:
        if args.page and page not in args.page:
            continue
        if "{alert}" in path:
            if args.alert is None:
                continue
            path = path.format(alert=args.alert)
        client = Client()
        headers = {"Authorization": f"Bearer {args.token}"} if auth == "token" else {}
        if auth == "session":
            client.cookies[name] = value
        response = client.get(path, headers=headers)  # warm-up
        started = time.perf_counter()
        for _ in range(args.runs):
            client.get(path, headers=headers)
        per_request = (time.perf_counter() - started) / args.runs * 1000
        print(
            f"\n=== {page} {path}: HTTP {response.status_code}, {len(response.content)} bytes, "
            f"{per_request:.1f} ms per request (mean of {args.runs}, no profiler)"
        )
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.runs):
            client.get(path, headers=headers)
        profiler.disable()
        for title, key, restriction in (
            ("cumulative, tldops code", "cumulative", r"src/tldops/"),
            ("own time, everything", "tottime", ""),
        ):
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats(key)
            stats.print_stats(*([restriction] if restriction else []), args.top)
            body = out.getvalue()
            body = body[body.find("   ncalls") :].replace(str(ROOT) + "/", "")
            body = re.sub(r"\S*/site-packages/", "", body)
            print(f"--- {title} (times for {args.runs} requests, with profiler overhead)\n{body}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
