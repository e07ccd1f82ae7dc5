"""Each impairment of webrtc.testing.Network measured against its setting over many datagrams.

The network is seeded, so every figure here is exact for its seed; the bounds (4 standard
deviations of the binomial, or exact arithmetic) only say the model does what the knob says.
"""

from __future__ import annotations

import math
from collections import Counter

from webrtc.testing import Drop, Impairment, Link, Network

A, B = ("10.0.0.1", 1000), ("10.0.0.2", 2000)
N = 20_000


def _within(count: int, n: int, p: float) -> bool:
    sigma = math.sqrt(n * p * (1 - p))
    return abs(count - n * p) <= 4 * sigma


def _send_many(net: Network, n: int = N, size: int = 100, gap: float = 0.001) -> None:
    for i in range(n):
        net.send(i.to_bytes(4, "big") + bytes(size - 4), A, B, i * gap)


def _arrivals(net: Network) -> list[tuple[float, int]]:
    """(arrival time, sequence number) of every copy delivered to B."""
    out: list[tuple[float, int]] = []
    while (t := net.next_arrival()) is not None:
        net.deliver_due(t)
        out.extend((t, int.from_bytes(d[:4], "big")) for d, _ in net.recv_all(B))
    return out


def _net(imp: Impairment, seed: int = 1) -> Network:
    net = Network(imp, seed=seed)
    net.bind(A)
    net.bind(B)
    return net


def test_loss_rate_matches_setting() -> None:
    for p in (0.01, 0.15, 0.5):
        net = _net(Impairment(loss=p))
        _send_many(net)
        got = _arrivals(net)
        lost = N - len(got)
        assert net.drops[Drop.LOSS] == lost
        assert _within(lost, N, p), (p, lost)


def test_duplication_rate_matches_setting() -> None:
    net = _net(Impairment(duplicate=0.2))
    _send_many(net)
    counts = Counter(seq for _, seq in _arrivals(net))
    dups = sum(1 for c in counts.values() if c == 2)
    assert len(counts) == N and max(counts.values()) == 2
    assert _within(dups, N, 0.2), dups


def test_reordering_rate_and_delay_match_setting() -> None:
    imp = Impairment(delay=0.01, reorder=0.1, reorder_delay=0.05)
    net = _net(imp)
    _send_many(net)
    got = _arrivals(net)
    late = [seq for t, seq in got if abs(t - (seq * 0.001 + 0.06)) < 1e-9]
    on_time = [seq for t, seq in got if abs(t - (seq * 0.001 + 0.01)) < 1e-9]
    assert len(late) + len(on_time) == N  # every copy is either on time or held back
    assert _within(len(late), N, 0.1), len(late)
    order = [seq for _, seq in got]
    assert order != sorted(order)  # later datagrams overtook the held-back ones


def test_delay_and_jitter_bounds_and_mean() -> None:
    net = _net(Impairment(delay=0.05, jitter=0.02))
    _send_many(net)
    extra = [t - seq * 0.001 - 0.05 for t, seq in _arrivals(net)]
    assert len(extra) == N
    assert min(extra) >= 0 and max(extra) <= 0.02
    # uniform on [0, 20 ms]: mean 10 ms, standard error 0.02/sqrt(12 N)
    assert abs(sum(extra) / N - 0.01) < 4 * 0.02 / math.sqrt(12 * N)


def test_mtu_drops_exactly_the_larger_datagrams() -> None:
    net = _net(Impairment(mtu=1200))
    for size in range(1100, 1301):
        net.send(bytes(size), A, B, 0.0)
    net.deliver_due(1.0)
    sizes = [len(d) for d, _ in net.recv_all(B)]
    assert sizes == list(range(1100, 1201))
    assert net.drops == Counter({Drop.MTU: 100})


def test_bandwidth_limit_gives_that_throughput_and_serialisation_delay() -> None:
    bw = 1_000_000  # bits per second
    net = _net(Impairment(delay=0.01, bandwidth=bw, queue=10**9))
    for i in range(1000):
        net.send(i.to_bytes(4, "big") + bytes(996), A, B, 0.0)  # 1000 bytes each, all at t=0
    got = _arrivals(net)
    assert [seq for _, seq in got] == list(range(1000))
    for t, seq in got:  # datagram k leaves after (k+1) * 8000 bits / 1 Mbit/s
        assert abs(t - ((seq + 1) * 0.008 + 0.01)) < 1e-9
    assert abs(got[-1][0] - 0.01 - 1000 * 1000 * 8 / bw) < 1e-9


