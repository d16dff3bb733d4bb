"""One supervisor running any of the pieces: the web server, the SMTP+LMTP intake and the worker.

``tldops run`` starts all three; ``tldops web``, ``tldops mail`` and ``tldops worker`` start one
each (the production layout, behind a proxy and Postfix). All sockets are bound before anything
starts, so a port in use is reported at once and clearly. SIGINT and SIGTERM stop the pieces in
order: no new mail, web requests finished, the worker's round completed.

The web server runs in ``web_workers`` processes (``TLDOPS_WEB_WORKERS``, default: one per CPU).
Django's code holds Python's GIL, so one process uses one CPU at most. The supervisor binds the
listening socket itself, starts that many web worker processes on it (:class:`WebWorkers`), starts
another when one dies, and stops them all on SIGINT/SIGTERM. Each web worker process is a gunicorn
threaded worker (``gthread``) serving Django's WSGI application: measured cheaper per request than
uvicorn with a WSGI adapter (docs/benchmarks.md). Idle keep-alive connections wait in its poller,
but a client slow to send its request or to read the answer holds one of its ``WEB_THREADS``
threads meanwhile: facing the Internet, put a buffering reverse proxy (nginx) in front, as
gunicorn advises. The intake and the worker stay one each, in the supervisor's process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tldops.ops.processes import default_web_workers, terminate
from tldops.ops.worker import Worker

log = logging.getLogger(__name__)


class ListenError(Exception):
    """A listening address that is malformed or cannot be bound; the message says which and why."""


class WebWorkersFailed(Exception):
    """The web worker processes keep dying at start; the message says what to look at."""


def web_workers(requested: int | None) -> int:
    """How many web processes: ``--workers``, else ``TLDOPS_WEB_WORKERS``; 0 means one per CPU."""
    from django.conf import settings
    from django.utils.translation import gettext as _

    count = settings.WEB_WORKERS if requested is None else requested
    if count < 0:
        raise ListenError(
            _("The number of web workers must be 0 (one per CPU) or more, not %(n)d (%(where)s).")
            % {"n": count, "where": "--workers" if requested is not None else "TLDOPS_WEB_WORKERS"}
        )
    return count or default_web_workers()


def parse_listen(value: str, *, what: str) -> tuple[str, int]:
    """``127.0.0.1:8000`` / ``[::1]:8000`` / ``localhost:8000`` → (host, port)."""
    text = (value or "").strip()
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ListenError(f"{what}: “{value}” is not host:port, e.g. 127.0.0.1:8000")
    return host, int(port)


BACKLOG = 1024  # connections the kernel queues while every web worker is busy
WEB_THREADS = 8  # requests one web process works on at once (its database waits overlap)
KEEPALIVE = 5  # seconds an idle keep-alive connection stays open
GRACEFUL_TIMEOUT = 10  # seconds a stopping web worker gives the requests in progress
ACCEPT_PAUSE = 0.002  # seconds a web worker waits after taking a new connection (see accept)
# gunicorn's bounds on a request's head, set knowingly rather than left to its defaults. A request
# beyond them gets gunicorn's own bare 400 page before Django sees it, so the request line is
# raised to gunicorn's maximum (its default, 4094, cut a 5,000-character query string short with
# "Request Line is too large"): Django then refuses a query string beyond
# tldops.web.limits.MAX_QUERY_STRING itself, with a proper 414 page (or JSON under /api/).
LIMIT_REQUEST_LINE = 8190  # bytes of "GET /path?query HTTP/1.1": gunicorn's maximum
LIMIT_REQUEST_FIELDS = 100  # header fields (gunicorn's default; the portal sends about 15)
LIMIT_REQUEST_FIELD_SIZE = 8190  # bytes of one header field (gunicorn's default; cookies fit)


def bind(address: tuple[str, int], *, what: str, setting: str) -> socket.socket:
    """A listening TCP socket, or :class:`ListenError` naming the setting to change."""
    host, port = address
    try:
        family, kind, proto, _name, sockaddr = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # No Nagle: an answer written in two pieces (headers, then the body) would otherwise wait
        # for the client's delayed acknowledgement, 40 ms on Linux, before its last piece leaves.
        # Gunicorn sets this on the sockets it binds; we bind our own (accepted connections
        # inherit it). Measured: bench/load_directory.py, docs/benchmarks.md.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(sockaddr)
        sock.listen(BACKLOG)
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
    web_workers: int = 1
    monitor: bool = False  # the scheduled monitor as a child process (tldops monitor run)

    def close(self) -> None:
        for sock in (self.web, self.smtp, self.lmtp):
            if sock is not None:
                sock.close()


def with_web_workers(banner: list[str], plan: Plan) -> list[str]:
    """The banner with, under its ``Web:`` line, how many web processes serve."""
    from django.utils.translation import ngettext

    if plan.web is None:
        return banner
    n = plan.web_workers
    text = ngettext(
        "%(n)d web process (TLDOPS_WEB_WORKERS)", "%(n)d web processes (TLDOPS_WEB_WORKERS)", n
    )
    at = next((i + 1 for i, line in enumerate(banner) if line.startswith("Web:")), 0)
    return [*banner[:at], "          " + text % {"n": n}, *banner[at:]]


class _Application:
    """What a gunicorn worker asks of its application: the WSGI callable, loaded in the worker."""

    def wsgi(self):  # type: ignore[no-untyped-def]
        # lazy: the WSGI handler is built in the web process only
        from tldops.wsgi import application

        return application


def gunicorn_config(*, access_log: bool):  # type: ignore[no-untyped-def]
    """The settings of a web worker (gunicorn's ``Config``): threads, keep-alive, logs, and the
    bounds on a request's head (``LIMIT_REQUEST_*``)."""
    from gunicorn.config import Config

    cfg = Config()
    for name, value in {
        "threads": WEB_THREADS,
        "keepalive": KEEPALIVE,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "proc_name": "tldops-web",
        "control_socket_disable": True,
        "limit_request_line": LIMIT_REQUEST_LINE,
        "limit_request_fields": LIMIT_REQUEST_FIELDS,
        "limit_request_field_size": LIMIT_REQUEST_FIELD_SIZE,
    }.items():
        cfg.set(name, value)
    return cfg


def serve_web_worker(fd: int, access_log: bool, parent: int) -> None:
    """The body of one web worker process: a gunicorn ``gthread`` worker on the socket ``fd``.

    Started by :class:`WebWorkers` as ``python -c`` with the supervisor's environment, so it reads
    the same settings. The supervisor plays the part of gunicorn's arbiter (start, replace, stop):
    SIGTERM or a first SIGINT finishes the requests in progress (``GRACEFUL_TIMEOUT``); a second
    SIGINT, or SIGQUIT, drops them; the worker stops by itself within a second when its supervisor
    ``parent`` is gone.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tldops.settings")
    from gunicorn.glogging import Logger
    from gunicorn.workers.gthread import ThreadWorker

    class WebWorker(ThreadWorker):
        def handle_quit(self, sig: int, frame: object) -> None:
            if sig == signal.SIGINT and self.alive:  # Ctrl+C: like SIGTERM, the first time
                self.handle_exit(sig, frame)
                return
            super().handle_quit(sig, frame)

        def accept(self, listener: socket.socket) -> None:
            # A burst of new connections (20 keep-alive clients connecting at once) would all be
            # taken by the first process to wake, and stay with it; a pause after each lets the
            # other processes take their share. Keep-alive makes new connections rare.
            super().accept(listener)
            time.sleep(ACCEPT_PAUSE)

    cfg = gunicorn_config(access_log=access_log)
    sock = socket.socket(fileno=fd)
    worker = WebWorker(1, parent, [sock], _Application(), 30, cfg, Logger(cfg))
    worker.init_process()  # serves until told to stop, or the supervisor is gone


_WORKER_MAIN = (
    "import sys; from tldops.ops.supervisor import serve_web_worker; "
    "serve_web_worker(int(sys.argv[1]), sys.argv[2] == '1', int(sys.argv[3]))"
)


class WebWorkers:
    """``count`` web worker processes serving one listening socket, kept at that number.

    A process that dies is replaced (after a pause that grows if they keep dying); if every start
    fails quickly several times in a row (a broken installation or configuration), it gives up
    with :class:`WebWorkersFailed` rather than looping.
    """

    QUICK = 5.0  # seconds: a process that dies sooner than this after its start "failed to start"
    GIVE_UP_AFTER = 5  # quick failures in a row
    STOP_TIMEOUT = (
        20.0  # seconds for a worker to finish its requests (each allows itself GRACEFUL_TIMEOUT)
    )
    PAUSE = 0.5  # seconds before the n-th quick restart in a row: PAUSE * 2**n, 10 s at most

    def __init__(self, sock: socket.socket, count: int, *, access_log: bool) -> None:
        self.sock = sock
        self.count = count
        self.access_log = access_log
        self.procs: list[subprocess.Popen[bytes]] = []
        self.started: list[float] = []
        self.quick_failures = 0

    def command(self) -> list[str]:
        """The web worker's command line; it inherits the listening socket as the fd it names."""
        fd = self.sock.fileno()
        access_log = "1" if self.access_log else "0"
        return [sys.executable, "-c", _WORKER_MAIN, str(fd), access_log, str(os.getpid())]

    def _start(self) -> tuple[subprocess.Popen[bytes], float]:
        fd = self.sock.fileno()
        cmd = self.command()
        proc = subprocess.Popen(cmd, pass_fds=(fd,), stdin=subprocess.DEVNULL)
        log.debug("web worker %d started", proc.pid)
        return proc, time.monotonic()

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    async def run(self, stop: asyncio.Event) -> None:
        """Start the processes, replace those that die, until ``stop``; then stop them all."""
        for _ in range(self.count):
            proc, at = self._start()
            self.procs.append(proc)
            self.started.append(at)
        try:
            while not stop.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
                if not stop.is_set():
                    await self._replace_dead(stop)
        finally:
            await self.stop()

    async def _replace_dead(self, stop: asyncio.Event) -> None:
        for slot, proc in enumerate(self.procs):
            code = proc.poll()
            if code is None or stop.is_set():
                continue
            lived = time.monotonic() - self.started[slot]
            self.quick_failures = self.quick_failures + 1 if lived < self.QUICK else 0
            if self.quick_failures >= self.GIVE_UP_AFTER:
                from django.utils.translation import gettext as _

                raise WebWorkersFailed(
                    _(
                        "The web server processes keep exiting as they start (last exit status "
                        "%(code)s); see the messages above."
                    )
                    % {"code": code}
                )
            log.warning(
                "web worker %d exited with status %s after %.0f s; starting another",
                proc.pid,
                code,
                lived,
            )
            if self.quick_failures:
                await asyncio.sleep(min(10.0, self.PAUSE * 2**self.quick_failures))
                if stop.is_set():
                    return
            self.procs[slot], self.started[slot] = self._start()

    def force(self) -> None:
        """Drop slow clients: a second SIGINT makes a worker stop without waiting for them."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)

    async def stop(self) -> None:
        await asyncio.to_thread(terminate, self.procs, self.STOP_TIMEOUT, "web worker")


async def supervise(plan: Plan, *, on_ready: Callable[[], None] | None = None) -> None:
    """Run the planned pieces until SIGINT/SIGTERM (or one of them stops), then stop them all."""
    from tldops.mail import intake  # lazy: imported by fresh processes before django.setup()

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
        if signals > 1:  # a second signal: don't wait for slow clients
            if web_workers is not None:
                web_workers.force()

    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, on_signal, signum)

    tasks: list[asyncio.Future[object]] = []
    web_workers = None
    if plan.web is not None:
        from django.db import connections

        connections.close_all()  # nothing of the supervisor's database session goes to them
        web_workers = WebWorkers(plan.web, plan.web_workers, access_log=plan.access_log)
        tasks.append(asyncio.ensure_future(web_workers.run(stop)))

    if plan.monitor:
        # lazy: Django's models, which this module must not import before django.setup()
        from tldops.ops.monitor_process import MonitorChild

        tasks.append(asyncio.ensure_future(MonitorChild().run(stop)))

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

    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        Worker(interval=interval).run(stop)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
