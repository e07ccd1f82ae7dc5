"""Path MTU changes (set_max_packet_size), loss recovery, capped back-off and path failure."""

from __future__ import annotations

import random

import pytest

import sctp
from sctp import chunks as c
from tests.netsim import Impairment, Link, VirtualClock

from .util import Peer, connect, make_pair, run

# what webrtc passes (docs/LAYERS.md "sctp"): RFC 9260 RTO values, back-off capped at 3 s as
# Chrome's dcsctp does, path failure after 30 s without any sign of life
WEBRTC = {"max_backoff": 3.0, "failure_timeout": 30.0}


class RecordingLink(Link):
    """A Link that keeps every datagram handed to it (before loss) with its send time."""

    def __init__(self, impairment: Impairment | None = None, seed: int | None = None) -> None:
        super().__init__(impairment, seed)
        self.log: list[tuple[float, bytes]] = []

    def send(self, data: bytes, now: float) -> None:
        self.log.append((now, data))
        super().send(data, now)


def data_chunks(pkt: bytes) -> list[c.DataChunk]:
    return [
        ch
        for ch in c.decode_packet(pkt, allow_zero_checksum=True).chunks
        if isinstance(ch, c.DataChunk)
    ]


def channel_pair(**kwargs: object) -> tuple[Peer, Peer, VirtualClock, int]:
    a, b = make_pair(**kwargs)
    clock = VirtualClock()
    connect(a, b, clock)
    sid = a.assoc.open_channel("p", negotiated_id=0)
    b.assoc.open_channel("p", negotiated_id=0)
    return a, b, clock, sid


# ---------------------------------------------------------------- path MTU


def test_max_packet_size_before_establishment() -> None:
    """DTLS payload MTU 1163 set before the handshake: every packet and fragment follows it."""
    a, b = make_pair()
    a.assoc.set_max_packet_size(1163)
    b.assoc.set_max_packet_size(1163)
    # RFC 9260 §7.2.1: initial cwnd = min(4*MTU, max(2*MTU, 4380))
    assert a.assoc.tx.cwnd == min(4 * 1163, max(2 * 1163, 4380))
    small = make_pair()[0]
    small.assoc.set_max_packet_size(600)
    assert small.assoc.tx.cwnd == 2400
    clock = VirtualClock()
    lab, lba = RecordingLink(), RecordingLink()
    connect(a, b, clock, link_ab=lab, link_ba=lba)
    sid = a.assoc.open_channel("p")
    msg = bytes(range(256)) * 200
    a.assoc.send(sid, msg)
    assert run(a, b, clock, lambda: bool(b.messages.get(sid)), link_ab=lab, link_ba=lba)
    assert b.messages[sid] == [msg]
    assert max(len(p) for _, p in lab.log + lba.log) <= 1163
    sizes = [len(d.user_data) for _, p in lab.log for d in data_chunks(p)]
    assert max(sizes) == 1163 - 12 - 16 - (1163 - 12 - 16) % 4


def test_max_packet_size_lowered_mid_transfer_keeps_tsns() -> None:
    """RFC 9260 §7.3: DATA already fragmented keeps its TSNs; chunks too big now go alone."""
    a, b, clock, sid = channel_pair()
    lab, lba = RecordingLink(), RecordingLink()
    big = [bytes([i]) * 30000 for i in range(4)]
    for m in big:
        a.assoc.send(sid, m)
    # hand out the first flight at the old size, then lose it and shrink the path
    first = a.assoc.datagrams_to_send()
    assert first and max(len(p) for p in first) > 600
    old = {d.tsn: len(d.user_data) for p in first for d in data_chunks(p)}
    a.assoc.set_max_packet_size(600)
    later = [bytes([9]) * 5000]
    a.assoc.send(sid, later[0])
    assert run(a, b, clock, lambda: len(b.messages.get(sid, [])) == 5, link_ab=lab, link_ba=lba)
    assert b.messages[sid] == big + later
    rtx = 0
    for _, p in lab.log:
        chunks = data_chunks(p)
        if len(p) > 600:
            # only a retransmission of a chunk built for the old MTU, alone in its packet
            assert (
                len(chunks) == 1 and len(c.decode_packet(p, allow_zero_checksum=True).chunks) == 1
            )
            assert old.get(chunks[0].tsn) == len(chunks[0].user_data)
            rtx += 1
        for d in chunks:
            if d.tsn in old:
                assert len(d.user_data) == old[d.tsn]  # same TSN, same fragment
    assert rtx == sum(1 for n in old.values() if n > 600 - 28)
    assert a.assoc.stats.retransmissions >= len(old)