def test_bandwidth_queue_is_bounded_drop_tail() -> None:
    net = _net(Impairment(delay=0.0, bandwidth=800_000, queue=10_000))  # 100 kB/s, 10 kB queue
    for i in range(100):
        net.send(i.to_bytes(4, "big") + bytes(996), A, B, 0.0)
    got = _arrivals(net)
    # 10 kB of datagrams not yet fully sent (the one on the wire included); the rest drop
    assert [seq for _, seq in got] == list(range(10))
    assert net.drops[Drop.QUEUE] == 90
    # once the queue has drained, datagrams are admitted again
    net.send(b"late" + bytes(996), A, B, 1.0)
    assert [seq for _, seq in _arrivals(net)] == [int.from_bytes(b"late", "big")]


def test_partition_for_a_time_span() -> None:
    net = _net(Impairment(delay=0.01))
    net.partition("10.0.0.1", "10.0.0.2", start=1.0, end=4.0)
    for i in range(500):
        net.send(i.to_bytes(4, "big"), A, B, i * 0.01)
        net.send(i.to_bytes(4, "big"), B, A, i * 0.01)  # both directions
    got = [seq for _, seq in _arrivals(net)]
    assert got == [i for i in range(500) if not 1.0 <= i * 0.01 < 4.0]
    assert net.drops[Drop.PARTITION] == 2 * 300
    net.heal("10.0.0.1", "10.0.0.2")
    assert not net.partitioned("10.0.0.1", "10.0.0.2", 2.0)


def test_one_way_partition() -> None:
    net = _net(Impairment(delay=0.0))
    net.partition("10.0.0.1", "10.0.0.2", start=0.0, end=1.0, one_way=True)
    net.send(b"a->b", A, B, 0.5)
    net.send(b"b->a", B, A, 0.5)
    net.send(b"a->b later", A, B, 1.0)
    net.deliver_due(2.0)
    assert net.recv_all(B) == [(b"a->b later", A)] and net.recv_all(A) == [(b"b->a", B)]


def test_per_direction_links() -> None:
    net = _net(Impairment(delay=0.01))
    net.set_link("10.0.0.1", "10.0.0.2", Impairment(loss=1.0))
    net.send(b"a->b", A, B, 0.0)
    net.send(b"b->a", B, A, 0.0)
    net.deliver_due(1.0)
    assert net.recv_all(B) == [] and net.recv_all(A) == [(b"b->a", B)]


def test_nat_rebinding_and_source_change() -> None:
    net = _net(Impairment(delay=0.0))
    new = ("10.0.0.1", 6000)
    net.nat_rebind(A, new)
    net.send(b"from a", A, B, 0.0)
    net.send(b"to new", B, new, 0.0)
    net.send(b"to old", B, A, 0.0)  # the expired mapping
    net.deliver_due(0.0)
    assert net.recv_all(B) == [(b"from a", new)]
    assert net.recv_all(A) == [(b"to new", B)]
    assert net.nat_dropped == 1 and net.drops[Drop.NAT] == 1
    # a source change keeps the old mapping
    net2 = _net(Impairment(delay=0.0))
    net2.source_change(A, new)
    net2.send(b"to old", B, A, 0.0)
    net2.send(b"to new", B, new, 0.0)
    net2.deliver_due(0.0)
    assert net2.recv_all(A) == [(b"to old", B), (b"to new", B)]


def test_unbound_destination_is_counted() -> None:
    net = _net(Impairment(delay=0.0))
    net.send(b"x", A, ("10.0.0.3", 1), 0.0)
    net.deliver_due(0.0)
    assert net.drops[Drop.UNBOUND] == 1 and net.delivered == 0


def test_link_has_the_same_model() -> None:
    link = Link(Impairment(loss=0.15, duplicate=0.1, seed=5))
    for i in range(N):
        link.send(i.to_bytes(4, "big"), i * 0.001)
    got = link.pop_due(1e9)
    assert _within(link.drops[Drop.LOSS], N, 0.15)
    assert _within(len(got) - (N - link.dropped), N - link.dropped, 0.1)
    link.down = True
    link.send(b"x", 100.0)
    assert link.drops[Drop.DOWN] == 1
