"""One process running any of the pieces: the web server, the SMTP+LMTP intake and the worker.

``tldops run`` starts all three; ``tldops web``, ``tldops mail`` and ``tldops worker`` start one
each (the production layout, behind a proxy and Postfix). All sockets are bound before anything
starts, so a port in use is reported at once and clearly. SIGINT and SIGTERM stop the pieces in
order: no new mail, web requests finished, the worker's round completed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

log = logging.getLogger(__name__)


class ListenError(Exception):
    """A listening address that is malformed or cannot be bound; the message says which and why."""


def parse_listen(value: str, *, what: str) -> tuple[str, int]:
    """``127.0.0.1:8000`` / ``[::1]:8000`` / ``localhost:8000`` → (host, port)."""
    text = (value or "").strip()
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ListenError(f"{what}: “{value}” is not host:port, e.g. 127.0.0.1:8000")
    return host, int(port)


def bind(address: tuple[str, int], *, what: str, setting: str) -> socket.socket:
    """A listening TCP socket, or :class:`ListenError` naming the setting to change."""
    host, port = address
    try:
        family, kind, proto, _name, sockaddr = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
        sock.listen(128)
        sock.setblocking(False)
    except OSError as exc:
        raise ListenError(
            f"cannot listen on {host}:{port} for {what}: {exc.strerror or exc}; "
            f"choose another address with TLDOPS_{setting}"
        ) from None
    return sock


def bound_address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass
class Plan:
    """Which pieces to run, with their sockets already bound."""

    web: socket.socket | None = None
    smtp: socket.socket | None = None
    lmtp: socket.socket | None = None
    worker: bool = False
    worker_interval: float = 5.0
    access_log: bool = False

    def close(self) -> None:
        for sock in (self.web, self.smtp, self.lmtp):
            if sock is not None:
                sock.close()


def _web_server(sock: socket.socket, *, access_log: bool):
    import uvicorn

    from tldops.asgi import application

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # The supervisor owns the signals: it stops every piece, not only the web server.
            yield

    config = uvicorn.Config(
        application,
        lifespan="off",
        log_config=None,
        access_log=access_log,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    return Server(config)


async def supervise(plan: Plan, *, on_ready: Callable[[], None] | None = None) -> None:
    """Run the planned pieces until SIGINT/SIGTERM (or one of them stops), then stop them all."""
    from tldops.lists import intake
    from tldops.ops.worker import Worker

    # aiosmtpd logs every SMTP command at INFO; keep its warnings only.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = 0

    def on_signal(signum: int) -> None:
        nonlocal signals
        signals += 1
        log.info("%s received, stopping", signal.Signals(signum).name)
        stop.set()
        if signals > 1 and web is not None:  # a second signal: don't wait for slow clients
            web.force_exit = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, on_signal, signum)

    tasks: list[asyncio.Future[object]] = []
    web = None
    if plan.web is not None:
        web = _web_server(plan.web, access_log=plan.access_log)
        tasks.append(asyncio.ensure_future(web.serve(sockets=[plan.web])))

    handler = intake.IntakeHandler()
    servers: list[asyncio.base_events.Server] = []
    for sock, lmtp in ((plan.smtp, False), (plan.lmtp, True)):
        if sock is not None:
            servers.append(
                await loop.create_server(intake.smtp_factory(handler, lmtp=lmtp), sock=sock)
            )

    worker_stop = threading.Event()
    worker_thread = None
    if plan.worker:
        worker = Worker(interval=plan.worker_interval)
        worker_thread = threading.Thread(
            target=worker.run, args=(worker_stop,), name="tldops-worker", daemon=True
        )
        worker_thread.start()

    if on_ready is not None:
        on_ready()
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()
        for server in servers:
            server.close()
        for server in servers:
            await server.wait_closed()
        await handler.drain()
        if web is not None:
            web.should_exit = True
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        worker_stop.set()
        if worker_thread is not None:
            await asyncio.to_thread(worker_thread.join, 60)
        stopper.cancel()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


def run_worker_until_signal(interval: float) -> None:
    """``tldops worker`` without ``--once``: rounds until SIGINT/SIGTERM."""
    from tldops.ops.worker import Worker

    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        Worker(interval=interval).run(stop)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
