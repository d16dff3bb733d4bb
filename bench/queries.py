"""Count the SQL queries each benchmarked page makes, in-process, against a seeded data directory.

    TLDOPS_DATA_DIR=/tmp/tldops-bench .venv/bin/python bench/queries.py \
        --cookie "sessionid=..." --token "tldops_..."

Each page is fetched three times through Django's test client (same settings, same database as
``tldops run``): the first request warms per-process caches (content types, translations); the
second, after emptying the cache, is counted with ``CaptureQueriesContext`` as the page *built*
from the database; the third is counted as the page answered from the cache (the rendered
fragments and the API page kept under the directory version). Run it on data directories with
different numbers of members: both counts must be equal (no query per member, "N+1"). Prints one
JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter

# (name, path, how it authenticates). bench/load_directory.py loads the same pages with wrk.
# The API pages its listing (100 by default, at most 1,000): both the default page and the whole
# directory in one answer are measured.
PAGES = [
    ("coverage", "/", "anonymous"),
    ("directory", "/directory/", "session"),
    ("api_contacts", "/api/v1/directory/contacts", "token"),
    ("api_contacts_all", "/api/v1/directory/contacts?limit=1000", "token"),
    # The alert pages (issue 10): cached per reader only (a TLP:RED alert is for the people it
    # names), so the load gives each client its own entries.
    # {alert} is an alert the member may read; the load gives each of its clients its own member
    # and alerts (ALERT_PAGES).
    ("alerts", "/alerts/", "session"),
    ("alerts_filtered", "/alerts/?tld=fr&status=open", "session"),
    ("alert", "/alerts/{alert}/", "session"),
    ("api_alerts", "/api/v1/alerts", "token"),
    ("api_alert", "/api/v1/alerts/{alert}", "token"),
]
#: The pages bench/load_directory.py loads with many members (one per client) instead of one.
ALERT_PAGES = {"alerts", "alerts_filtered", "alert", "api_alerts", "api_alert"}


def count(cookie: str, token: str, alert: int | None = None) -> dict[str, dict[str, object]]:
    from django.core.cache import cache
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    name, _sep, value = cookie.partition("=")
    results: dict[str, dict[str, object]] = {}
    for page, path, auth in PAGES:
        if "{alert}" in path:
            if alert is None:
                continue
            path = path.format(alert=alert)
        client = Client()
        headers: dict[str, str] = {}
        if auth == "session":
            client.cookies[name] = value
        elif auth == "token":
            headers["Authorization"] = f"Bearer {token}"
        try:
            client.get(path, headers=headers)  # warm-up, not counted
            # Built: with the per-process cache emptied, the page is made from the database.
            cache.clear()
            reset_queries()
            with CaptureQueriesContext(connection) as built:
                response = client.get(path, headers=headers)
            # Cached: the same request again, answered from what the first one cached.
            with CaptureQueriesContext(connection) as cached:
                client.get(path, headers=headers)
        except Exception as exc:  # a page not built yet or broken: report it, count the others
            results[page] = {"path": path, "auth": auth, "error": f"{type(exc).__name__}: {exc}"}
            continue
        # The shape of each query (numbers stripped), to see at a glance what repeats.
        shapes = Counter(_shape(q["sql"]) for q in built.captured_queries)
        results[page] = {
            "path": path,
            "auth": auth,
            "status": response.status_code,
            "bytes": len(response.content),
            "queries": len(built.captured_queries),
            "queries_cached": len(cached.captured_queries),
            "repeated": {s: n for s, n in shapes.items() if n > 1},
            "sql": [q["sql"] for q in built.captured_queries],
            "sql_cached": [q["sql"] for q in cached.captured_queries],
        }
    return results


def _shape(sql: str) -> str:
    import re

    return re.sub(r"\b\d+\b", "N", sql)[:200]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cookie", required=True, help="session cookie, name=value, from seed.py")
    parser.add_argument("--token", required=True, help="API token from seed.py")
    parser.add_argument("--alert", type=int, help="an alert id the member may read (its pages)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tldops.settings")
    import django

    django.setup()
    print(json.dumps(count(args.cookie, args.token, args.alert), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
