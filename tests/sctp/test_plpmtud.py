"""Datagram PLPMTUD (RFC 8899 §6.2): probe sizes, bigger packets, black holes, PAD chunks."""

from __future__ import annotations

import struct
from typing import Any

import pytest

import sctp
from sctp import chunks as c
from tests.netsim import Impairment, Link, VirtualClock

from .util import Peer, connect, make_pair, run

BASE = 1163  # what webrtc passes: DTLS payload MTU for 1200-byte datagrams with AES-GCM
MAX = 16384  # largest DTLS record plaintext, declared by our own peers
BIG: dict[str, Any] = {"max_message_size": 2 << 20}
WEBRTC: dict[str, Any] = {"max_backoff": 3.0, "failure_timeout": 30.0}


class RecordingLink(Link):
    """A Link that keeps every datagram handed to it (before loss or the MTU check)."""

    def __init__(
        self, mtu: int = 65535, loss: float = 0.0, seed: int = 0, imp: Impairment | None = None
    ) -> None:
        super().__init__(imp or Impairment(mtu=mtu, loss=loss, seed=seed))
        self.log: list[bytes] = []

    def send(self, data: bytes, now: float) -> None:
        self.log.append(data)
        super().send(data, now)


def chunk_list(pkt: bytes) -> list[c.Chunk]:
    return c.decode_packet(pkt, allow_zero_checksum=True).chunks


def is_probe(pkt: bytes) -> bool:
    return any(isinstance(ch, c.UnknownChunk) and ch.chunk_type == 0x84 for ch in chunk_list(pkt))


def data_packets(log: list[bytes]) -> list[bytes]:
    return [p for p in log if any(isinstance(ch, c.DataChunk) for ch in chunk_list(p))]


def mtu_events(p: Peer) -> list[int]:
    return [ev.size for ev in p.events if isinstance(ev, sctp.PathMtuChanged)]


def setup(
    *,
    enable_a: bool = True,
    enable_b: bool = True,
    mtu: int = 65535,
    loss: float = 0.0,
    **kw: object,
) -> tuple[Peer, Peer, VirtualClock, RecordingLink, RecordingLink]:
    a, b = make_pair(**{**BIG, **kw})
    for p, on in ((a, enable_a), (b, enable_b)):
        p.assoc.set_max_packet_size(BASE)
        if on:
            p.assoc.enable_plpmtud(MAX)
    clock = VirtualClock()
    lab, lba = RecordingLink(mtu, loss, seed=1), RecordingLink(mtu, loss, seed=2)
    connect(a, b, clock, link_ab=lab, link_ba=lba)
    return a, b, clock, lab, lba


def settle(
    a: Peer, b: Peer, clock: VirtualClock, lab: Link, lba: Link, max_time: float = 60.0
) -> None:
    """Run until neither side is probing any more."""
    searching = (sctp.PlpmtudState.BASE, sctp.PlpmtudState.SEARCHING)
    assert run(
        a,
        b,
        clock,
        lambda: a.assoc.plpmtud_state not in searching and b.assoc.plpmtud_state not in searching,
        link_ab=lab,
        link_ba=lba,
        max_time=max_time,
    )


def transfer(
    a: Peer, b: Peer, clock: VirtualClock, lab: Link, lba: Link, msgs: list[bytes], sid: int = 0
) -> None:
    a.assoc.open_channel("t", negotiated_id=sid)
    b.assoc.open_channel("t", negotiated_id=sid)
    for m in msgs:
        a.assoc.send(sid, m)
    done = lambda: len(b.messages.get(sid, [])) == len(msgs)  # noqa: E731
    assert run(a, b, clock, done, link_ab=lab, link_ba=lba, max_time=300)
    assert b.messages[sid] == msgs


MIB = bytes(range(256)) * 4096


