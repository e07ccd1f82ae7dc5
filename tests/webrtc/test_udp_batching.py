"""UdpTransport.send_many (UDP GSO) and reads with UDP GRO: every datagram arrives, whole and in
order, with or without kernel support; the fallbacks are driven by a scripted socket. Real
sockets only on 127.0.0.1; no wall-clock assertions."""

from __future__ import annotations

import errno
import socket
import sys
from typing import Any

import pytest

from webrtc import net
from webrtc.net import Address, UdpTransport

LINUX = sys.platform.startswith("linux")


def _datagrams(sizes: list[int], tag: int = 0) -> list[bytes]:
    """Datagrams whose bytes tell their index (so reordering or cutting is seen)."""
    return [bytes([(tag + i) % 251]) * n for i, n in enumerate(sizes)]


def _receive_all(t: UdpTransport, count: int) -> list[tuple[bytes, Address, Address]]:
    got: list[tuple[bytes, Address, Address]] = []
    for _ in range(10_000):  # loopback delivers within sendmsg; bounded in rounds, not time
        got += t.receive()
        if len(got) >= count:
            break
    return got


@pytest.mark.parametrize("sender_offload", [True, False])
@pytest.mark.parametrize("receiver_offload", [True, False])
def test_send_many_delivers_every_datagram_in_order(
    sender_offload: bool, receiver_offload: bool
) -> None:
    tx = UdpTransport(hosts=["127.0.0.1"], udp_offload=sender_offload)
    rx = UdpTransport(hosts=["127.0.0.1"], udp_offload=receiver_offload)
    try:
        local = tx.bind("127.0.0.1")
        dest = rx.bind("127.0.0.1")
        # runs of equal sizes, a shorter one ending a run, a longer one starting the next,
        # small ones (SACK-like), and more than _GSO_MAX_SEGMENTS in a row
        sizes = [1197] * 5 + [601] + [1197] * 3 + [65, 65, 65] + [1089] * 70 + [1200] + [1]
        sent = _datagrams(sizes)
        tx.send_many([(d, local, dest) for d in sent])
        got = _receive_all(rx, len(sent))
        assert [g[0] for g in got] == sent
        assert {(g[1], g[2]) for g in got} == {(local, dest)}
    finally:
        tx.close()
        rx.close()


@pytest.mark.skipif(not LINUX, reason="UDP GSO/GRO are Linux socket options")
def test_gso_sender_to_gro_receiver_splits_back_each_datagram() -> None:
    """One GSO sendmsg arrives coalesced at a UDP_GRO socket (loopback keeps it whole): the
    receiver splits it at the reported segment size."""
    tx = UdpTransport(hosts=["127.0.0.1"])
    rx = UdpTransport(hosts=["127.0.0.1"])
    try:
        local = tx.bind("127.0.0.1")
        dest = rx.bind("127.0.0.1")
        if local not in tx._gso or dest not in rx._gro:
            pytest.skip("this kernel has no UDP GSO/GRO")
        sent = _datagrams([1200] * 10 + [500])
        tx.send_many([(d, local, dest) for d in sent])
        got = _receive_all(rx, len(sent))
        assert [g[0] for g in got] == sent
    finally:
        tx.close()
        rx.close()


def test_send_many_keeps_order_across_destinations() -> None:
    tx = UdpTransport(hosts=["127.0.0.1"])
    r1 = UdpTransport(hosts=["127.0.0.1"])
    r2 = UdpTransport(hosts=["127.0.0.1"])
    try:
        local = tx.bind("127.0.0.1")
        d1, d2 = r1.bind("127.0.0.1"), r2.bind("127.0.0.1")
        batch = [(d, local, d1) for d in _datagrams([900] * 4, 0)]
        batch += [(d, local, d2) for d in _datagrams([900] * 4, 50)]
        batch += [(d, local, d1) for d in _datagrams([900] * 3, 100)]
        tx.send_many(batch)
        assert [g[0] for g in _receive_all(r1, 7)] == [b[0] for b in batch if b[2] == d1]
        assert [g[0] for g in _receive_all(r2, 4)] == [b[0] for b in batch if b[2] == d2]
    finally:
        for t in (tx, r1, r2):
            t.close()