def test_max_packet_size_raised_uses_larger_fragments() -> None:
    a, b = make_pair(max_packet_size=600)
    clock = VirtualClock()
    connect(a, b, clock)
    sid = a.assoc.open_channel("p")
    lab = RecordingLink()
    a.assoc.send(sid, bytes(20000))
    assert run(a, b, clock, lambda: bool(b.messages.get(sid)), link_ab=lab)
    assert max(len(p) for _, p in lab.log) <= 600
    a.assoc.set_max_packet_size(1200)
    n = len(lab.log)
    a.assoc.send(sid, bytes(20000))
    assert run(a, b, clock, lambda: len(b.messages[sid]) == 2, link_ab=lab)
    assert max(len(p) for _, p in lab.log[n:]) > 1100


@pytest.mark.parametrize("n", [0, 255, 65536])
def test_max_packet_size_range(n: int) -> None:
    a, _ = make_pair()
    with pytest.raises(ValueError):
        a.assoc.set_max_packet_size(n)
    with pytest.raises(ValueError):
        sctp.Association(is_client=True, max_packet_size=n)


def test_sack_fits_a_small_packet() -> None:
    """Gap reports are cut so that a SACK always fits the packet budget."""
    a, b, clock, sid = channel_pair(max_packet_size=256)
    for i in range(300):
        a.assoc.send(sid, bytes([i & 0xFF]) * 100)
    a.assoc.tx.cwnd = 1 << 24  # let everything out at once
    pkts = a.assoc.datagrams_to_send()
    assert len(pkts) > 120
    for i, p in enumerate(pkts):
        if i % 2 == 0:  # every other packet lost: ~100 gaps
            b.assoc.receive(p, clock.now)
    b.assoc.handle_timeout(clock.now + 1)
    out = b.assoc.datagrams_to_send()
    sacks = [
        ch
        for p in out
        for ch in c.decode_packet(p, allow_zero_checksum=True).chunks
        if isinstance(ch, c.SackChunk)
    ]
    assert sacks and all(len(p) <= 256 for p in out)
    assert len(sacks[-1].gaps) == (256 - 12 - 16) // 4


# ---------------------------------------------------------------- loss and back-off


def _lossy_transfer(seed: int, budget: float, **kwargs: object) -> tuple[Peer, Peer, float]:
    """50 messages of 1000 bytes plus one 20 kB message over 30% loss in each direction."""
    imp = Impairment(loss=0.3, delay=0.02, jitter=0.005)
    a, b = make_pair(seed=seed, **kwargs)
    clock = VirtualClock()
    lab, lba = Link(imp, seed=2 * seed + 1), Link(imp, seed=2 * seed + 2)
    a.assoc.connect(clock.now)
    b.assoc.connect(clock.now)
    assert run(a, b, clock, lambda: a.established and b.established, link_ab=lab, link_ba=lba)
    sid = a.assoc.open_channel("p", negotiated_id=0)
    b.assoc.open_channel("p", negotiated_id=0)
    msgs = [bytes([i]) * 1000 for i in range(50)] + [bytes(range(200)) * 100]
    for m in msgs:
        a.assoc.send(sid, m)
    start = clock.now
    done = run(
        a,
        b,
        clock,
        lambda: len(b.messages.get(sid, [])) == len(msgs),
        link_ab=lab,
        link_ba=lba,
        max_time=budget,
    )
    assert done, f"seed {seed}: {len(b.messages.get(sid, []))}/{len(msgs)} after {budget} s"
    assert b.messages[sid] == msgs
    assert a.assoc_closed is None and b.assoc_closed is None
    return a, b, clock.now - start


