"""Scripted hostile peers and off-path attackers, to point at a stack on the simulated network.

Two kinds of building blocks:

* Bytes: datagrams and chunks an attacker would send. `tampered_record` / `resequenced_record`
  (DTLS records with a flipped ciphertext bit, or also a fresh sequence number so they pass
  anti-replay and must fail authentication), `spoofed_alert` (a fatal alert record),
  `forged_binding_request` (a STUN check with wrong MESSAGE-INTEGRITY), `stray_init`,
  `forged_cookie_echo`, `forged_data`, `forged_abort` (SCTP chunks), `client_hellos` /
  `dtls_records` (filters over captured traffic).
* Actors: `HostilePeer` injects datagrams from any address at scheduled virtual times
  (replays, floods, spoofed sources) as the simulation runs; `capture` records what hosts send;
  `send_sctp` puts SCTP packets through an attacker peer's own DTLS session (an authenticated
  but malicious peer); `never_acknowledge` makes a peer's SCTP swallow everything.

These are what the project's own robustness suite (tests/robustness) is written with.
"""

from __future__ import annotations

import heapq
import itertools
import random
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import dtls
import ice
import sctp
from ice.stun import Attr, Class, Message, Method
from sctp import chunks as sc

from ..peer_connection import WebRTCPeerConnection
from .clock import VirtualClock
from .network import Address, Network

__all__ = [
    "ROGUE",
    "HostilePeer",
    "agent_of",
    "capture",
    "client_hellos",
    "dtls_of",
    "dtls_records",
    "forged_abort",
    "forged_binding_request",
    "forged_cookie_echo",
    "forged_data",
    "never_acknowledge",
    "peer_vtag",
    "resequenced_record",
    "sctp_of",
    "send_sctp",
    "spoofed_alert",
    "stray_init",
    "tampered_record",
]

ROGUE: Address = ("10.0.0.66", 6666)  # a stranger's address (need not be bound)
_RECORD_HEADER = 13  # RFC 6347 §4.1
_EXPLICIT_NONCE = 8  # AES-GCM explicit nonce (RFC 5288 §3)
Tapped = tuple[bytes, Address, Address]


# -- the layers of a peer connection (for attacks that need them) -------------------------------


def dtls_of(pc: WebRTCPeerConnection) -> dtls.Connection:
    """The peer's DTLS connection (ValueError before it exists)."""
    conn = pc._dtls
    if conn is None:
        raise ValueError("no DTLS connection yet")
    return conn


def sctp_of(pc: WebRTCPeerConnection) -> sctp.Association:
    """The peer's SCTP association (ValueError before it exists)."""
    assoc = pc._sctp
    if assoc is None:
        raise ValueError("no SCTP association yet")
    return assoc


def agent_of(pc: WebRTCPeerConnection) -> ice.Agent:
    """The peer's ICE agent (ValueError before it exists)."""
    agent = pc._agent
    if agent is None:
        raise ValueError("no ICE agent yet")
    return agent


# -- capturing ------------------------------------------------------------------------------------


@contextmanager
def capture(network: Network) -> Iterator[list[Tapped]]:
    """Within the block, every datagram hosts send: `(data, source, destination)`."""
    seen: list[Tapped] = []
    previous = network.tap
    network.tap = seen
    try:
        yield seen
    finally:
        network.tap = previous
        if previous is not None:
            previous.extend(seen)


def dtls_records(
    tapped: Iterable[Tapped],
    *,
    src: Address | None = None,
    dst: Address | None = None,
    content_type: int | None = None,
) -> list[bytes]:
    """Captured DTLS datagrams (first byte 20..63, RFC 7983), optionally filtered."""
    return [
        d
        for d, s, t in tapped
        if d
        and 20 <= d[0] <= 63
        and (src is None or s == src)
        and (dst is None or t == dst)
        and (content_type is None or d[0] == content_type)
    ]


def client_hellos(tapped: Iterable[Tapped]) -> list[bytes]:
    """Captured datagrams starting with a DTLS ClientHello (RFC 6347 §4.2.2)."""
    return [d for d, _, _ in tapped if len(d) > _RECORD_HEADER and d[0] == 22 and d[13] == 1]


# -- DTLS -----------------------------------------------------------------------------------------


def tampered_record(record: bytes, rng: random.Random) -> bytes:
    """`record` with one bit flipped inside its ciphertext or tag (AEAD must reject it)."""
    bad = bytearray(record)
    start = _RECORD_HEADER + _EXPLICIT_NONCE
    if len(bad) <= start:
        start = min(_RECORD_HEADER, len(bad) - 1)
    pos = rng.randrange(start, len(bad))
    bad[pos] ^= 1 << rng.randrange(8)
    return bytes(bad)


def resequenced_record(record: bytes, rng: random.Random) -> bytes:
    """A tampered record with a fresh sequence number: passes anti-replay, fails AEAD."""
    bad = bytearray(tampered_record(record, rng))
    if len(bad) > 10:
        bad[10] ^= 0x40  # RFC 6347 §4.1: sequence_number occupies bytes 5..10
    return bytes(bad)


def spoofed_alert(epoch: int, sequence: int, description: int = 40, level: int = 2) -> bytes:
    """An unprotected alert record (default fatal handshake_failure) claiming `epoch`."""
    header = struct.pack("!BHH", 21, 0xFEFD, epoch) + (sequence & (1 << 48) - 1).to_bytes(6, "big")
    return header + struct.pack("!H", 2) + bytes([level, description])


