"""Injectable datagram transport and clock: the only I/O of the stack.

A `DatagramTransport` binds one socket per local host and moves datagrams; `UdpTransport` is the
real non-blocking UDP implementation, and `webrtc.testing.SimTransport` backs the same protocol
with a simulated network.
A clock is any `() -> float` of monotonic seconds (default `time.monotonic`).
"""

from __future__ import annotations

import errno
import logging
import os
import select
import socket
import struct
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

Address = tuple[str, int]
Clock = Callable[[], float]

logger = logging.getLogger(__name__)

#: Environment variable: when set to 1/true/yes, gather only on loopback (same as the
#: configuration key ``"x-loopback-only": True``).
LOOPBACK_ENV = "WEBRTC_LOOPBACK_ONLY"

_RECV_SIZE = 65536
# Linux <linux/in.h>; the socket module does not export them.
_IP_MTU_DISCOVER = 10
_IP_PMTUDISC_DO = 2
MDNS_GROUP_V4 = "224.0.0.251"  # RFC 6762 §3
MDNS_PORT = 5353
_MDNS_MAX_READ = 256  # datagrams per receive_mdns() call (a busy LAN must not stall poll())
#: Datagrams read from one socket per receive() call: a flood from anyone who knows the port
#: must not stall poll(); what is left is read by the next poll(), which `backlog` asks for.
MAX_READ_PER_SOCKET = 256
_SOCKET_BUFFER = 4 * 1024 * 1024
# Linux <linux/udp.h>: UDP GSO (UDP_SEGMENT on send) and GRO (UDP_GRO on receive, the segment
# size in a cmsg); the socket module does not export them.
_SOL_UDP = 17
_UDP_SEGMENT = 103
_UDP_GRO = 104
_GSO_MAX_SEGMENTS = 64  # UDP_MAX_SEGMENTS of Linux before 6.x
_GSO_MAX_BYTES = 65000  # one sendmsg is one IP packet for the kernel: below 65507 bytes of UDP
_GSO_SIZE = struct.Struct("=H")  # the UDP_SEGMENT value: u16, host order
_GRO_SIZE = struct.Struct("=i")  # the UDP_GRO cmsg: int, host order
_GRO_CMSG_SPACE = socket.CMSG_SPACE(_GRO_SIZE.size) if hasattr(socket, "CMSG_SPACE") else 0
# sendmsg errors meaning "no GSO here" (no checksum offload: EIO): GSO is then turned off.
_GSO_UNSUPPORTED = (errno.EIO, errno.ENOPROTOOPT, errno.EOPNOTSUPP)


def _split_gro(data: bytes, ancillary: list[tuple[int, int, bytes]]) -> list[bytes]:
    """The datagrams of one recvmsg() on a UDP_GRO socket: `data` cut at the segment size the
    kernel reports (every segment that size, the last one possibly shorter), or `data` alone."""
    for level, kind, value in ancillary:
        if level == _SOL_UDP and kind == _UDP_GRO and len(value) >= _GRO_SIZE.size:
            size = _GRO_SIZE.unpack_from(value)[0]
            if 0 < size < len(data):
                return [data[i : i + size] for i in range(0, len(data), size)]
    return [data]


def _drain_gro(
    sock: socket.socket, local: Address, solo: Any, out: list[tuple[bytes, Address, Address]]
) -> bool:
    """`_drain` for a socket with UDP_GRO on: recvmsg() may return several datagrams coalesced
    by the kernel (from a GSO sender); they are split back, in order, and each counts towards
    MAX_READ_PER_SOCKET."""
    recvmsg = sock.recvmsg
    errors = 0
    left = MAX_READ_PER_SOCKET
    while left > 0:
        try:
            data, ancillary, flags, src = recvmsg(_RECV_SIZE, _GRO_CMSG_SPACE)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:  # e.g. ICMP port unreachable reported once on the socket
            errors += 1
            if errors > 8:
                return False
            continue
        addr: Address = src if len(src) == 2 else (src[0], src[1])
        if not ancillary:
            out.append((data, addr, local))
            left -= 1
        else:
            segments = _split_gro(data, ancillary)
            if flags & socket.MSG_TRUNC and len(segments) > 1:
                segments.pop()  # cut short by the buffer: the others are whole
            for segment in segments:
                out.append((segment, addr, local))
            left -= len(segments)
        if solo is not None:
            if not solo.poll(0):
                return False
            solo = None
    return True