@pytest.mark.parametrize("seed", range(20))
def test_thirty_percent_loss_both_ways_finishes(seed: int) -> None:
    """Capped back-off: every seed finishes 70 kB within 60 s of virtual time."""
    a, _, _ = _lossy_transfer(seed, 60.0, **WEBRTC)
    assert a.assoc.rto.value <= 3.0


@pytest.mark.parametrize("seed", range(0, 20, 4))
def test_thirty_percent_loss_rfc_defaults_finishes(seed: int) -> None:
    """RFC 9260 defaults: slower, but the back-off collapses once the cumulative ack moves."""
    _lossy_transfer(seed, 180.0)


def test_backoff_is_capped_and_collapses_on_ack() -> None:
    a, b, clock, sid = channel_pair(max_backoff=3.0)
    lab, lba = Link(), Link()
    lab.down = True
    a.assoc.send(sid, b"x" * 100)
    rtos: list[float] = []
    assert run(
        a,
        b,
        clock,
        lambda: a.assoc.stats.t3_expirations >= 6,
        link_ab=lab,
        link_ba=lba,
        on_step=lambda now: rtos.append(a.assoc.rto.value),
    )
    assert max(rtos) == 3.0 and a.assoc.rto.value == 3.0  # RFC 9260 §6.3.3 E2 doubling, capped
    lab.down = False
    assert run(a, b, clock, lambda: bool(b.messages.get(sid)), link_ab=lab, link_ba=lba)
    assert run(a, b, clock, lambda: not a.assoc.tx.outstanding(), link_ab=lab, link_ba=lba)
    assert a.assoc.rto.value == a.assoc.rto.base == 1.0


@pytest.mark.parametrize("kwargs", [{}, WEBRTC], ids=["rfc", "webrtc"])
def test_outage_of_25_seconds_is_survived(kwargs: dict[str, float]) -> None:
    a, b, clock, sid = channel_pair(**kwargs)
    lab, lba = Link(Impairment(delay=0.02)), Link(Impairment(delay=0.02))
    msgs = [bytes([i]) * 3000 for i in range(40)]
    t0 = clock.now
    for m in msgs[:20]:
        a.assoc.send(sid, m)
    msgs_left = msgs[20:]
    rx_cum_at_outage = [b.assoc.rx.cum]
    resumed: list[float] = []

    def step2(now: float) -> None:
        lab.down = lba.down = t0 + 0.05 <= now < t0 + 25.05
        if now >= t0 + 25.05 and not resumed and b.assoc.rx.cum != rx_cum_at_outage[0]:
            resumed.append(now)
        if now < t0 + 0.05:
            rx_cum_at_outage[0] = b.assoc.rx.cum
        if now >= t0 + 10.0 and msgs_left:  # queued during the outage
            for m in msgs_left:
                a.assoc.send(sid, m)
            msgs_left.clear()

    assert run(
        a,
        b,
        clock,
        lambda: len(b.messages.get(sid, [])) == 40,
        link_ab=lab,
        link_ba=lba,
        on_step=step2,
        max_time=400,
    )
    assert b.messages[sid] == msgs
    assert a.assoc_closed is None and b.assoc_closed is None
    assert a.assoc.stats.t3_expirations >= 3
    if kwargs:  # data flows again within one capped back-off of the outage's end
        assert resumed and resumed[0] <= t0 + 25.05 + 3.0 + 0.1


