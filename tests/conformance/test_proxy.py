"""The impairment proxy on loopback: each impairment measured against its setting (fixed seed).

Datagrams go A -> proxy -> B over real loopback sockets; the fates come from the seeded model,
so with one sender and a fixed seed the counts are the same on every run. Delay is checked as a
lower bound only (a loaded machine adds time, never removes it).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from webrtc.conformance.proxy import Direction, ImpairmentProxy
from webrtc.testing.network import Impairment

N = 2000


@pytest.fixture
def sockets() -> Iterator[tuple[socket.socket, socket.socket]]:
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind(("127.0.0.1", 0))
    b.bind(("127.0.0.1", 0))
    b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    yield a, b
    a.close()
    b.close()


def _relay(
    proxy: ImpairmentProxy,
    a: socket.socket,
    b: socket.socket,
    payloads: list[bytes],
    settle: float = 0.3,
) -> list[bytes]:
    proxy.set_target("a", a.getsockname())
    proxy.set_target("b", b.getsockname())
    proxy.start()
    try:
        for i, p in enumerate(payloads):
            a.sendto(p, proxy.address_for_a)
            if i % 10 == 9:
                time.sleep(0.001)  # let the relay keep up (the socket buffers are bounded)
        got: list[bytes] = []
        b.settimeout(settle)
        while True:
            try:
                got.append(b.recv(65535))
            except TimeoutError:
                break
        return got
    finally:
        proxy.stop()


def _payloads(n: int = N, size: int = 100) -> list[bytes]:
    return [i.to_bytes(4, "big") * (size // 4) for i in range(n)]


def _fates(proxy: ImpairmentProxy) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in proxy.records:
        out[r.fate] = out.get(r.fate, 0) + 1
    return out


def test_loss_matches_setting(sockets: tuple[socket.socket, socket.socket]) -> None:
    a, b = sockets
    proxy = ImpairmentProxy(seed=3, a_to_b=Impairment(loss=0.15, delay=0.0))
    got = _relay(proxy, a, b, _payloads())
    lost = _fates(proxy).get("dropped:loss", 0)
    assert len(proxy.records) == N
    assert len(got) == N - lost
    assert abs(lost / N - 0.15) < 0.03  # binomial sd at N=2000 is 0.008
    again = ImpairmentProxy(seed=3, a_to_b=Impairment(loss=0.15, delay=0.0))
    _relay(again, a, b, _payloads())
    assert [r.fate for r in again.records] == [r.fate for r in proxy.records]  # seeded


def test_duplication_matches_setting(sockets: tuple[socket.socket, socket.socket]) -> None:
    a, b = sockets
    proxy = ImpairmentProxy(seed=4, a_to_b=Impairment(duplicate=0.1, delay=0.0))
    got = _relay(proxy, a, b, _payloads())
    dup = _fates(proxy).get("duplicated", 0)
    assert len(got) == N + dup
    assert abs(dup / N - 0.1) < 0.025


def test_reordering_matches_setting(sockets: tuple[socket.socket, socket.socket]) -> None:
    a, b = sockets
    imp = Impairment(reorder=0.2, reorder_delay=0.05, delay=0.0)
    proxy = ImpairmentProxy(seed=5, a_to_b=imp)
    payloads = _payloads(500)
    got = _relay(proxy, a, b, payloads)
    assert sorted(got) == sorted(payloads)
    held = sum(1 for r in proxy.records if r.arrivals and r.arrivals[0] - r.time >= 0.04)
    assert abs(held / 500 - 0.2) < 0.06
    assert got != payloads  # held-back datagrams were overtaken


def test_delay_is_applied(sockets: tuple[socket.socket, socket.socket]) -> None:
    a, b = sockets
    proxy = ImpairmentProxy(seed=6, a_to_b=Impairment(delay=0.08))
    proxy.set_target("a", a.getsockname())
    proxy.set_target("b", b.getsockname())
    with proxy:
        sent = time.monotonic()
        a.sendto(b"ping", proxy.address_for_a)
        b.settimeout(2.0)
        assert b.recv(100) == b"ping"
        assert time.monotonic() - sent >= 0.08


def test_mtu_drops_larger_datagrams(sockets: tuple[socket.socket, socket.socket]) -> None:
    a, b = sockets
    proxy = ImpairmentProxy(seed=7, a_to_b=Impairment(mtu=548, delay=0.0))
    payloads = [bytes(size) for size in (100, 548, 549, 1200, 500, 600)]
    got = _relay(proxy, a, b, payloads)
    assert sorted(len(g) for g in got) == [100, 500, 548]
    assert _fates(proxy)["dropped:mtu"] == 3


def test_partition_then_heal_and_reverse_path(sockets: tuple[socket.socket, socket.socket]) -> None:
    a, b = sockets
    proxy = ImpairmentProxy(seed=8)
    proxy.set_target("a", a.getsockname())
    proxy.set_target("b", b.getsockname())
    with proxy:
        proxy.partition(0.3, Direction.A_TO_B)
        a.sendto(b"lost", proxy.address_for_a)
        b.sendto(b"back", proxy.address_for_b)  # the other direction still flows
        a.settimeout(2.0)
        assert a.recvfrom(100) == (b"back", proxy.address_for_a)
        time.sleep(0.35)
        a.sendto(b"after", proxy.address_for_a)
        b.settimeout(2.0)
        assert b.recvfrom(100) == (b"after", proxy.address_for_b)
    fates = [r.fate for r in proxy.records]
    assert fates == ["dropped:partition", "forwarded", "forwarded"]


def test_rules_drop_and_divert(sockets: tuple[socket.socket, socket.socket]) -> None:
    a, b = sockets
    proxy = ImpairmentProxy(seed=9)
    proxy.drop_matching(Direction.A_TO_B, lambda d: d.startswith(b"x"), skip=1)
    proxy.divert_matching(Direction.A_TO_B, lambda d: d == b"divert")
    got = []
    proxy.set_target("a", a.getsockname())
    proxy.set_target("b", b.getsockname())
    with proxy:
        for p in (b"x1", b"x2", b"x3", b"divert"):
            a.sendto(p, proxy.address_for_a)
        b.settimeout(1.0)
        sources = []
        for _ in range(3):
            data, src = b.recvfrom(100)
            got.append(data)
            sources.append(src)
        b.sendto(b"answer", sources[-1])  # to the fresh socket: recorded, not relayed
        time.sleep(0.2)
    assert got == [b"x1", b"x3", b"divert"]
    assert sources[0] == proxy.address_for_b and sources[2] != proxy.address_for_b
    assert [r.fate for r in proxy.records if r.direction is Direction.TO_FRESH] == [
        "dropped:not-relayed"
    ]


def test_stops_by_itself_and_bounds_its_queue(sockets: tuple[socket.socket, socket.socket]) -> None:
    a, b = sockets
    proxy = ImpairmentProxy(seed=10, a_to_b=Impairment(delay=5.0), lifetime=0.5, max_queue=10)
    proxy.set_target("a", a.getsockname())
    proxy.set_target("b", b.getsockname())
    proxy.start()
    for p in _payloads(30):
        a.sendto(p, proxy.address_for_a)
    deadline = time.monotonic() + 5
    while proxy.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not proxy.running
    assert _fates(proxy) == {"forwarded": 10, "dropped:queue": 20}
    proxy.stop()


def test_latches_unsignalled_side(sockets: tuple[socket.socket, socket.socket]) -> None:
    a, b = sockets
    proxy = ImpairmentProxy(seed=11)
    proxy.set_target("b", b.getsockname())
    with proxy:
        a.sendto(b"hello", proxy.address_for_a)  # A's address is learnt from this
        b.settimeout(1.0)
        assert b.recv(100) == b"hello"
        b.sendto(b"reply", proxy.address_for_b)
        a.settimeout(1.0)
        assert a.recv(100) == b"reply"