class ScriptedSocket:
    """Stands in for a bound socket: records sends, fails sendmsg as told, and serves scripted
    recvmsg results."""

    def __init__(self, sendmsg_errno: int | None = None) -> None:
        self.sendmsg_errno = sendmsg_errno
        self.sendmsg_calls: list[tuple[bytes, int]] = []  # (buffer, segment size)
        self.sendto_calls: list[bytes] = []
        self.reads: list[tuple[bytes, list[tuple[int, int, bytes]], int, Address]] = []

    def sendmsg(self, buffers: list[bytes], ancdata: Any, flags: int, address: Address) -> int:
        if self.sendmsg_errno is not None:
            raise OSError(self.sendmsg_errno, "scripted")
        level, kind, value = ancdata[0]
        assert (level, kind) == (net._SOL_UDP, net._UDP_SEGMENT)
        data = b"".join(buffers)
        self.sendmsg_calls.append((data, net._GSO_SIZE.unpack(value)[0]))
        return len(data)

    def sendto(self, data: bytes, address: Address) -> int:
        self.sendto_calls.append(data)
        return len(data)

    def recvmsg(self, bufsize: int, ancbufsize: int) -> Any:
        if not self.reads:
            raise BlockingIOError(errno.EAGAIN, "empty")
        return self.reads.pop(0)


LOCAL: Address = ("127.0.0.1", 4000)
REMOTE: Address = ("127.0.0.1", 5000)


def _scripted(sock: ScriptedSocket, gso: bool = True) -> UdpTransport:
    t = UdpTransport(hosts=["127.0.0.1"], udp_offload=False)
    t._sockets[LOCAL] = sock  # type: ignore[assignment]
    if gso:
        t._gso.add(LOCAL)
    return t


def test_gso_runs_are_cut_as_the_kernel_requires() -> None:
    sock = ScriptedSocket()
    t = _scripted(sock)
    sent = _datagrams([1000, 1000, 400, 1000, 1200, 1200, 7] + [100] * 70)
    t.send_many([(d, LOCAL, REMOTE) for d in sent])
    # a shorter datagram ends its run, a longer one starts the next, at most 64 per run; a run
    # of one is a plain sendto
    assert [(len(b), size) for b, size in sock.sendmsg_calls] == [
        (2400, 1000),
        (2407, 1200),
        (6400, 100),
        (600, 100),
    ]
    assert sock.sendto_calls == [sent[3]]
    assert [b for b, _ in sock.sendmsg_calls] == [
        b"".join(sent[0:3]),
        b"".join(sent[4:7]),
        b"".join(sent[7:71]),
        b"".join(sent[71:]),
    ]


def test_gso_unsupported_at_send_falls_back_and_stays_off() -> None:
    sock = ScriptedSocket(sendmsg_errno=errno.EIO)  # e.g. no checksum offload on the device
    t = _scripted(sock)
    sent = _datagrams([1200] * 4)
    t.send_many([(d, LOCAL, REMOTE) for d in sent])
    assert sock.sendto_calls == sent
    assert LOCAL not in t._gso
    t.send_many([(d, LOCAL, REMOTE) for d in sent])
    assert sock.sendto_calls == sent + sent


def test_gso_refused_for_one_run_is_sent_one_by_one_and_stays_on() -> None:
    sock = ScriptedSocket(sendmsg_errno=errno.EINVAL)  # e.g. a segment above the path MTU
    t = _scripted(sock)
    sent = _datagrams([1400] * 3)
    t.send_many([(d, LOCAL, REMOTE) for d in sent])
    assert sock.sendto_calls == sent
    assert LOCAL in t._gso


def test_full_send_buffer_drops_the_run() -> None:
    sock = ScriptedSocket(sendmsg_errno=errno.EAGAIN)
    t = _scripted(sock)
    t.send_many([(d, LOCAL, REMOTE) for d in _datagrams([1200] * 3)])
    assert sock.sendto_calls == []  # as send() drops a datagram on EAGAIN


