"""A real HTTP server on 127.0.0.1 serving IANA-format fixture files we wrote (tests/catalog/fixtures)."""

from __future__ import annotations

import functools
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class IanaServer:
    root: Path  # the served folder: edit files here to change what "IANA" says
    base: str

    @property
    def page_dir(self) -> Path:
        return self.root / "domains" / "root" / "db"


@pytest.fixture
def iana_server(tmp_path, settings) -> Iterator[IanaServer]:
    """Serve a private copy of fixtures/www and point the IANA_* settings at it."""
    root = tmp_path / "www"
    shutil.copytree(FIXTURES / "www", root)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.IANA_RZDB_URL = f"{base}/domains/root/db"
    settings.IANA_ROOT_ZONE_URL = f"{base}/domain/root.zone"
    settings.IANA_TLD_LIST_URL = f"{base}/TLD/tlds-alpha-by-domain.txt"
    try:
        yield IanaServer(root=root, base=base)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def unreachable_iana(settings) -> str:
    """IANA_* settings pointing at a loopback port where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    settings.IANA_RZDB_URL = f"{base}/domains/root/db"
    settings.IANA_ROOT_ZONE_URL = f"{base}/domain/root.zone"
    settings.IANA_TLD_LIST_URL = f"{base}/TLD/tlds-alpha-by-domain.txt"
    return base