def test_loopback_finds_max_and_moves_1mib_in_few_packets() -> None:
    a, b, clock, lab, lba = setup()
    t0 = clock.now
    settle(a, b, clock, lab, lba)
    assert clock.now - t0 < 0.1  # base probe + MAX probe: two round trips (5 ms links)
    for p in (a, b):
        assert p.assoc.plpmtu == MAX
        assert p.assoc.plpmtud_state is sctp.PlpmtudState.SEARCH_COMPLETE
        assert mtu_events(p) == [MAX]
        assert p.assoc.stats.plpmtud_probes_sent == 2  # BASE_PLPMTU, then MAX_PLPMTU
        assert p.assoc.stats.plpmtud_probes_acked == 2
    probes = [p for p in lab.log if is_probe(p)]
    assert sorted(len(p) for p in probes) == [BASE & ~3, MAX]
    assert a.assoc.tx.flight == 0  # probes are not counted against cwnd (RFC 8899 §6.2)
    n0 = len(lab.log)
    t1 = clock.now
    transfer(a, b, clock, lab, lba, [MIB])
    # no SACK.Delay (200 ms) stall although cwnd (4 KiB + growth) starts below 2 packets:
    # the chunk that fills cwnd carries the I bit (RFC 7053)
    assert clock.now - t1 < 0.15
    sent = data_packets(lab.log[n0:])
    assert any(
        isinstance(ch, c.DataChunk) and ch.flags & 0x08 for p in sent for ch in chunk_list(p)
    )
    assert max(len(p) for p in sent) == MAX
    # 1 MiB in 16356-byte fragments: 65 packets (plus a few retransmissions at most)
    assert len(sent) <= 70
    assert a.assoc.stats.plpmtud_black_holes == 0


def test_disabled_never_exceeds_base() -> None:
    """Regression guard: without enable_plpmtud() nothing grows beyond set_max_packet_size()."""
    a, b, clock, lab, lba = setup(enable_a=False, enable_b=False)
    settle(a, b, clock, lab, lba)
    transfer(a, b, clock, lab, lba, [MIB, *[bytes([i]) * 300 for i in range(200)]])
    log = lab.log + lba.log
    assert max(len(p) for p in log) <= BASE
    assert not any(is_probe(p) for p in log)
    # default DATA chunks are unchanged: no I bit (RFC 7053) without PLPMTUD
    assert not any(
        isinstance(ch, c.DataChunk) and ch.flags & 0x08 for p in log for ch in chunk_list(p)
    )
    for p in (a, b):
        assert p.assoc.plpmtu == BASE
        assert p.assoc.plpmtud_state is sctp.PlpmtudState.DISABLED
        assert p.assoc.stats.plpmtud_probes_sent == 0
        assert mtu_events(p) == []
    # 1 MiB at 1132 bytes of user data per packet: ~14x the packets of the PLPMTUD run
    assert len(data_packets(lab.log)) >= 1048576 // 1132


def test_link_mtu_1500_settles_below_it() -> None:
    a, b, clock, lab, lba = setup(mtu=1500)
    t0 = clock.now
    settle(a, b, clock, lab, lba)
    # MAX fails (3 probes), 1412 and 1432 pass, 2048 fails (3 probes): a few seconds
    assert clock.now - t0 < 10
    for p in (a, b):
        assert BASE < p.assoc.plpmtu <= 1500
        assert p.assoc.plpmtu == 1432
        assert mtu_events(p) == [1412, 1432]
        assert p.assoc.stats.plpmtud_probes_sent == 1 + 3 + 1 + 1 + 3
    transfer(a, b, clock, lab, lba, [MIB[:200_000]])
    assert max(len(p) for p in lab.log if not is_probe(p)) <= 1432
    assert lab.dropped == 6  # only the probes of the sizes that failed were lost


def test_lossy_link_still_reaches_max() -> None:
    """Lost probes are retried (MAX_PROBES per size); probe loss never touches cwnd."""
    a, b, clock, lab, lba = setup(loss=0.2)
    settle(a, b, clock, lab, lba)
    assert a.assoc.plpmtu == MAX and b.assoc.plpmtu == MAX
    transfer(a, b, clock, lab, lba, [MIB[:300_000]])
    assert a.assoc.stats.retransmissions > 0
    assert a.assoc.plpmtu == MAX and a.assoc.stats.plpmtud_black_holes == 0


def test_one_side_enabled() -> None:
    """Only the enabling side sends big packets (the peer declared it accepts them)."""
    a, b, clock, lab, lba = setup(enable_b=False)
    settle(a, b, clock, lab, lba)
    assert a.assoc.plpmtu == MAX and b.assoc.plpmtu == BASE
    transfer(a, b, clock, lab, lba, [MIB[:100_000]], sid=0)
    transfer(b, a, clock, lba, lab, [MIB[:100_000]], sid=2)
    assert max(len(p) for p in lab.log) == MAX
    assert max(len(p) for p in lba.log) <= BASE
    assert b.assoc.stats.plpmtud_probes_sent == 0 and mtu_events(b) == []


