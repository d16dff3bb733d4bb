"""A small SMTP client for the outbox: one connection, one message to one recipient at a time,
with PIPELINING (RFC 2920) when the server offers it.

Why not aiosmtplib's ``sendmail`` for this: the outbox sends the same bytes to thousands of
recipients, each in its own transaction (per-recipient VERP). ``sendmail`` makes four round trips
a copy (MAIL, RCPT, DATA, the content), parses both addresses with ``email.utils`` and re-escapes
the whole message (line endings, dot-stuffing) for every copy; measured, that was most of the
worker's CPU (docs/benchmarks.md). Here the message is escaped once (:func:`wire`) and shared by
every copy, and with PIPELINING MAIL + RCPT + DATA go in one write: two round trips a copy. Without
PIPELINING (aiosmtpd, some MTAs) the same commands go one at a time.

Errors are aiosmtplib's exception classes, so callers and log lines read the same as before:
:class:`aiosmtplib.SMTPServerDisconnected` for a lost connection, ``SMTPConnectError`` (from the
``OSError``) when the server cannot be reached, ``SMTPConnectResponseError`` for a refusing
greeting, ``SMTPReadTimeoutError`` when the server does not answer in time.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from dataclasses import dataclass

import aiosmtplib

_LINE_ENDINGS = re.compile(rb"\r\n|\n|\r(?!\n)")
_LEADING_DOT = re.compile(rb"(?m)^\.")
_CONTROL = re.compile(r"[\x00-\x1f\x7f<>]")
MAX_REPLY = 64 * 1024  # bytes: a server sending more in one reply is broken


def wire(message: bytes) -> bytes:
    """The DATA content of ``message`` as it goes on the wire: CRLF line endings, leading dots
    doubled, the final ``.`` line. Computed once per message, whatever the number of copies."""
    data = _LINE_ENDINGS.sub(b"\r\n", message)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return _LEADING_DOT.sub(b"..", data) + b".\r\n"


@dataclass(frozen=True)
class Reply:
    code: int
    message: str

    def __str__(self) -> str:
        return f"{self.code} {self.message}"


class _Protocol(asyncio.Protocol):
    """Parses the server's replies as they arrive and hands them out in order."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.replies: deque[Reply] = deque()
        self.lines: list[str] = []
        self.waiter: asyncio.Future[None] | None = None
        self.wanted = 0
        self.error: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\n")) >= 0:
            line = bytes(self.buffer[: end + 1])
            del self.buffer[: end + 1]
            try:
                code = int(line[:3])
            except ValueError:
                self._fail(aiosmtplib.SMTPResponseException(-1, f"malformed reply: {line!r}"))
                return
            self.lines.append(line[4:].strip().decode("utf-8", "surrogateescape"))
            if line[3:4] != b"-":
                self.replies.append(Reply(code, "\n".join(self.lines)))
                self.lines = []
        if len(self.buffer) > MAX_REPLY:
            self._fail(aiosmtplib.SMTPResponseException(-1, "reply too long"))
            return
        if self.waiter is not None and len(self.replies) >= self.wanted:
            if not self.waiter.done():
                self.waiter.set_result(None)

    def _fail(self, exc: Exception) -> None:
        if self.error is None:
            self.error = exc
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        lost = aiosmtplib.SMTPServerDisconnected("Connection lost")
        if exc is not None:
            lost.__cause__ = exc
        self._fail(lost)
        self.transport = None

    def eof_received(self) -> bool:
        self._fail(aiosmtplib.SMTPServerDisconnected("Unexpected EOF received"))
        return False