@pytest.mark.parametrize(
    ("kwargs", "bound"),
    [
        ({}, 1 + 2 + 4 + 8 + 16 + 32 + 5 * 60),
        # capped back-off alone: 11 expiries come after only 30 s (why webrtc sets both)
        ({"max_backoff": 3.0}, 1 + 2 + 9 * 3),
        (WEBRTC, 30.0 + 3.0 + 1.0),
    ],
    ids=["rfc", "capped", "webrtc"],
)
def test_permanent_outage_fails_within_bound(kwargs: dict[str, float], bound: float) -> None:
    """RFC 9260 §8.2: 11 expiries with RFC defaults; with failure_timeout, at the first expiry
    `failure_timeout` after the first unanswered one (<= RTO + failure_timeout + max_backoff)."""
    a, b, clock, sid = channel_pair(**kwargs)
    lab, lba = Link(), Link()
    lab.down = lba.down = True
    t0 = clock.now
    a.assoc.send(sid, b"into the void")
    assert run(
        a, b, clock, lambda: a.assoc_closed is not None, link_ab=lab, link_ba=lba, max_time=1000
    )
    assert "unreachable" in (a.assoc_closed.error or "")  # type: ignore[union-attr]
    elapsed = clock.now - t0
    assert elapsed <= bound + 0.01
    assert elapsed >= (bound - 4.0 if "failure_timeout" in kwargs else bound - 0.01)


def test_idle_outage_detected_by_heartbeats_with_failure_timeout() -> None:
    a, b, clock, _ = channel_pair(**WEBRTC)
    lab, lba = Link(), Link()
    lab.down = lba.down = True
    t0 = clock.now
    assert run(
        a, b, clock, lambda: a.assoc_closed is not None, link_ab=lab, link_ba=lba, max_time=1000
    )
    # first unanswered HEARTBEAT after HB.interval (+RTO jitter), then failure_timeout later
    assert clock.now - t0 <= 30.0 + 1.5 + 1.0 + 30.0 + 3.0


# ---------------------------------------------------------------- SACK rate, slow start, fast path


def test_sack_every_second_packet_within_one_batch() -> None:
    """RFC 9260 §6.2: a SACK per two DATA packets even when the caller drains after a batch."""
    a, b, clock, sid = channel_pair()
    for i in range(8):
        a.assoc.send(sid, bytes([i]) * 1100)
    pkts = a.assoc.datagrams_to_send()
    assert len(pkts) == 4  # initial cwnd 4380 bytes: four one-chunk packets
    for p in pkts:
        b.assoc.receive(p, clock.now)
    out = b.assoc.datagrams_to_send()
    sacks = [
        ch
        for p in out
        for ch in c.decode_packet(p, allow_zero_checksum=True).chunks
        if isinstance(ch, c.SackChunk)
    ]
    assert len(sacks) == 2  # after packets 2 and 4 (the tail is not delayed either)
    assert sacks[-1].cumulative_tsn == (b.assoc.rx.cum & 0xFFFFFFFF)
    assert sacks[0].cumulative_tsn == (sacks[-1].cumulative_tsn - 2) & 0xFFFFFFFF
    before = a.assoc.tx.cwnd
    for p in out:
        a.assoc.receive(p, clock.now)
    assert a.assoc.tx.cwnd == before + 2 * 1200  # RFC 9260 §7.2.1: up to one MTU per SACK


def test_slow_start_is_exponential_on_a_lan() -> None:
    """Defaults do not throttle a 1 ms RTT path: 5 MB in far fewer RTTs than linear growth."""
    a, b, clock, sid = channel_pair()
    imp = Impairment(delay=0.0005)
    lab, lba = Link(imp), Link(imp)
    n = 320
    for _ in range(n):
        a.assoc.send(sid, bytes(16384))
    t0 = clock.now
    assert run(a, b, clock, lambda: len(b.messages.get(sid, [])) == n, link_ab=lab, link_ba=lba)
    # one MTU of growth per RTT (one SACK per batch) would need > 80 RTTs
    assert clock.now - t0 < 0.025
    assert a.assoc.tx.cwnd > 200_000 and a.assoc.stats.retransmissions == 0


