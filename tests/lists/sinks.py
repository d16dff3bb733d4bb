"""An aiosmtpd sink that misbehaves on purpose: scripted or random 4xx/5xx replies and dropped
connections, for the delivery and fault tests. Only what it answers 250 to counts as received."""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from aiosmtpd.smtp import SMTP

DROP = "DROP"  # instead of a reply: cut the connection without answering


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    mail_options: list[str]


class FaultySink:
    """``rcpt``/``data``: per recipient, the replies to give on its successive RCPT / DATA (then
    250). ``random_4xx``/``random_drop``: the chance that a RCPT is answered 451 / the connection is
    dropped at DATA, at most ``max_random_faults`` times per recipient (so a test cannot run out of
    retries by bad luck); seeded, so a run can be replayed."""

    def __init__(
        self,
        *,
        rcpt: dict[str, list[str]] | None = None,
        data: dict[str, list[str]] | None = None,
        random_4xx: float = 0.0,
        random_drop: float = 0.0,
        max_random_faults: int = 3,
        seed: int = 3,
        data_delay: float = 0.0,
    ) -> None:
        self.rcpt = {k: list(v) for k, v in (rcpt or {}).items()}
        self.data = {k: list(v) for k, v in (data or {}).items()}
        self.random_4xx = random_4xx
        self.random_drop = random_drop
        self.max_random_faults = max_random_faults
        self.rng = random.Random(seed)
        self.data_delay = data_delay
        self.messages: list[Received] = []
        self.connections = 0
        self.open = 0  # connections currently open (see :func:`factory`)
        self.active = 0
        self.peak = 0
        self.faults: Counter[str] = Counter()  # recipient -> random faults given
        self.counts: Counter[str] = Counter()  # "4xx", "drop", "5xx" …
        self.lock = threading.Lock()

    def _random_fault(self, recipient: str, chance: float) -> bool:
        if chance and self.faults[recipient] < self.max_random_faults:
            if self.rng.random() < chance:
                self.faults[recipient] += 1
                return True
        return False

    @staticmethod
    def _drop(server) -> str:
        server.transport.abort()
        return "421 dropped"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        script = self.rcpt.get(address)
        reply = script.pop(0) if script else None
        if reply is None and self._random_fault(address, self.random_4xx):
            reply = "451 4.3.0 try again later (random fault)"
        if reply == DROP:
            self.counts["drop"] += 1
            return self._drop(server)
        if reply:
            self.counts[reply[0] + "xx"] += 1
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        (recipient,) = envelope.rcpt_tos
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            if self.data_delay:
                await asyncio.sleep(self.data_delay)
            script = self.data.get(recipient)
            reply = script.pop(0) if script else None
            if reply is None and self._random_fault(recipient, self.random_drop):
                reply = DROP
            if reply == DROP:
                self.counts["drop"] += 1
                return self._drop(server)
            if reply:
                self.counts[reply[0] + "xx"] += 1
                return reply
            with self.lock:
                self.messages.append(
                    Received(
                        envelope.mail_from,
                        list(envelope.rcpt_tos),
                        bytes(envelope.content),
                        list(envelope.mail_options),
                    )
                )
            return "250 OK"
        finally:
            self.active -= 1

    def received_by(self) -> Counter[str]:
        with self.lock:
            return Counter(m.rcpt_tos[0] for m in self.messages)


def factory(handler: FaultySink) -> Callable[[], SMTP]:
    class CountingSMTP(SMTP):
        """Keeps ``handler.open`` up to date: once it is 0 after a client died, nothing more
        from that client can still be counted as received."""

        def connection_made(self, transport) -> None:
            handler.open += 1
            super().connection_made(transport)

        def connection_lost(self, exc) -> None:
            handler.open -= 1
            super().connection_lost(exc)

    return lambda: CountingSMTP(handler, hostname="faulty-sink.test")
