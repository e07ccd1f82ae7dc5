"""Interop at the SCTP/DCEP layer with aiortc's independent RTCSctpTransport.

aiortc's DTLS transport is replaced by an in-memory stand-in, so the two SCTP stacks talk
directly (SCTP packets as bytes, exactly what DTLS would carry). No sockets are used.

Observed aiortc 1.16 quirk (not ours): on FORWARD TSN it pops deliverable messages *before*
pruning fragments up to the new cumulative TSN, so a leftover fragment of the skipped message
blocks an *ordered* stream and the following complete messages are then pruned unseen.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import pytest
from aiortc.rtcdatachannel import RTCDataChannel, RTCDataChannelParameters
from aiortc.rtcsctptransport import RTCSctpTransport

import sctp

pytestmark = pytest.mark.interop


class FakeDtls:
    """Just enough of aiortc's RTCDtlsTransport for RTCSctpTransport."""

    def __init__(self, role: str) -> None:
        self._role = role
        self.state = "connected"
        self.receiver: Any = None
        self.out: list[bytes] = []

    def _register_data_receiver(self, receiver: Any) -> None:
        self.receiver = receiver

    def _unregister_data_receiver(self, receiver: Any) -> None:
        self.receiver = None

    async def _send_data(self, data: bytes) -> None:
        self.out.append(bytes(data))