def _drain(
    sock: socket.socket, local: Address, solo: Any, out: list[tuple[bytes, Address, Address]]
) -> bool:
    """Read the pending datagrams of `sock` into `out`, at most MAX_READ_PER_SOCKET; True when
    it stopped at that cap (more may be waiting). With `solo` (a poll object watching only this
    socket) one poll(0) after the first datagram replaces the failing recvfrom that would end
    the loop: 0.6 us instead of 2 us with one datagram per poll(), as in request/response
    traffic; with more, the loop reads until EAGAIN or the cap."""
    recvfrom = sock.recvfrom
    errors = 0
    left = MAX_READ_PER_SOCKET
    while left:
        try:
            data, src = recvfrom(_RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:  # e.g. ICMP port unreachable reported once on the socket
            errors += 1
            if errors > 8:
                return False
            continue
        out.append((data, src if len(src) == 2 else (src[0], src[1]), local))
        left -= 1
        if solo is not None:
            if not solo.poll(0):
                return False
            solo = None
    return True


# the peer connection's default clock (time.monotonic itself: no wrapper frame per poll)
monotonic_clock: Callable[[], float] = time.monotonic


class DatagramTransport(Protocol):
    """What the peer connection needs from the network."""

    def local_hosts(self) -> list[str]:
        """IP addresses to gather host candidates on."""
        ...

    def bind(self, host: str) -> Address:
        """Bind a socket on `host` (any free port); return its address."""
        ...

    def send(self, data: bytes, local: Address, remote: Address) -> None:
        """Send from the socket bound at `local` (best effort; errors are dropped)."""
        ...

    def receive(self) -> list[tuple[bytes, Address, Address]]:
        """Pending datagrams as `(data, source, local)`; never blocks. A transport that reads
        only part of a backlog (UdpTransport: MAX_READ_PER_SOCKET per socket) may say so with a
        `backlog` attribute, True until a receive() reads everything; poll() then runs again
        at once (next_timeout() is now)."""
        ...

    def close(self) -> None: ...


class MdnsCapable(Protocol):
    """Optional transport capability: a socket receiving multicast mDNS (RFC 6762 §3).

    Chromium answers mDNS queries only by multicast to 224.0.0.251:5353, so resolving its
    `<uuid>.local` candidates needs a socket on port 5353 joined to that group. A transport
    without these methods simply never resolves such names (peer-reflexive candidates as before).
    """

    def open_mdns(self) -> bool:
        """Open the multicast socket (idempotent); False if it cannot be opened here."""
        ...

    def receive_mdns(self) -> list[bytes]:
        """Every pending datagram read on it; never blocks; [] when it is not open."""
        ...

    def close_mdns(self) -> None:
        """Close it (if open); `close()` also does."""
        ...


class BatchCapable(Protocol):
    """Optional transport capability: the datagrams of one poll() handed over in one call."""

    def send_many(self, datagrams: Sequence[tuple[bytes, Address, Address]]) -> None:
        """`send(data, local, remote)` of each, in order (best effort)."""
        ...


TransportFactory = Callable[[], DatagramTransport]


def env_loopback_only() -> bool:
    return os.environ.get(LOOPBACK_ENV, "").strip().lower() in ("1", "true", "yes")


def interface_addresses(*, loopback_only: bool = False) -> list[str]:
    """Local IPs to gather on: `ice.local_interface_addresses()`, else loopback."""
    if loopback_only:
        return ["127.0.0.1"]
    from ice import local_interface_addresses

    return local_interface_addresses() or ["127.0.0.1"]


class UdpTransport:
    """Non-blocking UDP sockets, one per bound host.

    On Linux `send_many` sends runs of equal-sized datagrams to one destination with one
    sendmsg (UDP GSO) and sockets read with UDP GRO (coalesced datagrams split back); both are
    probed per socket at bind() and fall back to one syscall per datagram where the kernel lacks
    them (`udp_offload=False` turns them off).
    """

    def __init__(
        self,
        *,
        loopback_only: bool = False,
        hosts: list[str] | None = None,
        udp_offload: bool = True,
    ) -> None:
        self._hosts = hosts
        self._loopback_only = loopback_only or env_loopback_only()
        self._sockets: dict[Address, socket.socket] = {}
        self._offload = udp_offload and sys.platform.startswith("linux")
        self._gso: set[Address] = set()  # sockets sending with UDP_SEGMENT
        self._gro: set[Address] = set()  # sockets reading with UDP_GRO
        # One poll(0) syscall finds the readable sockets: an idle socket costs no EAGAIN
        # exception (idle receive() with two sockets: 2.9 -> 0.8 us). None where poll is missing.
        self._poller = select.poll() if hasattr(select, "poll") else None
        # fd -> (address, socket, a poll object watching only that socket, UDP_GRO on)
        self._by_fd: dict[int, tuple[Address, socket.socket, Any, bool]] = {}
        self._mdns: socket.socket | None = None
        self.backlog = False  # the last receive() stopped at MAX_READ_PER_SOCKET on a socket

    def local_hosts(self) -> list[str]:
        if self._hosts is not None:
            return list(self._hosts)
        return interface_addresses(loopback_only=self._loopback_only)

    def bind(self, host: str) -> Address:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, opt, _SOCKET_BUFFER)
                except OSError:
                    pass
            sock.bind((host, 0))
        except OSError:
            sock.close()
            raise
        addr: Address = (host, sock.getsockname()[1])
        self._sockets[addr] = sock
        if self._offload:
            self._probe_offload(addr, sock)
        if self._poller is not None:
            self._poller.register(sock.fileno(), select.POLLIN)
            solo = select.poll()
            solo.register(sock.fileno(), select.POLLIN)
            self._by_fd[sock.fileno()] = (addr, sock, solo, addr in self._gro)
        return addr

    def _probe_offload(self, addr: Address, sock: socket.socket) -> None:
        """UDP_SEGMENT readable: the kernel segments (Linux 4.18+; an older one would ignore the
        cmsg and send one big datagram, so it is never used unprobed). UDP_GRO settable: Linux
        5.0+."""
        try:
            sock.getsockopt(_SOL_UDP, _UDP_SEGMENT)
            self._gso.add(addr)
        except OSError as exc:
            logger.debug("no UDP GSO on %s: %s", addr, exc)
        if _GRO_CMSG_SPACE:
            try:
                sock.setsockopt(_SOL_UDP, _UDP_GRO, 1)
                self._gro.add(addr)
            except OSError as exc:
                logger.debug("no UDP GRO on %s: %s", addr, exc)

    def send(self, data: bytes, local: Address, remote: Address) -> None:
        sock = self._sockets.get(local)
        if sock is None:
            return
        try:
            sock.sendto(data, remote)
        except OSError as exc:  # EAGAIN, unreachable, wrong family: UDP is best effort
            if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                logger.debug("sendto %s -> %s failed: %s", local, remote, exc)

    def send_many(self, datagrams: Sequence[tuple[bytes, Address, Address]]) -> None:
        """send() of each datagram, in order. Where the socket has GSO, a run of datagrams from
        one socket to one destination, all as long as the first but the last (which may be
        shorter), goes out in one sendmsg with UDP_SEGMENT: the kernel cuts it back into the same
        datagrams (at most _GSO_MAX_SEGMENTS and _GSO_MAX_BYTES per run)."""
        gso = self._gso
        n = len(datagrams)
        i = 0
        while i < n:
            data, local, remote = datagrams[i]
            size = len(data)
            j = i + 1
            if local in gso:
                total = size
                while j < n and j - i < _GSO_MAX_SEGMENTS:
                    nxt, nlocal, nremote = datagrams[j]
                    k = len(nxt)
                    total += k
                    if k > size or total > _GSO_MAX_BYTES or nlocal != local or nremote != remote:
                        break
                    j += 1
                    if k < size:
                        break  # a shorter datagram ends the run
            if j - i == 1:
                self.send(data, local, remote)
            else:
                self._send_segments([d[0] for d in datagrams[i:j]], size, local, remote)
            i = j

    def _send_segments(self, run: list[bytes], size: int, local: Address, remote: Address) -> None:
        """One UDP_SEGMENT sendmsg for `run`; without GSO after all, one sendto each."""
        sock = self._sockets.get(local)
        if sock is None:
            return
        try:
            # the run as an iovec list: the kernel gathers it, no joined copy here
            sock.sendmsg(run, [(_SOL_UDP, _UDP_SEGMENT, _GSO_SIZE.pack(size))], 0, remote)
            return
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                return  # a full send buffer drops the run, as it would drop each datagram
            if exc.errno in _GSO_UNSUPPORTED:
                self._gso.discard(local)  # e.g. no checksum offload on the device
            logger.debug("GSO sendmsg %s -> %s failed: %s", local, remote, exc)
        for data in run:  # EINVAL/EMSGSIZE (a segment above the path MTU), ...: one by one
            self.send(data, local, remote)

    def prevent_fragmentation(self) -> None:
        """Set "don't fragment" on every socket (RFC 8899 §3: PLPMTUD probes must not be
        fragmented); a datagram bigger than the path then fails instead of being split."""
        for (host, _port), sock in self._sockets.items():
            try:
                if ":" in host:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DONTFRAG, 1)
                elif sys.platform.startswith("linux"):
                    sock.setsockopt(socket.IPPROTO_IP, _IP_MTU_DISCOVER, _IP_PMTUDISC_DO)
            except (OSError, AttributeError) as exc:
                logger.debug("cannot set don't-fragment on %s: %s", host, exc)

    def receive(self) -> list[tuple[bytes, Address, Address]]:
        out: list[tuple[bytes, Address, Address]] = []
        backlog = False
        if self._poller is None:
            for local, sock in self._sockets.items():
                drain = _drain_gro if local in self._gro else _drain
                backlog = drain(sock, local, None, out) or backlog
        else:
            by_fd = self._by_fd
            for fd, _ in self._poller.poll(0):
                entry = by_fd.get(fd)
                if entry is not None:
                    drain = _drain_gro if entry[3] else _drain
                    backlog = drain(entry[1], entry[0], entry[2], out) or backlog
        self.backlog = backlog
        return out

    def open_mdns(self) -> bool:
        """Bind an IPv4 socket to ("", 5353) with SO_REUSEADDR (+ SO_REUSEPORT, to share the port
        with avahi) and join 224.0.0.251 on each bound non-loopback IPv4 host (RFC 6762 §3).
        Failures (port taken without reuse, no multicast route, ...) are logged at debug level."""
        if self._mdns is not None:
            return True
        hosts = sorted({a[0] for a in self._sockets if ":" not in a[0]})
        hosts = [h for h in hosts if not h.startswith("127.")]
        if self._loopback_only or not hosts:
            return False
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            reuse_port = getattr(socket, "SO_REUSEPORT", None)
            if reuse_port is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, reuse_port, 1)
                except OSError:
                    pass
            sock.bind(("", MDNS_PORT))
            joined = 0
            group = socket.inet_aton(MDNS_GROUP_V4)
            for host in hosts:
                try:
                    mreq = group + socket.inet_aton(host)
                    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
                    joined += 1
                except OSError as exc:
                    logger.debug("cannot join %s on %s: %s", MDNS_GROUP_V4, host, exc)
            if not joined:
                raise OSError(f"no interface joined {MDNS_GROUP_V4}")
        except OSError as exc:
            sock.close()
            logger.debug("no mDNS multicast socket: %s", exc)
            return False
        self._mdns = sock
        return True

    def receive_mdns(self) -> list[bytes]:
        sock = self._mdns
        out: list[bytes] = []
        if sock is None:
            return out
        for _ in range(_MDNS_MAX_READ):
            try:
                out.append(sock.recv(_RECV_SIZE))
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                logger.debug("mDNS socket read failed: %s", exc)
                break
        return out

    def close_mdns(self) -> None:
        if self._mdns is not None:
            self._mdns.close()
            self._mdns = None

    def close(self) -> None:
        self.close_mdns()
        for fd in self._by_fd:
            if self._poller is not None:
                self._poller.unregister(fd)
        self._by_fd.clear()
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()
        self._gso.clear()
        self._gro.clear()
