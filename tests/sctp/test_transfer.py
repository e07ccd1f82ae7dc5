"""Data transfer on the simulated network: loss, reordering, duplication, delay, PR-SCTP."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

import sctp
from tests.netsim import Impairment, VirtualClock

from .util import Peer, connect, links, make_pair, run


@dataclass
class Chan:
    label: str
    ordered: bool = True
    max_retransmits: int | None = None
    max_packet_lifetime: int | None = None
    sid: int = -1
    sent: list[bytes] = field(default_factory=list)

    @property
    def reliable(self) -> bool:
        return self.max_retransmits is None and self.max_packet_lifetime is None


def is_subsequence(sub: list[bytes], seq: list[bytes]) -> bool:
    it = iter(seq)
    return all(any(x == y for y in it) for x in sub)


def payload(rng: random.Random, idx: int, size: int) -> bytes:
    head = idx.to_bytes(4, "big")
    return (
        (head + rng.randbytes(16)) * (size // 20) + head[: size % 20] + bytes(max(0, size % 20 - 4))
    )


def check(chan: Chan, got: list[bytes]) -> None:
    if chan.reliable and chan.ordered:
        assert got == chan.sent, chan.label
    elif chan.reliable:
        assert Counter(got) == Counter(chan.sent), chan.label
    else:
        assert not Counter(got) - Counter(chan.sent), chan.label  # nothing invented/duplicated
        if chan.ordered:
            assert is_subsequence(got, chan.sent), chan.label


def transfer(
    imp: Impairment,
    chans: list[Chan],
    *,
    n: int,
    size: Callable[[random.Random], int],
    seed: int = 7,
    reverse: Chan | None = None,
    window: int = 256 * 1024,
    max_time: float = 3000.0,
    close_after: tuple[int, int] | None = None,
    **assoc_kwargs: object,
) -> tuple[Peer, Peer]:
    a, b = make_pair(seed=seed, **assoc_kwargs)
    clock = VirtualClock()
    lab, lba = links(imp, seed)
    connect(a, b, clock, link_ab=lab, link_ba=lba)
    for ch in chans:
        ch.sid = a.assoc.open_channel(
            ch.label,
            ordered=ch.ordered,
            max_retransmits=ch.max_retransmits,
            max_packet_lifetime=ch.max_packet_lifetime,
        )
    if reverse is not None:
        reverse.sid = b.assoc.open_channel(reverse.label)
    rng = random.Random(seed)
    todo = [(ch, i) for ch in chans for i in range(n)]
    rng.shuffle(todo)
    rtodo = list(range(n)) if reverse is not None else []
    closed_chan: list[Chan] = []

    def step(now: float) -> None:
        while todo and sum(a.assoc.buffered_amount(ch.sid) for ch in chans) < window:
            ch, i = todo.pop()
            if ch in closed_chan:
                continue
            data = payload(rng, i, size(rng))
            ch.sent.append(data)
            a.assoc.send(ch.sid, data, binary=bool(i % 3))
            if close_after is not None and ch is chans[close_after[0]] and i >= close_after[1]:
                a.assoc.close_channel(ch.sid)
                closed_chan.append(ch)
        while reverse is not None and rtodo and b.assoc.buffered_amount(reverse.sid) < window:
            i = rtodo.pop()
            data = payload(rng, i, size(rng))
            reverse.sent.append(data)
            b.assoc.send(reverse.sid, data)

    def done() -> bool:
        if todo or rtodo:
            return False
        for ch in chans:
            if (
                ch.reliable
                and ch not in closed_chan
                and len(b.messages.get(ch.sid, [])) < len(ch.sent)
            ):
                return False
        if any(ch.sid not in b.closed for ch in closed_chan):
            return False
        if reverse is not None and len(a.messages.get(reverse.sid, [])) < len(reverse.sent):
            return False
        return not a.assoc.tx.outstanding() and not a.assoc.tx.sched

    assert run(a, b, clock, done, link_ab=lab, link_ba=lba, on_step=step, max_time=max_time)
    assert a.assoc.state is sctp.State.ESTABLISHED and b.assoc.state is sctp.State.ESTABLISHED
    assert a.assoc_closed is None and b.assoc_closed is None
    for ch in chans:
        check(ch, b.messages.get(ch.sid, []))
    if reverse is not None:
        check(reverse, a.messages.get(reverse.sid, []))
    return a, b


def mixed_size(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.02:
        return rng.randint(64 * 1024, 256 * 1024)
    if r < 0.1:
        return rng.choice([0, 1, 1171, 1172, 1173, 2344, 4096])
    return rng.randint(0, 6000)


IMPAIRMENTS = {
    "clean": Impairment(delay=0.01),
    "loss5": Impairment(loss=0.05, duplicate=0.02, reorder=0.05, delay=0.02, jitter=0.005, seed=1),
    "loss15": Impairment(loss=0.15, duplicate=0.05, reorder=0.1, delay=0.02, jitter=0.01, seed=2),
    "loss30": Impairment(loss=0.30, duplicate=0.05, reorder=0.1, delay=0.03, jitter=0.01, seed=3),
}
FAST_RTO = {"rto_initial": 0.3, "rto_min": 0.1, "rto_max": 2.0}


@pytest.mark.parametrize("fast_rto", [False, True], ids=["rfc-rto", "fast-rto"])
@pytest.mark.parametrize("name", list(IMPAIRMENTS))
def test_mixed_channels_under_impairment(name: str, fast_rto: bool) -> None:
    chans = [
        Chan("reliable-ordered"),
        Chan("reliable-unordered", ordered=False),
        Chan("rexmit0", max_retransmits=0),
        Chan("lifetime", ordered=False, max_packet_lifetime=400),
        Chan("rexmit2-unordered", ordered=False, max_retransmits=2),
    ]
    reverse = Chan("reverse")
    # RFC 9260 §16 defaults (RTO.Min 1 s) and a LAN-like fast RTO (RTO.Min 100 ms)
    kwargs = FAST_RTO if fast_rto else {}
    a, b = transfer(IMPAIRMENTS[name], chans, n=120, size=mixed_size, reverse=reverse, **kwargs)
    if name == "clean":
        # nothing lost: only the lifetime channel may expire messages waiting in the queue
        assert a.assoc.stats.retransmissions == 0
        for ch in chans:
            if ch.max_packet_lifetime is None:
                assert len(b.messages[ch.sid]) == len(ch.sent)
    if name == "loss30":
        assert a.assoc.stats.abandoned_messages > 0 and a.assoc.stats.forward_tsn_sent > 0
        assert b.assoc.stats.forward_tsn_received > 0
        assert a.assoc.stats.t3_expirations > 0 and a.assoc.stats.fast_retransmits > 0


@pytest.mark.parametrize("name", ["loss5", "loss30"])
def test_ten_thousand_messages(name: str) -> None:
    chans = [
        Chan("o"),
        Chan("u", ordered=False),
        Chan("r0", ordered=False, max_retransmits=0),
        Chan("t", max_packet_lifetime=200),
    ]
    _a, b = transfer(IMPAIRMENTS[name], chans, n=2500, size=lambda r: r.randint(0, 1500), seed=11)
    total = sum(len(ch.sent) for ch in chans)
    assert total == 10_000
    assert len(b.messages[chans[0].sid]) == 2500 and len(b.messages[chans[1].sid]) == 2500


def test_close_channel_mid_transfer_under_loss() -> None:
    chans = [Chan("keep"), Chan("closing"), Chan("keep-unordered", ordered=False)]
    a, b = transfer(
        IMPAIRMENTS["loss15"],
        chans,
        n=150,
        size=lambda r: r.randint(0, 20000),
        close_after=(1, 60),
        **FAST_RTO,
    )
    closing = chans[1]
    assert closing.sid in a.closed and closing.sid in b.closed
    assert b.messages[closing.sid] == closing.sent  # everything sent before close arrived
    assert len(b.messages[chans[0].sid]) == 150


def test_big_messages_only() -> None:
    chans = [Chan("big"), Chan("big-u", ordered=False)]
    _a, b = transfer(
        IMPAIRMENTS["loss5"],
        chans,
        n=12,
        size=lambda r: r.choice([262144, r.randint(100000, 262144)]),
    )
    assert all(len(m) >= 100000 for m in b.messages[chans[0].sid])


def test_fast_retransmit_without_timeout() -> None:
    """One lost packet in a long burst is repaired by fast retransmit (RFC 9260 §7.2.4)."""
    a, b = make_pair()
    clock = VirtualClock()
    lab, lba = links(Impairment(delay=0.01))
    connect(a, b, clock, link_ab=lab, link_ba=lba)
    sid = a.assoc.open_channel("f", negotiated_id=0)
    b.assoc.open_channel("f", negotiated_id=0)
    for i in range(60):
        a.assoc.send(sid, bytes([i]) * 1000)
    sent = [0]
    orig = lab.send

    def lossy_send(data: bytes, now: float) -> None:
        sent[0] += 1
        if sent[0] == 5:
            return  # drop exactly the fifth packet
        orig(data, now)

    lab.send = lossy_send  # type: ignore[method-assign]
    assert run(a, b, clock, lambda: len(b.messages.get(sid, [])) == 60, link_ab=lab, link_ba=lba)
    assert b.messages[sid] == [bytes([i]) * 1000 for i in range(60)]
    assert a.assoc.stats.fast_retransmits >= 1 and a.assoc.stats.t3_expirations == 0
    assert a.assoc.tx.cwnd >= 4 * 1200


def test_rto_estimate_follows_rtt() -> None:
    a, b = make_pair(rto_min=0.01, rto_initial=1.0)
    clock = VirtualClock()
    lab, lba = links(Impairment(delay=0.05))
    connect(a, b, clock, link_ab=lab, link_ba=lba)
    sid = a.assoc.open_channel("r", negotiated_id=0)
    b.assoc.open_channel("r", negotiated_id=0)
    for _ in range(40):
        a.assoc.send(sid, bytes(500))
    assert run(a, b, clock, lambda: len(b.messages.get(sid, [])) == 40, link_ab=lab, link_ba=lba)
    srtt = a.assoc.rto.srtt
    assert srtt is not None and 0.099 <= srtt <= 0.35  # RTT 100 ms plus delayed-SACK time
    assert 0.1 <= a.assoc.rto.value <= 1.0


def test_head_of_line_blocking_confined_to_one_stream() -> None:
    """A message stuck in retransmission on one stream does not hold up another stream."""
    a, b = make_pair()
    clock = VirtualClock()
    lab, lba = links(Impairment(delay=0.01))
    connect(a, b, clock, link_ab=lab, link_ba=lba)
    s1 = a.assoc.open_channel("one", negotiated_id=0)
    s2 = a.assoc.open_channel("two", negotiated_id=2)
    b.assoc.open_channel("one", negotiated_id=0)
    b.assoc.open_channel("two", negotiated_id=2)
    a.assoc.send(s1, b"blocked")
    a.assoc.send(s2, b"free")
    a.assoc.send(s1, b"behind blocked")
    pkts = a.assoc.datagrams_to_send()
    assert len(pkts) == 1  # all three bundled: drop DATA #1 by rebuilding the packet
    from sctp import chunks as c

    pkt = c.decode_packet(pkts[0], allow_zero_checksum=True)
    kept = [
        ch for ch in pkt.chunks if not (isinstance(ch, c.DataChunk) and ch.user_data == b"blocked")
    ]
    b.assoc.receive(
        c.encode_packet(5000, 5000, pkt.verification_tag, b"".join(ch.encode() for ch in kept)), 0.1
    )
    b.drain()
    assert b.messages.get(s2) == [b"free"] and s1 not in b.messages
    assert run(a, b, clock, lambda: len(b.messages.get(s1, [])) == 2, link_ab=lab, link_ba=lba)
    assert b.messages[s1] == [b"blocked", b"behind blocked"]


def test_streams_share_the_sender_fairly_and_by_priority() -> None:
    """A deep queue on one channel does not starve another (RFC 8831 §6.4 scheduling)."""
    a, b = make_pair()
    clock = VirtualClock()
    lab, lba = links(Impairment(delay=0.01))
    connect(a, b, clock, link_ab=lab, link_ba=lba)
    bulk = a.assoc.open_channel("bulk", negotiated_id=0, priority=256)
    game = a.assoc.open_channel("game", negotiated_id=2, ordered=False, priority=1024)
    b.assoc.open_channel("bulk", negotiated_id=0)
    b.assoc.open_channel("game", negotiated_id=2)
    for _ in range(200):
        a.assoc.send(bulk, bytes(4000))
    for i in range(20):
        a.assoc.send(game, bytes([i]) * 100)
    assert run(a, b, clock, lambda: len(b.messages.get(game, [])) == 20, link_ab=lab, link_ba=lba)
    # the game messages got through while most of the bulk data was still queued
    assert len(b.messages.get(bulk, [])) < 20
    assert run(a, b, clock, lambda: len(b.messages.get(bulk, [])) == 200, link_ab=lab, link_ba=lba)


@pytest.mark.parametrize("size", [1191, 1232 - 37])
def test_smaller_packet_budget(size: int) -> None:
    """`max_packet_size` lowers the per-packet budget (e.g. to fit a 1280-byte IPv6 path)."""
    a, b = make_pair(max_packet_size=size)
    largest = [0]
    for p in (a, b):
        orig = p.assoc.datagrams_to_send

        def checked(orig: Callable[[], list[bytes]] = orig) -> list[bytes]:
            out = orig()
            largest[0] = max([largest[0], *map(len, out)])
            return out

        p.assoc.datagrams_to_send = checked  # type: ignore[method-assign]
    clock = VirtualClock()
    lab, lba = links(IMPAIRMENTS["loss5"], 5)
    connect(a, b, clock, link_ab=lab, link_ba=lba)
    sid = a.assoc.open_channel("s")
    msgs = [bytes([i]) * (i * 997 % 70000) for i in range(40)]
    for m in msgs:
        a.assoc.send(sid, m)
    assert run(a, b, clock, lambda: len(b.messages.get(sid, [])) == 40, link_ab=lab, link_ba=lba)
    assert b.messages[sid] == msgs
    assert 1000 < largest[0] <= size