class Harness:
    def __init__(self, ours_is_client: bool) -> None:
        self.ours = sctp.Association(is_client=ours_is_client, rng=random.Random(4))
        self.ours.set_remote_max_message_size(65536)
        self.fake = FakeDtls("server" if ours_is_client else "client")
        self.theirs = RTCSctpTransport(self.fake)  # type: ignore[arg-type]
        self.events: list[sctp.Event] = []
        self.loop = asyncio.get_event_loop()

    async def pump(self, until: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = self.loop.time() + timeout
        while True:
            now = self.loop.time()
            for p in self.ours.datagrams_to_send():
                if self.fake.receiver is not None:
                    await self.fake.receiver._handle_data(p)
            out, self.fake.out = self.fake.out, []
            for p in out:
                self.ours.receive(p, now)
            t = self.ours.next_timeout()
            if t is not None and t <= now:
                self.ours.handle_timeout(now)
            while (ev := self.ours.next_event()) is not None:
                self.events.append(ev)
            if until():
                return
            assert now < deadline, f"timed out; last events {self.events[-4:]}"
            await asyncio.sleep(0.001)

    def messages(self, sid: int) -> list[bytes]:
        return [
            e.data
            for e in self.events
            if isinstance(e, sctp.MessageReceived) and e.stream_id == sid
        ]

    def opened(self) -> dict[int, sctp.ChannelOpened]:
        return {e.stream_id: e for e in self.events if isinstance(e, sctp.ChannelOpened)}


@pytest.mark.parametrize("ours_is_client", [True, False])
def test_aiortc_interop(ours_is_client: bool) -> None:
    async def main() -> None:
        h = Harness(ours_is_client)
        h.ours.connect(h.loop.time())
        await h.theirs.start(h.theirs.getCapabilities(), 5000)
        established = lambda: any(isinstance(e, sctp.AssociationEstablished) for e in h.events)  # noqa: E731
        await h.pump(lambda: established() and h.theirs.state == "connected")

        # aiortc opens a channel towards us (DCEP OPEN from their side)
        their_dc = RTCDataChannel(h.theirs, RTCDataChannelParameters(label="from-aiortc"))
        received_by_them: list[Any] = []
        await h.pump(
            lambda: any(o.remote for o in h.opened().values()) and their_dc.readyState == "open"
        )
        sid = next(s for s, o in h.opened().items() if o.remote)
        assert sid % 2 == (1 if ours_is_client else 0)
        assert h.opened()[sid].label == "from-aiortc"
        their_dc.on("message", received_by_them.append)
        their_dc.send(b"binary hello")
        their_dc.send("text hello")
        their_dc.send(b"")
        await h.pump(lambda: len(h.messages(sid)) == 3)
        assert h.messages(sid) == [b"binary hello", b"text hello", b""]
        binary = [e.binary for e in h.events if isinstance(e, sctp.MessageReceived)]
        assert binary == [True, False, True]
        # and back, including a message of many fragments
        big = bytes(range(256)) * 200
        h.ours.send(sid, b"echo")
        h.ours.send(sid, b"texte", binary=False)
        h.ours.send(sid, big)
        await h.pump(lambda: len(received_by_them) == 3)
        assert received_by_them == [b"echo", "texte", big]

        # we open channels towards aiortc (DCEP OPEN from our side)
        remote_channels: list[Any] = []
        h.theirs.on("datachannel", remote_channels.append)
        ours_sid = h.ours.open_channel("from-us", protocol="chat", ordered=False, max_retransmits=3)
        await h.pump(lambda: ours_sid in h.opened() and bool(remote_channels))
        dc = remote_channels[0]
        assert (dc.label, dc.protocol, dc.ordered, dc.maxRetransmits, dc.id) == (
            "from-us",
            "chat",
            False,
            3,
            ours_sid,
        )
        assert ours_sid % 2 == (0 if ours_is_client else 1)
        got: list[Any] = []
        dc.on("message", got.append)
        for i in range(50):
            h.ours.send(ours_sid, bytes([i]) * (i * 97))
        await h.pump(lambda: len(got) == 50)
        assert sorted(got, key=len) == [bytes([i]) * (i * 97) for i in range(50)]

        # closing our channel resets the stream in both directions (RFC 8831 §6.7)
        h.ours.close_channel(ours_sid)
        await h.pump(
            lambda: (
                any(isinstance(e, sctp.ChannelClosed) and e.stream_id == ours_sid for e in h.events)
                and dc.readyState == "closed"
            )
        )
        # aiortc closes its channel: we see ChannelClosed and the other channel still works
        their_dc.close()
        await h.pump(
            lambda: any(isinstance(e, sctp.ChannelClosed) and e.stream_id == sid for e in h.events)
        )
        last = RTCDataChannel(h.theirs, RTCDataChannelParameters(label="last", ordered=False))
        await h.pump(
            lambda: (
                any(o.label == "last" for o in h.opened().values()) and last.readyState == "open"
            )
        )
        last.send(b"still alive")
        lsid = next(s for s, o in h.opened().items() if o.label == "last")
        assert lsid == sid  # aiortc reuses the stream id once both directions were reset
        await h.pump(lambda: h.messages(lsid)[-1:] == [b"still alive"])
        assert len(h.messages(lsid)) == 4
        assert h.ours.stats.bad_checksum == 0 and h.ours.stats.malformed == 0
        await h.theirs.stop()

    asyncio.run(main())


def test_aiortc_interop_with_loss() -> None:
    """Every 7th packet in each direction is dropped during the bursts: both stacks must repair
    the losses (SACK gap blocks, fast retransmit, T3) and PR-SCTP must skip abandoned data."""

    async def main() -> None:
        h = Harness(True)
        h.ours.connect(h.loop.time())
        await h.theirs.start(h.theirs.getCapabilities(), 5000)
        await h.pump(
            lambda: (
                any(isinstance(e, sctp.AssociationEstablished) for e in h.events)
                and h.theirs.state == "connected"
            )
        )
        counter = {"in": 0, "out": 0}
        dropping = [True]
        orig_receive = h.ours.receive

        def lossy_receive(data: bytes, now: float) -> None:
            counter["in"] += 1
            if dropping[0] and counter["in"] % 7 == 3:
                return
            orig_receive(data, now)

        h.ours.receive = lossy_receive  # type: ignore[method-assign]
        orig_handle = h.theirs._handle_data

        async def lossy_handle(data: bytes) -> None:
            counter["out"] += 1
            if dropping[0] and counter["out"] % 7 == 5:
                return
            await orig_handle(data)

        h.fake.receiver._handle_data = lossy_handle
        their_dc = RTCDataChannel(h.theirs, RTCDataChannelParameters(label="lossy"))
        remote: list[Any] = []
        h.theirs.on("datachannel", remote.append)
        sid = h.ours.open_channel("ours-reliable")
        pr_sid = h.ours.open_channel("ours-pr", ordered=False, max_retransmits=0)
        # wait for both DATA_CHANNEL_ACKs: before it, RFC 8832 §6 makes us send ordered, and
        # aiortc 1.16 can lose ordered messages after a FORWARD TSN (see module docstring)
        await h.pump(
            lambda: (
                their_dc.readyState == "open"
                and len(remote) == 2
                and sid in h.opened()
                and pr_sid in h.opened()
            )
        )
        dc = next(d for d in remote if d.label == "ours-reliable")
        pr_dc = next(d for d in remote if d.label == "ours-pr")
        got: list[Any] = []
        pr_got: list[Any] = []
        dc.on("message", got.append)
        pr_dc.on("message", pr_got.append)
        their_sid = next(s for s, o in h.opened().items() if o.label == "lossy")
        sent_ours = [bytes([i]) * (500 + i * 53) for i in range(80)]
        sent_theirs = [bytes([i]) * (300 + i * 71) for i in range(80)]
        for i in range(80):
            h.ours.send(sid, sent_ours[i])
            h.ours.send(pr_sid, b"pr%d" % i * 100)
            their_dc.send(sent_theirs[i])

        def settled() -> bool:
            if len(got) >= 60:
                dropping[0] = False  # a clean tail so the test does not wait on long timers
            return len(got) == 80 and len(h.messages(their_sid)) == 80

        await h.pump(settled, timeout=60)
        assert got == sent_ours
        assert h.messages(their_sid) == sent_theirs
        assert set(pr_got) <= {b"pr%d" % i * 100 for i in range(80)}
        await h.pump(lambda: not h.ours.tx.sched and not h.ours.tx.outstanding(), timeout=30)
        abandoned = h.ours.stats.abandoned_messages
        # aiortc skipped the abandoned messages and delivered every other one
        assert 80 - abandoned <= len(pr_got) <= 80
        assert h.ours.stats.retransmissions > 0 and h.ours.stats.fast_retransmits > 0
        await h.theirs.stop()

    asyncio.run(main())