def test_enable_after_establishment_and_base_changes() -> None:
    a, b = make_pair()
    clock = VirtualClock()
    lab, lba = RecordingLink(), RecordingLink()
    connect(a, b, clock, link_ab=lab, link_ba=lba)
    assert a.assoc.plpmtud_state is sctp.PlpmtudState.DISABLED
    with pytest.raises(ValueError):
        a.assoc.enable_plpmtud(100)
    a.assoc.set_max_packet_size(BASE)
    a.assoc.enable_plpmtud(9000)
    settle(a, b, clock, lab, lba)
    assert a.assoc.plpmtu == 9000
    # a new BASE_PLPMTU below the confirmed size keeps the confirmed size
    a.assoc.set_max_packet_size(1000)
    assert a.assoc.plpmtu == 9000
    a.assoc.set_max_packet_size(9500)
    assert a.assoc.plpmtu == 9500
    a.drain()
    assert mtu_events(a) == [9000, 9500]


def test_black_hole_with_bundled_messages_falls_back_and_completes() -> None:
    """The path shrinks mid-transfer: T3-rtx, failed confirmation probes, back to BASE; small
    messages bundled into big packets are re-packed and the transfer completes."""
    a, b, clock, lab, lba = setup(**WEBRTC)
    settle(a, b, clock, lab, lba)
    assert a.assoc.plpmtu == MAX
    msgs = [struct.pack("!I", i) * 250 for i in range(3000)]
    a.assoc.open_channel("t", negotiated_id=0)
    b.assoc.open_channel("t", negotiated_id=0)
    for m in msgs:
        a.assoc.send(0, m)
    shrunk: list[float] = []

    def step(now: float) -> None:
        if not shrunk and len(b.messages.get(0, [])) > 500:
            lab.impairment.mtu = 1300
            shrunk.append(now)

    done = lambda: len(b.messages.get(0, [])) == len(msgs)  # noqa: E731
    assert run(a, b, clock, done, link_ab=lab, link_ba=lba, max_time=120, on_step=step)
    assert b.messages[0] == msgs
    assert a.assoc.stats.plpmtud_black_holes == 1
    assert a.assoc.stats.t3_expirations >= 1
    # 1412 (smallest size above BASE) fails too: BASE it is
    assert mtu_events(a) == [MAX, BASE]
    settle(a, b, clock, lab, lba)
    assert a.assoc.plpmtu == BASE
    assert a.assoc.plpmtud_state is sctp.PlpmtudState.SEARCH_COMPLETE
    # PMTU_RAISE_TIMER: the path is back to 64 KiB; 600 s later the search finds MAX again
    lab.impairment.mtu = 65535
    t_low = clock.now
    assert run(a, b, clock, lambda: a.assoc.plpmtu == MAX, link_ab=lab, link_ba=lba, max_time=700)
    assert clock.now - t_low >= 590
    assert mtu_events(a) == [MAX, BASE, MAX]


def test_black_hole_with_large_fragments_cannot_complete() -> None:
    """DATA fragmented at 16 KiB keeps its TSNs and size (RFC 9260 §7.3): once the path only
    carries 4000 bytes those chunks never arrive. PLPMTUD still falls back (and finds 2048 for
    new data), but the association ends by path failure with the message undelivered."""
    a, b, clock, lab, lba = setup(**WEBRTC)
    settle(a, b, clock, lab, lba)
    a.assoc.open_channel("t", negotiated_id=0)
    b.assoc.open_channel("t", negotiated_id=0)
    a.assoc.send(0, MIB)
    shrunk: list[float] = []

    def step(now: float) -> None:
        if not shrunk and a.assoc.tx.flight > 200_000:
            lab.impairment.mtu = 4000
            shrunk.append(now)

    assert run(
        a, b, clock, lambda: a.assoc_closed is not None, link_ab=lab, link_ba=lba, on_step=step
    )
    assert a.assoc_closed is not None and "unreachable" in (a.assoc_closed.error or "")
    assert not b.messages.get(0)
    assert a.assoc.stats.plpmtud_black_holes == 1
    assert mtu_events(a)[:2] == [MAX, BASE]
    assert a.assoc.plpmtu == 2048  # the search below the failed size: 1412, 1432, 2048 pass
    # after the fall-back, new fragments fit; only chunks built for 16 KiB exceed the path
    after = [p for p in lab.log[-200:] if not is_probe(p) and len(p) > 4000]
    assert all(len(data_packets([p])) == 1 and len(chunk_list(p)) == 1 for p in after)