# -- STUN -----------------------------------------------------------------------------------------


def forged_binding_request(
    rng: random.Random, username: str, *, priority: int = 12345, controlling: bool = True
) -> bytes:
    """A Binding request for `username` signed with a random key (wrong MESSAGE-INTEGRITY)."""
    msg = Message(Method.BINDING, Class.REQUEST, rng.randbytes(12))
    msg.attributes[Attr.USERNAME] = username
    msg.attributes[Attr.PRIORITY] = priority
    role = Attr.ICE_CONTROLLING if controlling else Attr.ICE_CONTROLLED
    msg.attributes[role] = rng.getrandbits(64)
    return msg.encode(integrity_key=rng.randbytes(16))


# -- SCTP -----------------------------------------------------------------------------------------


def stray_init(rng: random.Random, initiate_tag: int | None = None) -> bytes:
    """An INIT chunk (RFC 9260 §3.3.2); on a live association it must not restart it."""
    tag = rng.getrandbits(32) or 1 if initiate_tag is None else initiate_tag
    return sc.InitChunk(tag, 65536, 1024, 1024, rng.getrandbits(32)).encode()


def forged_cookie_echo(rng: random.Random, max_size: int = 300) -> bytes:
    """A COOKIE ECHO with random bytes for a cookie (its MAC must fail, RFC 9260 §5.1.5)."""
    return sc.CookieEchoChunk(rng.randbytes(rng.randrange(1, max_size))).encode()


def forged_data(stream_id: int, payload: bytes, tsn: int = 12345, ppid: int = 53) -> bytes:
    """A whole unfragmented DATA chunk (flags B|E)."""
    return sc.encode_data(sc.FLAG_BEGIN | sc.FLAG_END, tsn, stream_id, 0, ppid, payload)


def forged_abort() -> bytes:
    """An ABORT chunk without the T bit (RFC 9260 §8.5.1: ignored unless the tag matches)."""
    return sc.AbortChunk(False, []).encode()


def peer_vtag(pc: WebRTCPeerConnection) -> int:
    """The verification tag `pc`'s peer expects on the packets `pc` sends (RFC 9260 §8.5)."""
    return sctp_of(pc).writer.tag  # the packet writer stamps every packet with it


def send_sctp(
    attacker: WebRTCPeerConnection,
    chunks: list[bytes],
    vtag: int,
    *,
    ports: tuple[int, int] = (5000, 5000),
) -> None:
    """An SCTP packet of `chunks` through the attacker's own DTLS session (sent at its next
    `poll()`), exactly as its SCTP layer would put it on the wire."""
    packet = sctp.encode_packet(ports[0], ports[1], vtag, chunks)
    dtls_of(attacker).send(packet)
    attacker._dirty = True  # flush at the next poll()


def never_acknowledge(pc: WebRTCPeerConnection) -> None:
    """Make `pc`'s SCTP swallow every packet (ICE consent and DTLS stay alive): its peer sees
    a path that carries nothing, and must give up by RFC 9260 §8.1."""
    assoc = sctp_of(pc)
    assoc.receive = lambda packet, now: None


# -- the scripted attacker ------------------------------------------------------------------


class HostilePeer:
    """Injects datagrams into `network` at scheduled virtual times (an `Actor`: add it to a
    `Simulation` with `sim.add(peer)`, or call `inject` directly).

    Sources need not be bound; NAT mappings and taps are bypassed (`Network.inject`).
    """

    def __init__(self, network: Network, clock: VirtualClock, address: Address = ROGUE) -> None:
        self.network = network
        self.clock = clock
        self.address = address
        self._plan: list[tuple[float, int, bytes, Address, Address]] = []
        self._seq = itertools.count()
        self.injected = 0

    def inject(self, data: bytes, to: Address, *, src: Address | None = None) -> None:
        """Send one datagram now."""
        self.network.inject(data, src or self.address, to, self.clock.now)
        self.injected += 1

    def at(self, t: float, data: bytes, to: Address, *, src: Address | None = None) -> None:
        """Send one datagram at virtual time `t`."""
        heapq.heappush(self._plan, (t, next(self._seq), data, src or self.address, to))

    def replay(
        self,
        datagrams: Iterable[bytes],
        to: Address,
        *,
        src: Address | None = None,
        start: float | None = None,
        interval: float = 0.0,
    ) -> int:
        """Send captured `datagrams` again, `interval` apart from `start` (default now)."""
        t = self.clock.now if start is None else start
        n = 0
        for d in datagrams:
            self.at(t + n * interval, d, to, src=src)
            n += 1
        return n

    def flood(
        self,
        datagrams: Iterable[bytes],
        to: Address,
        *,
        rate: float = 10_000.0,
        sources: Iterable[Address] | None = None,
        start: float | None = None,
    ) -> int:
        """Send `datagrams` at `rate` per second, each from the next of `sources` (cycled;
        default: this peer's address)."""
        t = self.clock.now if start is None else start
        srcs = itertools.cycle(list(sources)) if sources is not None else None
        n = 0
        for d in datagrams:
            self.at(t + n / rate, d, to, src=next(srcs) if srcs is not None else None)
            n += 1
        return n

    def step(self, now: float) -> None:
        plan = self._plan
        while plan and plan[0][0] <= now:
            _, _, data, src, dst = heapq.heappop(plan)
            self.network.inject(data, src, dst, now)
            self.injected += 1

    def next_time(self) -> float | None:
        return self._plan[0][0] if self._plan else None

    @property
    def pending(self) -> int:
        return len(self._plan)
