"""The simulated network under the names the suite imports (tests.netsim re-exports the public
kit, webrtc.testing): seeded, deterministic, and doing what each knob says."""

import webrtc.testing
from tests import netsim
from tests.netsim import Impairment, Link, Network, VirtualClock, run_pair


def test_the_suite_runs_on_the_public_kit() -> None:
    for name in netsim.__all__:
        assert getattr(netsim, name) is getattr(webrtc.testing, name), name


def _deliveries(imp: Impairment, n: int = 2000) -> list[bytes]:
    link = Link(imp)
    for i in range(n):
        link.send(i.to_bytes(4, "big"), now=i * 0.001)
    return link.pop_due(1e9)


def test_same_seed_same_fate() -> None:
    imp = Impairment(loss=0.3, duplicate=0.1, reorder=0.2, jitter=0.01, seed=7)
    assert _deliveries(imp) == _deliveries(imp)
    other = Impairment(loss=0.3, duplicate=0.1, reorder=0.2, jitter=0.01, seed=8)
    assert _deliveries(imp) != _deliveries(other)


def test_loss_rate_is_close_to_setting() -> None:
    got = _deliveries(Impairment(loss=0.3, seed=1), n=5000)
    assert 0.65 < len(got) / 5000 < 0.75


def test_duplication_and_reordering_happen() -> None:
    got = _deliveries(Impairment(duplicate=0.2, reorder=0.2, reorder_delay=0.05, seed=3))
    assert len(got) > 2000
    assert got != sorted(got)


def test_mtu_drops_large_datagrams() -> None:
    link = Link(Impairment(mtu=576))
    link.send(b"x" * 577, 0.0)
    link.send(b"x" * 576, 0.0)
    assert link.pop_due(1.0) == [b"x" * 576]
    assert link.dropped == 1


class _Echo:
    """Answers every datagram once; counts what it got."""

    def __init__(self, start: bool) -> None:
        self.out: list[bytes] = [b"ping"] if start else []
        self.got: list[bytes] = []

    def receive(self, data: bytes, now: float) -> None:
        self.got.append(data)
        if len(self.got) < 5:
            self.out.append(data + b"!")

    def datagrams_to_send(self) -> list[bytes]:
        out, self.out = self.out, []
        return out

    def next_timeout(self) -> float | None:
        return None

    def handle_timeout(self, now: float) -> None:
        raise AssertionError("no timers here")


def test_run_pair_moves_virtual_time_by_link_delay() -> None:
    a, b = _Echo(True), _Echo(False)
    clock = VirtualClock()
    assert run_pair(a, b, clock=clock, until=lambda: len(b.got) == 5)
    assert b.got[0] == b"ping"
    assert len(a.got) == 4
    assert abs(clock.now - 9 * 0.005) < 1e-9


def test_network_partition_and_rebind() -> None:
    net = Network(Impairment(delay=0.01))
    a, b = ("10.0.0.1", 1000), ("10.0.0.2", 2000)
    net.bind(a)
    net.bind(b)
    net.send(b"1", a, b, 0.0)
    net.deliver_due(0.01)
    assert net.recv_all(b) == [(b"1", a)]
    net.partition("10.0.0.1", "10.0.0.2")
    net.send(b"2", a, b, 1.0)
    net.deliver_due(2.0)
    assert net.recv_all(b) == []
    net.heal("10.0.0.1", "10.0.0.2")
    net.rebind(a, ("10.0.0.9", 4000))
    net.send(b"3", a, b, 3.0)
    net.deliver_due(3.5)
    assert net.recv_all(b) == [(b"3", ("10.0.0.9", 4000))]
