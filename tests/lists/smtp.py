"""Real aiosmtpd servers on loopback for the tests: the tldops intake, and a sink for our own mail."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from aiosmtpd.smtp import SMTP
from asgiref.sync import sync_to_async
from django.db import connections

from tldops.mail import intake

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command


class ServersThread:
    """Runs protocol factories (``loop.create_server``) on free 127.0.0.1 ports in a thread."""

    def __init__(self, *factories: Callable[[], asyncio.Protocol]) -> None:
        self.factories = factories
        self.ports: list[int] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._servers: list[asyncio.base_events.Server] = []
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        for factory in self.factories:
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            server = self.loop.run_until_complete(self.loop.create_server(factory, sock=sock))
            self._servers.append(server)
            self.ports.append(sock.getsockname()[1])
        self._ready.set()
        self.loop.run_forever()
        for server in self._servers:
            server.close()
            self.loop.run_until_complete(server.wait_closed())
        self.loop.close()

    def start(self) -> ServersThread:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the SMTP servers did not start")
        return self

    def run(self, coro) -> object:
        """Run a coroutine on the servers' loop (e.g. the intake handler's drain)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class SinkHandler:
    """An MTA stand-in that keeps what it is given."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        )
        return "250 OK"


def sink_factory(handler: SinkHandler) -> Callable[[], SMTP]:
    return lambda: SMTP(handler, hostname="sink.test")


@pytest.fixture
def intake_server(transactional_db):
    """The tldops intake, SMTP then LMTP, with processing right after the 250 (as in production).

    Yields ``(servers, handler)``; ``servers.ports`` is ``[smtp, lmtp]``. Call
    ``servers.run(handler.drain())`` to wait for the processing of what was sent.
    """
    handler = intake.IntakeHandler()
    servers = ServersThread(
        intake.smtp_factory(handler), intake.smtp_factory(handler, lmtp=True)
    ).start()
    yield servers, handler
    servers.run(handler.drain())
    # The intake's database work ran in asgiref's executor thread: close that thread's connection.
    servers.run(sync_to_async(connections.close_all)())
    servers.stop()


@pytest.fixture
def smarthost(settings):
    """An SMTP sink on loopback, configured as the smarthost; yields its handler."""
    handler = SinkHandler()
    servers = ServersThread(sink_factory(handler)).start()
    settings.SMARTHOST = f"127.0.0.1:{servers.ports[0]}"
    yield handler
    servers.stop()


@pytest.fixture
def sink_smarthost(settings):
    """``start(handler)`` runs a :mod:`tests.lists.sinks` handler on loopback as the smarthost and
    returns it; every sink started is stopped after the test."""
    from tests.lists import sinks

    started = []

    def start(handler):
        servers = ServersThread(sinks.factory(handler)).start()
        started.append(servers)
        settings.SMARTHOST = f"127.0.0.1:{servers.ports[0]}"
        return handler

    yield start
    for servers in started:
        servers.stop()
