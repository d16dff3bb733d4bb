"""The options of a sweep, for the two commands that sweep: ``tldops monitor sweep`` and
``tldops probe`` (one definition, so the two never drift apart)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.conf import settings

from tldops.monitor import sweep as sweeping


def add(parser: argparse.ArgumentParser) -> None:
    """``--root-hints``, ``--trust-anchor``, ``--ipv4-only``/``--ipv6-only``, ``--timeout``,
    ``--tries``, ``--port``."""
    parser.add_argument(
        "--root-hints",
        type=Path,
        metavar="FILE",
        help="Root servers in the root hints format (named.root); default: the shipped ones.",
    )
    parser.add_argument(
        "--trust-anchor",
        type=Path,
        metavar="FILE",
        help="The root's DNSKEY or DS records in zone-file format; default: IANA's, shipped.",
    )
    family = parser.add_mutually_exclusive_group()
    family.add_argument("--ipv4-only", action="store_true", help="Ask IPv4 addresses only.")
    family.add_argument("--ipv6-only", action="store_true", help="Ask IPv6 addresses only.")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help=f"Seconds to wait for each answer (default {settings.MONITOR_TIMEOUT}).",
    )
    parser.add_argument(
        "--tries",
        type=int,
        default=None,
        metavar="N",
        help=f"Tries per question over UDP (default {settings.MONITOR_TRIES}).",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        metavar="PORT",
        help=f"Port to ask every server on (default {settings.MONITOR_PORT}; tests use another).",
    )


def options(given: dict[str, Any]) -> sweeping.Options:
    """The sweep's options from what :func:`add` parsed (``InvalidInput`` when a file or a value
    is refused)."""
    return sweeping.options_from(
        root_hints=given["root_hints"],
        trust_anchor=given["trust_anchor"],
        ipv4_only=given["ipv4_only"],
        ipv6_only=given["ipv6_only"],
        timeout=given["timeout"],
        tries=given["tries"],
        port=given["port"],
    )