def test_without_gso_send_many_is_send_of_each() -> None:
    sock = ScriptedSocket()
    t = _scripted(sock, gso=False)
    sent = _datagrams([1200] * 3 + [10])
    t.send_many([(d, LOCAL, REMOTE) for d in sent])
    assert sock.sendmsg_calls == [] and sock.sendto_calls == sent


def test_probe_failure_leaves_offload_off() -> None:
    class NoOffload:
        def getsockopt(self, level: int, name: int) -> int:
            raise OSError(errno.ENOPROTOOPT, "no such option")

        def setsockopt(self, level: int, name: int, value: int) -> None:
            raise OSError(errno.ENOPROTOOPT, "no such option")

    t = UdpTransport(hosts=["127.0.0.1"])
    t._probe_offload(LOCAL, NoOffload())  # type: ignore[arg-type]
    assert LOCAL not in t._gso and LOCAL not in t._gro


def _gro_cmsg(size: int) -> list[tuple[int, int, bytes]]:
    return [(net._SOL_UDP, net._UDP_GRO, net._GRO_SIZE.pack(size))]


def test_split_gro() -> None:
    data = b"".join(_datagrams([300, 300, 300, 120]))
    assert net._split_gro(data, _gro_cmsg(300)) == _datagrams([300, 300, 300, 120])
    assert net._split_gro(data, []) == [data]
    assert net._split_gro(data, _gro_cmsg(len(data))) == [data]  # one datagram, not coalesced
    assert net._split_gro(data, _gro_cmsg(0)) == [data]
    assert net._split_gro(data, _gro_cmsg(-5)) == [data]
    assert net._split_gro(data, [(net._SOL_UDP, net._UDP_GRO, b"\x01")]) == [data]  # short cmsg
    assert net._split_gro(data, [(socket.SOL_SOCKET, net._UDP_GRO, net._GRO_SIZE.pack(300))]) == [
        data
    ]


def test_gro_drain_splits_in_order_and_counts_each_datagram() -> None:
    sock = ScriptedSocket()
    first = _datagrams([1000] * 3 + [10], 0)
    second = _datagrams([64], 9)
    truncated = _datagrams([500] * 2, 20)
    sock.reads = [
        (b"".join(first), _gro_cmsg(1000), 0, REMOTE),
        (second[0], [], 0, REMOTE),
        # MSG_TRUNC: the last segment was cut by the buffer and is dropped, the whole ones kept
        (b"".join(truncated) + b"\x00" * 100, _gro_cmsg(500), socket.MSG_TRUNC, REMOTE),
    ]
    out: list[tuple[bytes, Address, Address]] = []
    assert net._drain_gro(sock, LOCAL, None, out) is False  # type: ignore[arg-type]
    assert [o[0] for o in out] == first + second + truncated
    assert {(o[1], o[2]) for o in out} == {(REMOTE, LOCAL)}


def test_gro_drain_stops_at_the_read_cap() -> None:
    sock = ScriptedSocket()
    segments = _datagrams([100] * 64)
    sock.reads = [(b"".join(segments), _gro_cmsg(100), 0, REMOTE) for _ in range(5)]
    out: list[tuple[bytes, Address, Address]] = []
    assert net._drain_gro(sock, LOCAL, None, out) is True  # more may be waiting
    assert len(out) == net.MAX_READ_PER_SOCKET and len(sock.reads) == 1


def test_gso_run_stays_below_the_udp_size_limit() -> None:
    sock = ScriptedSocket()
    t = _scripted(sock)
    sent = _datagrams([1200] * 60)
    t.send_many([(d, LOCAL, REMOTE) for d in sent])
    assert [len(b) for b, _ in sock.sendmsg_calls] == [54 * 1200, 6 * 1200]
    assert all(len(b) <= net._GSO_MAX_BYTES for b, _ in sock.sendmsg_calls)