def test_cwnd_does_not_grow_while_application_limited() -> None:
    """RFC 9260 §7.2.1: cwnd grows only while it is being fully utilized."""
    a, b, clock, sid = channel_pair()
    lab, lba = Link(Impairment(delay=0.01)), Link(Impairment(delay=0.01))
    before = a.assoc.tx.cwnd
    for i in range(50):
        a.assoc.send(sid, bytes([i]) * 100)
        assert run(
            a, b, clock, lambda: not a.assoc.tx.outstanding(), link_ab=lab, link_ba=lba, max_time=5
        )
    assert len(b.messages[sid]) == 50 and a.assoc.tx.cwnd == before


def test_fast_path_matches_generic_path() -> None:
    """Packets parsed in place give byte-identical behaviour to the chunk-object path."""

    def transcript(fast: bool) -> tuple[list[bytes], list[bytes], str, str]:
        imp = Impairment(loss=0.1, duplicate=0.05, reorder=0.1, delay=0.01, jitter=0.003)
        a, b = make_pair(seed=5)
        if not fast:
            for p in (a, b):
                p.assoc.receive = p.assoc.receive_general
        clock = VirtualClock()
        lab, lba = RecordingLink(imp, seed=1), RecordingLink(imp, seed=2)
        connect(a, b, clock, link_ab=lab, link_ba=lba)
        lab.log.clear()  # (handshake packets carry a cookie MAC keyed from os.urandom)
        lba.log.clear()
        sid = a.assoc.open_channel("p", negotiated_id=0)
        b.assoc.open_channel("p", negotiated_id=0)
        u = b.assoc.open_channel("u", negotiated_id=1, ordered=False)
        a.assoc.open_channel("u", negotiated_id=1, ordered=False)
        for i in range(60):
            a.assoc.send(sid, bytes([i]) * (i * 331 % 5000))
            b.assoc.send(u, bytes([i]) * 700)
        assert run(
            a,
            b,
            clock,
            lambda: len(b.messages.get(sid, [])) == 60 and len(a.messages.get(u, [])) == 60,
            link_ab=lab,
            link_ba=lba,
        )
        return (
            [p for _, p in lab.log],
            [p for _, p in lba.log],
            repr(a.assoc.stats),
            repr(b.assoc.stats),
        )

    assert transcript(True) == transcript(False)


@pytest.mark.parametrize("trailer", [b"\x00", b"\x00\x00\x00\x00\x00", b"\x00\x00\x04\x00"])
def test_fast_path_rejects_what_the_decoder_rejects(trailer: bytes) -> None:
    a, b, clock, sid = channel_pair(zero_checksum=False)
    a.assoc.send(sid, b"abcd")  # 20-byte chunk: no padding, so any trailer is malformed
    (pkt,) = a.assoc.datagrams_to_send()
    bad = pkt + trailer
    bad = bad[:8] + c.CHECKSUM.pack(c.compute_checksum(bad)) + bad[12:]
    with pytest.raises(sctp.ParseError):
        c.decode_packet(bad)
    b.assoc.receive(bad, clock.now)
    b.drain()
    assert b.assoc.stats.malformed == 1 and sid not in b.messages
    bad_crc = pkt[:8] + bytes(4) + pkt[12:]  # checksum 0 without RFC 9653 negotiated
    b.assoc.receive(bad_crc, clock.now)
    assert b.assoc.stats.bad_checksum == 1
    b.assoc.receive(pkt, clock.now)
    b.drain()
    assert b.messages[sid] == [b"abcd"]


def _reference_gaps(above: set[int], cum: int, limit: int) -> list[tuple[int, int]]:
    gaps: list[tuple[int, int]] = []
    for t in sorted(above):
        off = t - cum
        if off > 0xFFFF:
            break
        if gaps and off == gaps[-1][1] + 1:
            gaps[-1] = (gaps[-1][0], off)
        elif len(gaps) >= limit:
            break
        else:
            gaps.append((off, off))
    return gaps


