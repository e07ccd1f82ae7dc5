"""Loss recovery when retransmissions are lost too (RFC 9260 §7.2.4, §6.3.3).

A fast retransmission that is lost again used to wait for T3-rtx (RTO.Min = 1 s, then backed
off), holding up every later message of an ordered stream; SACKs that acknowledge data sent after
the retransmission now strike it again, so it is fast-retransmitted again (as usrsctp strikes a
fast-retransmitted chunk from the TSN sent next). Acks of data sent before the retransmission
never strike it (they say nothing about the retransmission).
"""

from __future__ import annotations

import heapq
import random

import sctp
from sctp import chunks as c
from sctp.tx import Sender

from .test_components import SID, TSN0, Parts, _sent, _state


def _retransmitted(parts: Parts, tx: Sender, now: float) -> list[int]:
    """TSNs of the DATA chunks a transmission pass puts on the wire."""
    parts.writer.take()  # (what earlier passes emitted)
    tx.transmit([], now)
    tsns = []
    for packet in parts.writer.take():
        tsns += [ch.tsn for ch in c.decode_packet(packet).chunks if isinstance(ch, c.DataChunk)]
    return tsns


def test_lost_fast_retransmission_is_fast_retransmitted_again() -> None:
    parts, tx = _sent(10)  # TSNs 1000-1009; 1000 is lost
    for end in (2, 3, 4):  # 1001..1004 arrive: three miss indications for 1000
        tx.on_sack(TSN0 - 1, 1 << 20, [(2, end)], 0.1)
    assert _state(tx)[0] == "rtx3" and parts.stats.fast_retransmits == 1
    assert _retransmitted(parts, tx, 0.1) == [TSN0]  # its retransmission is lost as well
    # SACKs for data sent before the retransmission (1005-1009) do not strike it
    for end in range(5, 11):
        tx.on_sack(TSN0 - 1, 1 << 20, [(2, end)], 0.15)
    assert _state(tx)[0] == "flight0"
    # new data sent after the retransmission arrives: three strikes, retransmitted again,
    # long before T3-rtx (RTO 1 s) would have fired
    for i in range(3):
        tx.send(SID, b"new%d" % i)
    assert _retransmitted(parts, tx, 0.2) == [TSN0 + 10, TSN0 + 11, TSN0 + 12]
    for end in (11, 12):
        tx.on_sack(TSN0 - 1, 1 << 20, [(2, end)], 0.25)
    assert _state(tx)[0] == "flight2"
    tx.on_sack(TSN0 - 1, 1 << 20, [(2, 13)], 0.25)
    assert _state(tx)[0] == "rtx3" and parts.stats.fast_retransmits == 2
    assert _retransmitted(parts, tx, 0.25) == [TSN0]
    assert parts.stats.retransmissions == 2 and parts.stats.t3_expirations == 0
    tx.on_sack(TSN0 + 12, 1 << 20, [], 0.3)
    assert not tx.outstanding() and tx.flight == 0


def test_fast_recovery_sack_advancing_cum_ack_strikes_every_missing_tsn() -> None:
    """RFC 9260 §7.2.4: "If an endpoint is in Fast Recovery and a SACK arrives that advances
    the Cumulative TSN Ack Point, the miss indications are incremented for all TSNs reported
    missing in the SACK" (not only those below the highest TSN newly acknowledged)."""
    parts, tx = _sent(10)  # 1000 and 1002 are lost
    tx.on_sack(TSN0 - 1, 1 << 20, [(2, 2)], 0.1)
    tx.on_sack(TSN0 - 1, 1 << 20, [(2, 2), (4, 4)], 0.1)
    tx.on_sack(TSN0 - 1, 1 << 20, [(2, 2), (4, 5)], 0.1)
    assert tx.fast_recovery and _state(tx)[:4] == ["rtx3", "acked", "flight2", "acked"]
    assert _retransmitted(parts, tx, 0.1) == [TSN0]
    # the retransmission of 1000 arrives: the cumulative ack moves to 1001 and nothing new is
    # acknowledged by a gap block, yet 1002, reported missing, gets its third miss indication
    tx.on_sack(TSN0 + 1, 1 << 20, [(2, 3)], 0.15)
    assert _state(tx)[0] == "rtx3" and parts.stats.fast_retransmits == 2
    assert _retransmitted(parts, tx, 0.15) == [TSN0 + 2]


def test_ordered_stream_recovers_from_lost_retransmissions_without_timeouts() -> None:
    """Two associations, a message on an ordered reliable stream every 16 ms, 10 % loss both
    ways (seeded): every message arrives in order and no T3-rtx fires while data flows, so no
    message waits for RTO.Min (1 s)."""
    rng = random.Random(5)
    a = sctp.Association(is_client=True, rng=random.Random(1))
    b = sctp.Association(is_client=False, rng=random.Random(2))
    wires: list[tuple[float, int, str, bytes]] = []
    seq = 0
    now = 0.0

    def pump() -> None:
        nonlocal seq
        for name, assoc in (("b", a), ("a", b)):
            for pkt in assoc.datagrams_to_send():
                if assoc.state is sctp.State.ESTABLISHED and rng.random() < 0.10:
                    continue
                seq += 1
                heapq.heappush(wires, (now + 0.02, seq, name, pkt))

    def step_to(t: float) -> None:
        nonlocal now
        while True:
            timers = [x for x in (a.next_timeout(), b.next_timeout()) if x is not None]
            due = min([w[0] for w in wires[:1]] + timers + [t])
            if due >= t:
                break
            now = max(now, due)
            while wires and wires[0][0] <= now:
                _, _, name, pkt = heapq.heappop(wires)
                (a if name == "a" else b).receive(pkt, now)
            for assoc in (a, b):
                t_next = assoc.next_timeout()
                if t_next is not None and t_next <= now:
                    assoc.handle_timeout(now)
            pump()
        now = t
        for assoc in (a, b):
            assoc.handle_timeout(now)
        pump()

    a.connect(0.0)
    b.connect(0.0)
    pump()
    step_to(1.0)
    assert a.state is sctp.State.ESTABLISHED and b.state is sctp.State.ESTABLISHED
    sid = a.open_channel("game", negotiated_id=1)
    b.open_channel("game", negotiated_id=1)
    sent = []
    for frame in range(400):
        data = b"%d" % frame
        a.send(sid, data)
        sent.append(data)
        step_to(now + 0.016)
    assert a.stats.t3_expirations == 0, a.stats
    step_to(now + 5.0)
    got = [e.data for e in iter(b.next_event, None) if isinstance(e, sctp.MessageReceived)]
    assert got == sent
