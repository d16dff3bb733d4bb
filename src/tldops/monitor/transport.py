"""The sweep's network: thousands of DNS questions in flight at once from one thread.

Why not dnspython's ``dns.query`` or asyncio: ``dns.query.udp`` opens a socket and waits for each
answer (one question at a time, or one thread each), and an asyncio datagram endpoint costs a
callback chain and a future per packet. Measured on this machine over the 309-zone world of
``bench/monitor_sweep.py``: the checks cost 0.1–0.2 ms of CPU per question here (the issue's bar
is 0.5 ms), of which most is dnspython parsing the answers, against about 1.5–2 ms per question for
a loop of ``dns.query.udp``. dnspython still makes and parses every message: only the sockets,
the timers and the scheduling are ours.

Work is written as generators (:data:`Task`): a task yields a :class:`Udp`, a :class:`Tcp` or a
:class:`Batch` of them and is sent back what came of it (:class:`Reply`, or a list of them for a
batch). :meth:`Network.run` drives every task to its end. One UDP socket per address family
carries every UDP question; answers are matched on the server's address, port and message id, and
the answer must repeat the question (a stray or spoofed datagram is ignored). TCP questions to one
address share one connection, asked one after the other (RFC 7766), at most ``tcp_limit``
connections at a time.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import os
import random
import selectors
import socket
import struct
import time
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

#: A DNS answer over UDP is at most this big (EDNS buffer size we announce, RFC 9715 / DNS Flag Day).
UDP_PAYLOAD = 1232
#: Read at most this much of a TCP answer (the length prefix allows 65,535 bytes).
TCP_MAX = 65_535
#: Tasks stepped between two looks at the sockets while there is work to do.
STEPS_BETWEEN_POLLS = 8
#: Linux's options that queue ICMP errors on an unconnected UDP socket (<linux/in.h>, <in6.h>).
IP_RECVERR, IPV6_RECVERR = 11, 25
#: struct sock_extended_err: ee_errno (u32), ee_origin, ee_type, ee_code, ee_pad (u8), ...
EXTENDED_ERR = struct.Struct("=IBBBB")


class Outcome:
    OK = "ok"
    TIMEOUT = "timeout"
    REFUSED = "refused"  # TCP connection refused, or ICMP port unreachable
    ERROR = "error"  # no route, address unusable from here


@dataclass
class Reply:
    outcome: str
    wire: bytes = b""
    rtt_ms: float | None = None
    detail: str = ""
    errno: int = 0  # the local error, when the question could not even be sent


@dataclass
class Udp:
    """One question over UDP: ``wire`` with its id in the first two bytes (rewritten per try)."""

    address: str
    wire: bytes
    question: bytes  # the question section, to check the answer repeats it


@dataclass
class Tcp:
    """Questions asked one after the other over one TCP connection to ``address``.

    Each gets a :class:`Reply`; once one fails the rest fail the same way. Only the first
    message of each answer is read (a zone transfer's first message is enough to know it is
    open, and the rest of the zone is never read), so a transfer must be the last question."""

    address: str
    wires: list[bytes]


@dataclass
class Batch:
    """Several requests at once; the task is sent the list of their results, in order."""

    requests: list[Udp | Tcp]


Request = Udp | Tcp | Batch
Task = Generator[Request, Any, None]


def question_section(wire: bytes) -> bytes:
    """The bytes of a message's question section (one question, uncompressed as we send it)."""
    end = 12
    while wire[end]:
        end += wire[end] + 1
    return wire[12 : end + 5]


def new_id(wire: bytes, ident: int) -> bytes:
    return struct.pack("!H", ident) + wire[2:]


@dataclass
class _UdpPending:
    request: Udp
    waiter: _Waiter
    index: int
    tries_left: int
    sent_at: float = 0.0
    ident: int = 0
    done: bool = False


@dataclass
class _TcpConn:
    request: Tcp
    waiter: _Waiter
    index: int
    sock: socket.socket | None = None
    position: int = 0  # which question is in flight
    started: float = 0.0
    buffer: bytearray = field(default_factory=bytearray)
    out: bytes = b""
    replies: list[Reply] = field(default_factory=list)
    ident: int = 0
    deadline: float = 0.0
    connected: bool = False
    done: bool = False


@dataclass
class _Waiter:
    """A task waiting for ``left`` results of one yielded request."""

    task: Task
    results: list[Any]
    left: int
    batch: bool