def test_pad_chunks_are_ignored() -> None:
    """RFC 4820 §3: a PAD chunk after DATA is skipped silently (no ERROR, not counted)."""

    class PadLink(RecordingLink):
        def send(self, data: bytes, now: float) -> None:
            if any(isinstance(ch, c.DataChunk) for ch in chunk_list(data)):
                pad = struct.pack("!BBH", 0x84, 0, 4 + 37) + bytes(37) + bytes(3)
                data = data + pad
                if data[8:12] != bytes(4):
                    crc = c.compute_checksum(data)
                    data = data[:8] + c.CHECKSUM.pack(crc) + data[12:]
            super().send(data, now)

    a, b = make_pair()
    clock = VirtualClock()
    lab, lba = PadLink(), RecordingLink()
    connect(a, b, clock, link_ab=lab, link_ba=lba)
    transfer(a, b, clock, lab, lba, [b"x" * 5000, b"y"])
    assert b.assoc.stats.unknown_chunks == 0 and b.assoc.stats.malformed == 0
    assert not any(isinstance(ch, c.ErrorChunk) for p in lba.log for ch in chunk_list(p))


def test_outage_is_not_a_black_hole() -> None:
    """T3-rtx during a 10 s outage starts a confirmation; rounds where even the BASE-sized
    probe is lost do not count, so the PLPMTU survives and the transfer completes."""
    a, b, clock, lab, lba = setup(**WEBRTC)
    settle(a, b, clock, lab, lba)
    a.assoc.open_channel("t", negotiated_id=0)
    b.assoc.open_channel("t", negotiated_id=0)
    a.assoc.send(0, MIB)
    down: list[float] = []

    def step(now: float) -> None:
        if not down and a.assoc.tx.flight > 100_000:
            lab.down = lba.down = True
            down.append(now)
        elif down and now - down[0] > 10:
            lab.down = lba.down = False

    done = lambda: bool(b.messages.get(0))  # noqa: E731
    assert run(a, b, clock, done, link_ab=lab, link_ba=lba, on_step=step)
    assert b.messages[0] == [MIB]
    assert a.assoc.stats.t3_expirations >= 3
    assert a.assoc.stats.plpmtud_black_holes == 0
    assert a.assoc.plpmtu == MAX and mtu_events(a) == [MAX]
    # the confirmation ends with the PLPMTU-sized probe answered after the outage
    assert run(a, b, clock, lambda: not a.assoc.pl.check, link_ab=lab, link_ba=lba)
    assert a.assoc.plpmtu == MAX and a.assoc.stats.plpmtud_black_holes == 0


def test_raised_max_searches_again() -> None:
    a, b, clock, lab, lba = setup(enable_b=False)
    a.assoc.enable_plpmtud(4000)
    settle(a, b, clock, lab, lba)
    assert a.assoc.plpmtu == 4000
    a.assoc.enable_plpmtud(MAX)
    assert a.assoc.plpmtud_state is sctp.PlpmtudState.SEARCHING
    settle(a, b, clock, lab, lba)
    assert a.assoc.plpmtu == MAX and mtu_events(a) == [4000, MAX]
    a.assoc.enable_plpmtud(2001)  # MAX_PLPMTU below the confirmed size: BASE, then search
    assert a.assoc.plpmtu == BASE
    settle(a, b, clock, lab, lba)
    assert a.assoc.plpmtu == 2000 and mtu_events(a) == [4000, MAX, BASE, 2000]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_impaired_link_with_plpmtud(seed: int) -> None:
    """Loss, duplication, reordering and jitter: probes and data stay consistent."""

    def imp(s: int) -> Impairment:
        return Impairment(loss=0.05, duplicate=0.05, reorder=0.1, jitter=0.004, mtu=9000, seed=s)

    a, b = make_pair(seed=seed, **BIG)
    for p in (a, b):
        p.assoc.set_max_packet_size(BASE)
        p.assoc.enable_plpmtud(MAX)
    clock = VirtualClock()
    lab, lba = RecordingLink(imp=imp(seed)), RecordingLink(imp=imp(seed + 7))
    connect(a, b, clock, link_ab=lab, link_ba=lba)
    msgs = [bytes([i]) * (i * 997 % 40000) for i in range(60)]
    transfer(a, b, clock, lab, lba, msgs)
    settle(a, b, clock, lab, lba)
    assert a.assoc.plpmtu == 8912  # MAX fails; 1412 .. 8912 (jumbo frames) pass
    sizes = [len(p) for p in lab.log if not is_probe(p)]
    assert max(sizes) <= 8912