@pytest.mark.parametrize("seed", range(6))
def test_incremental_gap_blocks_match_a_full_recount(seed: int) -> None:
    """The gap list kept between SACKs equals one computed from scratch (RFC 9260 §3.3.4)."""
    rng = random.Random(seed)
    _, b, clock, _ = channel_pair(max_packet_size=(256, 1200)[seed % 2])
    base = b.assoc.rx.cum
    limit = min(128, (b.assoc.writer.chunk_budget - 16) // 4)
    order = list(range(1, 1200))
    for i in range(0, len(order) - 8, 8):  # local reordering plus some far-ahead TSNs
        window = order[i : i + 8]
        rng.shuffle(window)
        order[i : i + 8] = window
    order = [t for t in order if rng.random() > 0.2] + rng.sample(range(1, 1300), 40)
    for k, off in enumerate(order):
        tsn = (base + off) & 0xFFFFFFFF
        chunk = c.DataChunk(3, tsn, 0, 0, 53, b"x")
        pkt = c.encode_packet(5000, 5000, b.assoc.handshake.local_tag, chunk.encode())
        b.assoc.receive(pkt, clock.now)
        if k % rng.choice([1, 2, 3]) == 0:
            sack = c.decode_packet(c.encode_packet(0, 0, 0, b.assoc.rx.sack_chunk())).chunks[0]
            assert isinstance(sack, c.SackChunk)
            cum = b.assoc.rx.cum
            assert sack.gaps == _reference_gaps(b.assoc.rx.above, cum, limit)


def test_reordering_is_not_mistaken_for_loss() -> None:
    """RFC 3708: Duplicate TSN reports of fast-retransmitted chunks reveal reordering; the
    window reduction is undone and the miss threshold adapts, so jitter alone keeps cwnd up."""
    a, b, clock, sid = channel_pair()
    imp = Impairment(delay=0.0005, jitter=0.0002)  # independent jitter: heavy reordering
    lab, lba = Link(imp, seed=1), Link(imp, seed=2)
    n = 320
    for _ in range(n):
        a.assoc.send(sid, bytes(16384))
    t0 = clock.now
    assert run(a, b, clock, lambda: len(b.messages.get(sid, [])) == n, link_ab=lab, link_ba=lba)
    st = a.assoc.stats
    assert lab.dropped == lba.dropped == 0
    assert st.spurious_retransmits > 0 and st.t3_expirations == 0
    assert 3 < a.assoc.tx.dupthresh <= 16
    assert a.assoc.tx.cwnd > 50_000
    assert clock.now - t0 < 0.2  # ~0.9 s of virtual time without the undo


def test_spurious_fast_retransmit_is_undone() -> None:
    a, b, clock, sid = channel_pair()
    for i in range(12):
        a.assoc.send(sid, bytes([i]) * 1100)
    a.assoc.tx.cwnd = 20 * 1200
    pkts = a.assoc.datagrams_to_send()
    assert len(pkts) == 12
    # the first packet is "late": the others arrive, then SACKs with gaps come back
    for p in pkts[1:]:
        b.assoc.receive(p, clock.now)
    for p in b.assoc.datagrams_to_send():
        a.assoc.receive(p, clock.now)
    assert a.assoc.stats.fast_retransmits == 1
    assert a.assoc.tx.cwnd == max(20 * 1200 // 2, 4 * 1200)
    rtx = a.assoc.datagrams_to_send()
    b.assoc.receive(pkts[0], clock.now)  # the original turns up after all
    for p in rtx:
        b.assoc.receive(p, clock.now)  # ... so the retransmission is a duplicate
    for p in b.assoc.datagrams_to_send():
        a.assoc.receive(p, clock.now)
    assert a.assoc.stats.spurious_retransmits == 1
    assert a.assoc.tx.cwnd >= 20 * 1200 and a.assoc.tx.dupthresh == 4
    b.drain()
    assert len(b.messages[sid]) == 12
