"""The same seed gives the same datagrams at the same virtual times; another seed does not."""

from __future__ import annotations

from webrtc.testing import Impairment, Network, Recorder, Simulation

A, B = ("10.0.0.1", 1000), ("10.0.0.2", 2000)
IMP = Impairment(loss=0.1, duplicate=0.05, reorder=0.1, delay=0.02, jitter=0.01)


def _network_run(seed: int) -> list[tuple[object, ...]]:
    net = Network(IMP, seed=seed)
    net.bind(A)
    net.bind(B)
    rec = Recorder(net)
    for i in range(2000):
        net.send(i.to_bytes(4, "big"), A, B, i * 0.003)
        net.send(i.to_bytes(4, "big"), B, A, i * 0.003)
    while (t := net.next_arrival()) is not None:
        net.deliver_due(t)
    return [
        (d.number, d.time, d.src, d.dst, d.data, tuple(d.arrivals), d.drop) for d in rec.datagrams
    ]


def test_network_same_seed_same_fates_and_times() -> None:
    first = _network_run(7)
    assert first == _network_run(7)
    assert first != _network_run(8)


def _stack_run(seed: int) -> tuple[list[tuple[object, ...]], float]:
    """A whole connection and transfer: what each datagram is and when it moves.

    Key material and ICE credentials come from the OS (never from the seed), so STUN messages
    differ in USERNAME and integrity, and DTLS handshake datagrams by a byte or two of length
    (ECDSA signatures); STUN headers (type, length, transaction id), every other length and
    every time are the same."""
    sim = Simulation(IMP, seed=seed)
    rec = sim.record()
    c = sim.connect(seed=seed)
    a, b = c.channel("data")
    for i in range(50):
        a.put_packet(bytes(500 + i))
    got: list[bytes] = []

    def done() -> bool:
        while b.get_available_packet_count():
            got.append(b.get_packet())
        return len(got) == 50

    assert sim.run(done, max_time=60)
    rows: list[tuple[object, ...]] = []
    for d in rec.datagrams:
        stun = d.data[0] < 4
        handshake = d.data[0] == 22
        what = d.data[:20] if stun else (d.data[0], None if handshake else len(d.data))
        rows.append((d.number, d.time, d.src, d.dst, what, tuple(d.arrivals), d.drop))
    return rows, sim.clock.now


def test_stack_same_seed_same_datagrams_and_times() -> None:
    rows, end = _stack_run(3)
    assert len(rows) > 50
    again, end_again = _stack_run(3)
    assert again == rows and end_again == end
    other, _ = _stack_run(4)
    assert other != rows