class Network:
    def __init__(
        self,
        *,
        port: int = 53,
        timeout: float = 2.0,
        tries: int = 2,
        tcp_limit: int = 128,
        udp_limit: int = 256,
    ) -> None:
        self.port = port
        self.timeout = timeout
        self.tries = max(1, tries)
        self.tcp_limit = tcp_limit
        self.udp_limit = udp_limit
        self._udp_waiting: deque[_UdpPending] = deque()
        self.queries = 0
        self._selector = selectors.DefaultSelector()
        self._udp: dict[int, socket.socket] = {}
        self._pending: dict[tuple[str, int], _UdpPending] = {}
        self._timers: list[tuple[float, int, Any]] = []
        self._seq = 0
        self._tcp_waiting: deque[_TcpConn] = deque()
        self._tcp_open = 0
        self._draining = False
        self._ready: deque[tuple[Task, Any]] = deque()
        self._random = random.SystemRandom()

    # -- tasks ------------------------------------------------------------------------------

    def spawn(self, task: Task) -> None:
        self._ready.append((task, None))

    def run(self) -> None:
        """Drive every task spawned (and every one they spawn) to its end."""
        try:
            while True:
                steps = 0
                while self._ready:
                    task, value = self._ready.popleft()
                    self._step(task, value)
                    steps += 1
                    if steps % STEPS_BETWEEN_POLLS == 0:
                        # Read what came meanwhile and send what waits before more work: the
                        # checks of finished ccTLDs must not hold back other ccTLDs' questions
                        # (a question sent late to a silent server ends late, and so does the
                        # sweep).
                        self._poll(0.0)
                if not (self._pending or self._udp_waiting or self._tcp_open or self._tcp_waiting):
                    self._timers.clear()  # only timers of questions already answered are left
                    return
                self._poll()
        finally:
            for sock in self._udp.values():
                self._selector.unregister(sock)
                sock.close()
            self._udp.clear()

    def _step(self, task: Task, value: Any) -> None:
        try:
            request = task.send(value)
        except StopIteration:
            return
        if isinstance(request, Batch):
            if not request.requests:
                self._ready.append((task, []))
                return
            waiter = _Waiter(task, [None] * len(request.requests), len(request.requests), True)
            for i, req in enumerate(request.requests):
                self._start(req, waiter, i)
        else:
            self._start(request, _Waiter(task, [None], 1, False), 0)

    def _finish(self, waiter: _Waiter, index: int, result: Any) -> None:
        waiter.results[index] = result
        waiter.left -= 1
        if waiter.left == 0:
            self._ready.append((waiter.task, waiter.results if waiter.batch else waiter.results[0]))

    def _start(self, request: Udp | Tcp, waiter: _Waiter, index: int) -> None:
        if isinstance(request, Udp):
            pending = _UdpPending(request, waiter, index, self.tries)
            if len(self._pending) < self.udp_limit:
                self._udp_send(pending)
            else:
                self._udp_waiting.append(pending)
        else:
            conn = _TcpConn(request, waiter, index)
            if self._tcp_open < self.tcp_limit:
                self._tcp_connect(conn)
            else:
                self._tcp_waiting.append(conn)

    # -- timers -----------------------------------------------------------------------------

    def _timer(self, when: float, item: Any) -> None:
        self._seq += 1
        heapq.heappush(self._timers, (when, self._seq, item))

    def _poll(self, longest: float | None = None) -> None:
        now = time.monotonic()
        wait = self._timers[0][0] - now if self._timers else self.timeout
        wait = max(0.0, min(wait, self.timeout))
        for key, events in self._selector.select(wait if longest is None else min(wait, longest)):
            if key.data is None:
                self._udp_read(key.fileobj)  # type: ignore[arg-type]
            else:
                self._tcp_event(key.data, events)
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, item = heapq.heappop(self._timers)
            if isinstance(item, _UdpPending):
                if not item.done and now - item.sent_at >= self.timeout - 1e-3:
                    self._udp_expired(item)
            elif not item.done and item.deadline <= now:
                self._tcp_fail(item, Outcome.TIMEOUT, "no answer over TCP in time")

    # -- UDP --------------------------------------------------------------------------------

    def _udp_socket(self, family: int) -> socket.socket:
        sock = self._udp.get(family)
        if sock is None:
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
            # An ICMP "port unreachable" (nothing listens) or "host unreachable" then ends the
            # question at once, instead of after timeout × tries, and says why (_udp_errors).
            with contextlib.suppress(OSError):
                if family == socket.AF_INET:
                    sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
                else:
                    sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
            self._selector.register(sock, selectors.EVENT_READ, None)
            self._udp[family] = sock
        return sock

    def _udp_send(self, pending: _UdpPending) -> None:
        address = pending.request.address
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        while True:  # an id not already in flight to this address (at most 256 are in flight)
            ident = self._random.getrandbits(16)
            if (address, ident) not in self._pending:
                break
        pending.ident = ident
        pending.tries_left -= 1
        pending.sent_at = time.monotonic()
        try:
            self._udp_socket(family).sendto(
                new_id(pending.request.wire, ident), (address, self.port)
            )
        except OSError as exc:  # the socket could not be made, or sent nothing
            if exc.errno in (errno.EAGAIN, errno.ENOBUFS):
                # The socket's buffer is full: counts as a lost packet, the timer retries it.
                pass
            else:
                pending.done = True
                failed = Reply(Outcome.ERROR, detail=exc.strerror or str(exc), errno=exc.errno or 0)
                self._finish(pending.waiter, pending.index, failed)
                self._udp_pump()
                return
        self.queries += 1
        self._pending[(address, ident)] = pending
        self._timer(pending.sent_at + self.timeout, pending)

    def _udp_expired(self, pending: _UdpPending) -> None:
        self._pending.pop((pending.request.address, pending.ident), None)
        if pending.tries_left > 0:
            self._udp_send(pending)
        else:
            pending.done = True
            self._finish(pending.waiter, pending.index, Reply(Outcome.TIMEOUT))
            self._udp_pump()

    def _udp_pump(self) -> None:
        """Send waiting questions while fewer than ``udp_limit`` are in flight: a burst of
        thousands of datagrams overflows socket buffers (ours or the servers'), and each lost
        one costs a whole timeout before it is sent again."""
        while self._udp_waiting and len(self._pending) < self.udp_limit:
            self._udp_send(self._udp_waiting.popleft())

    def _udp_errors(self, sock: socket.socket) -> None:
        """ICMP errors queued for our datagrams: the question sent to that address with that id
        ends now, refused (port unreachable) or in error (no route, host unreachable)."""
        for _ in range(1024):
            try:
                data, ancillary, _flags, target = sock.recvmsg(512, 512, socket.MSG_ERRQUEUE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if len(data) < 2 or not ancillary:
                continue
            code = EXTENDED_ERR.unpack_from(ancillary[0][2])[0] if len(ancillary[0][2]) >= 8 else 0
            (ident,) = struct.unpack_from("!H", data)
            pending = self._pending.pop((target[0], ident), None)
            if pending is None or pending.done:
                continue
            if pending.tries_left > 0:
                # One ICMP error (maybe transient, maybe forged: it only has to name the address
                # and the id) is one failed try, not the end of the question.
                self._udp_send(pending)
                continue
            pending.done = True
            if code == errno.ECONNREFUSED:
                reply = Reply(Outcome.REFUSED, detail="ICMP port unreachable")
            else:
                reply = Reply(Outcome.ERROR, detail=os.strerror(code) if code else "ICMP error")
            self._finish(pending.waiter, pending.index, reply)
            self._udp_pump()

    def _udp_read(self, sock: socket.socket) -> None:
        while True:
            try:
                wire, source = sock.recvfrom(65_535)
            except BlockingIOError:
                self._udp_errors(sock)
                return
            except OSError:
                self._udp_errors(sock)  # an ICMP error queued on the socket
                continue
            if len(wire) < 12 or source[1] != self.port:
                continue
            (ident,) = struct.unpack_from("!H", wire)
            pending = self._pending.get((source[0], ident))
            if pending is None:
                continue
            try:
                if question_section(wire) != pending.request.question:
                    continue
            except IndexError:
                continue
            del self._pending[(source[0], ident)]
            pending.done = True
            rtt = (time.monotonic() - pending.sent_at) * 1000.0
            self._finish(pending.waiter, pending.index, Reply(Outcome.OK, wire, rtt))
            self._udp_pump()

    # -- TCP --------------------------------------------------------------------------------

    def _tcp_connect(self, conn: _TcpConn) -> None:
        address = conn.request.address
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        conn.started = time.monotonic()
        conn.deadline = conn.started + self.timeout
        self._tcp_open += 1
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:  # the family is not supported here at all
            self._tcp_fail(conn, Outcome.ERROR, exc.strerror or str(exc))
            return
        sock.setblocking(False)
        conn.sock = sock
        code = sock.connect_ex((address, self.port))
        if code not in (0, errno.EINPROGRESS):
            outcome = Outcome.REFUSED if code == errno.ECONNREFUSED else Outcome.ERROR
            self._tcp_fail(conn, outcome, errno.errorcode.get(code, str(code)))
            return
        self._selector.register(sock, selectors.EVENT_WRITE, conn)
        self._timer(conn.deadline, conn)

    def _tcp_event(self, conn: _TcpConn, events: int) -> None:
        sock = conn.sock
        assert sock is not None
        if not conn.connected:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                outcome = Outcome.REFUSED if code == errno.ECONNREFUSED else Outcome.ERROR
                self._tcp_fail(conn, outcome, errno.errorcode.get(code, str(code)))
                return
            conn.connected = True
            self._tcp_next(conn)
            return
        if events & selectors.EVENT_WRITE and conn.out:
            try:
                sent = sock.send(conn.out)
            except OSError as exc:
                self._tcp_fail(conn, Outcome.ERROR, str(exc))
                return
            conn.out = conn.out[sent:]
            if not conn.out:
                self._selector.modify(sock, selectors.EVENT_READ, conn)
            return
        try:
            chunk = sock.recv(16_384)
        except BlockingIOError:
            return
        except OSError as exc:
            self._tcp_fail(conn, Outcome.ERROR, str(exc))
            return
        if not chunk:
            self._tcp_fail(conn, Outcome.ERROR, "the server closed the connection")
            return
        conn.buffer += chunk
        while len(conn.buffer) >= 2:
            (length,) = struct.unpack_from("!H", conn.buffer)
            if len(conn.buffer) < 2 + length:
                break
            wire = bytes(conn.buffer[2 : 2 + length])
            del conn.buffer[: 2 + length]
            if length < 12 or struct.unpack_from("!H", wire)[0] != conn.ident:
                continue  # not the answer to the question in flight (a later transfer message)
            rtt = (time.monotonic() - conn.started) * 1000.0
            conn.replies.append(Reply(Outcome.OK, wire, rtt))
            conn.position += 1
            conn.buffer.clear()  # what follows belongs to the answer just read (a transfer)
            if conn.position == len(conn.request.wires):
                self._tcp_done(conn)
            else:
                self._tcp_next(conn)
            return

    def _tcp_next(self, conn: _TcpConn) -> None:
        assert conn.sock is not None
        conn.ident = self._random.getrandbits(16)
        wire = new_id(conn.request.wires[conn.position], conn.ident)
        conn.out = struct.pack("!H", len(wire)) + wire
        conn.started = time.monotonic()
        conn.deadline = conn.started + self.timeout
        self._timer(conn.deadline, conn)
        self.queries += 1
        self._selector.modify(conn.sock, selectors.EVENT_WRITE, conn)

    def _tcp_close(self, conn: _TcpConn) -> None:
        conn.done = True
        if conn.sock is not None:
            try:
                self._selector.unregister(conn.sock)
            except (KeyError, ValueError):
                pass
            conn.sock.close()
            conn.sock = None
        self._tcp_open -= 1
        if self._draining:
            return  # the loop below is already starting waiting connections
        self._draining = True
        try:
            # A loop, not a call from each close: connections that fail at once would otherwise
            # nest one call per waiting connection (RecursionError behind one slow server).
            while self._tcp_waiting and self._tcp_open < self.tcp_limit:
                self._tcp_connect(self._tcp_waiting.popleft())
        finally:
            self._draining = False

    def _tcp_done(self, conn: _TcpConn) -> None:
        self._tcp_close(conn)
        self._finish(conn.waiter, conn.index, conn.replies)

    def _tcp_fail(self, conn: _TcpConn, outcome: str, detail: str) -> None:
        if conn.done:
            return
        failed = Reply(outcome, detail=detail)
        conn.replies.extend([failed] * (len(conn.request.wires) - len(conn.replies)))
        self._tcp_done(conn)