class Connection:
    """One SMTP connection; :meth:`send` delivers one message to one recipient."""

    def __init__(self, protocol: _Protocol, timeout: float) -> None:
        self.protocol = protocol
        self.timeout = timeout
        self.extensions: set[str] = set()
        self.last_used = 0.0

    @classmethod
    async def open(cls, host: str, port: int, *, local_hostname: str, timeout: float) -> Connection:
        loop = asyncio.get_running_loop()
        try:
            _transport, protocol = await asyncio.wait_for(
                loop.create_connection(_Protocol, host, port), timeout
            )
        except (TimeoutError, OSError) as exc:
            raise aiosmtplib.SMTPConnectError(
                f"Error connecting to {host} on port {port}: {exc}"
            ) from exc
        conn = cls(protocol, timeout)
        try:
            (greeting,) = await conn._read(1)
            if greeting.code != 220:
                raise aiosmtplib.SMTPConnectResponseError(greeting.code, greeting.message)
            conn._write(f"EHLO {local_hostname}\r\n".encode())
            (ehlo,) = await conn._read(1)
            if ehlo.code == 250:
                conn.extensions = {
                    line.split(" ", 1)[0].upper() for line in ehlo.message.splitlines()[1:]
                }
            else:
                conn._write(f"HELO {local_hostname}\r\n".encode())
                (helo,) = await conn._read(1)
                if helo.code != 250:
                    raise aiosmtplib.SMTPHeloError(helo.code, helo.message)
        except BaseException:
            conn.abort()
            raise
        conn.last_used = loop.time()
        return conn

    @property
    def is_connected(self) -> bool:
        transport = self.protocol.transport
        return transport is not None and not transport.is_closing()

    def supports(self, extension: str) -> bool:
        return extension.upper() in self.extensions

    def _write(self, data: bytes) -> None:
        if self.protocol.error is not None:
            raise self.protocol.error
        if not self.is_connected:
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        self.protocol.transport.write(data)  # type: ignore[union-attr]

    async def _read(self, n: int) -> list[Reply]:
        """The next ``n`` replies (waiting for them)."""
        p = self.protocol
        if len(p.replies) < n:
            if p.error is not None:
                raise p.error
            p.waiter = asyncio.get_running_loop().create_future()
            p.wanted = n
            try:
                await asyncio.wait_for(p.waiter, self.timeout)
            except TimeoutError:
                self.abort()
                raise aiosmtplib.SMTPReadTimeoutError(
                    "Timed out waiting for server response"
                ) from None
            finally:
                p.waiter = None
        return [p.replies.popleft() for _ in range(n)]

    async def send(
        self, sender: str, recipient: str, data: bytes, *, eight_bit: bool = False
    ) -> Reply:
        """Send ``data`` (already :func:`wire` encoded) from ``sender`` to ``recipient``.

        Returns the reply that decided: the final 250, or the first refusal (MAIL, RCPT, DATA or
        the content's). Raises ``ValueError`` for an address that cannot go into a command,
        ``aiosmtplib.SMTPNotSupported`` for a non-ASCII address the server cannot take, and the
        connection errors named in the module's docstring. ``eight_bit``: the content is not
        ASCII (announced as ``BODY=8BITMIME`` when the server offers it).
        """
        options = " BODY=8BITMIME" if eight_bit and self.supports("8BITMIME") else ""
        if _CONTROL.search(sender) or _CONTROL.search(recipient):
            raise ValueError("an address contains a control character or angle bracket")
        if not (sender.isascii() and recipient.isascii()):
            if not self.supports("SMTPUTF8"):
                raise aiosmtplib.SMTPNotSupported("SMTPUTF8 is not supported by this server")
            options += " SMTPUTF8"
        mail = f"MAIL FROM:<{sender}>{options}\r\n".encode()
        rcpt = f"RCPT TO:<{recipient}>\r\n".encode()
        steps = ((mail, (250,)), (rcpt, (250, 251)), (b"DATA\r\n", (354,)))
        if self.supports("PIPELINING"):
            self._write(mail + rcpt + b"DATA\r\n")
            replies = await self._read(3)
        else:
            replies = []
            for command, ok in steps:
                self._write(command)
                replies += await self._read(1)
                if replies[-1].code not in ok:
                    break
        refusal = next(
            (reply for reply, (_, ok) in zip(replies, steps, strict=False) if reply.code not in ok),
            None,
        )
        if refusal is None:
            self._write(data)
            (final,) = await self._read(1)
            self.last_used = asyncio.get_running_loop().time()
            return final
        if len(replies) == 3 and replies[2].code == 354:
            # The server accepted DATA after refusing the envelope (it should not): end the
            # empty message so the next transaction starts cleanly.
            self._write(b".\r\n")
            await self._read(1)
        await self.reset()
        return refusal

    async def reset(self) -> None:
        self._write(b"RSET\r\n")
        await self._read(1)

    async def quit(self) -> None:
        try:
            self._write(b"QUIT\r\n")
            await self._read(1)
        except (OSError, aiosmtplib.SMTPException):
            pass
        finally:
            self.abort()

    def abort(self) -> None:
        if self.protocol.transport is not None:
            self.protocol.transport.close()
