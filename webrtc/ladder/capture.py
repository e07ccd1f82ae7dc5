"""A capture (pcap/pcapng) and an NSS key log as ladder observations.

Each UDP datagram is decoded by `webrtc.trace.decode_datagram` (RFC 7983 demultiplexing; STUN,
TURN, DTLS headers). DTLS sessions are followed per address pair: the ClientHello and ServerHello
give the randoms and the cipher suite; with the master secret of a `CLIENT_RANDOM` key-log line
the key block is derived (RFC 5246 §6.3, `dtls.cipher.key_block`) and each epoch-1
ApplicationData record is opened (RFC 5288 / RFC 7905 nonces, `dtls.record.EpochState`); its
plaintext is an SCTP packet, decoded into chunks (and DCEP) by `webrtc.trace.decode_sctp_packet`.
Without the key, ApplicationData records are shown as they are (encrypted).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dtls import DecodeError, cipher
from dtls.messages import ClientHello, ServerHello, parse_fragments
from dtls.record import HEADER_LEN, EpochState
from ice import channeldata, stun

from ..trace import TraceEvent, decode_datagram, decode_sctp_packet
from .model import Ladder, Observation, build_ladder
from .pcap import Datagram, Stats, read_datagrams

__all__ = ["MAX_KEYLOG_LINES", "DtlsDecryptor", "load_capture", "observe", "parse_keylog"]

MAX_KEYLOG_LINES = 100_000
MAX_SESSIONS = 1024  # DTLS sessions followed at once (address pairs)
RECENT_SESSIONS = 8  # keyed sessions tried for a record on an address pair of its own
_MAGIC_COOKIE = b"\x21\x12\xa4\x42"  # RFC 8489 §5
_CLIENT_RANDOM = re.compile(r"^CLIENT_RANDOM ([0-9a-fA-F]{64}) ([0-9a-fA-F]{96})\s*$")
Address = tuple[str, int]


def parse_keylog(lines: Iterable[str]) -> dict[bytes, bytes]:
    """client_random -> master_secret from NSS key-log lines (other labels are ignored)."""
    keys: dict[bytes, bytes] = {}
    for i, line in enumerate(lines):
        if i >= MAX_KEYLOG_LINES:
            break
        m = _CLIENT_RANDOM.match(line[:300])
        if m is not None:
            keys[bytes.fromhex(m.group(1))] = bytes.fromhex(m.group(2))
    return keys


@dataclass(slots=True)
class _Session:
    """One DTLS handshake: its randoms, suite and, once keyed, both write directions."""

    client: Address | None = None
    client_random: bytes | None = None
    server_random: bytes | None = None
    suite: int | None = None
    keyed: bool = False  # tried to derive the keys (with or without success)
    writers: dict[str, EpochState] = field(default_factory=dict)  # "client"/"server" -> keys
    roles: dict[Address, str] = field(default_factory=dict)  # sender -> "client"/"server"


class DtlsDecryptor:
    """Follows DTLS 1.2 handshakes and opens epoch-1 application data.

    A handshake is found by the address pair it ran on; records on another pair (ICE moved to
    another candidate pair, or a TURN relay's other leg) are tried against the most recent
    keyed sessions and stick to the one whose key authenticates them (AEAD: no false match).
    """

    def __init__(self, keys: Mapping[bytes, bytes]) -> None:
        self.keys = keys
        self._by_pair: dict[frozenset[Address], _Session] = {}
        self._by_random: dict[bytes, _Session] = {}
        self._awaiting: deque[_Session] = deque(maxlen=RECENT_SESSIONS)  # no ServerHello yet
        self._keyed: list[_Session] = []  # most recent last, at most RECENT_SESSIONS
        self.opened = 0
        self.failed = 0  # records that did not authenticate or had no key

    def records(self, data: bytes, src: Address, dst: Address) -> list[bytes | None]:
        """Plaintext of each ApplicationData record of a DTLS datagram, in order (None when
        it cannot be opened); handshake records update the session."""
        out: list[bytes | None] = []
        off = 0
        while off + HEADER_LEN <= len(data):
            ctype, epoch = data[off], int.from_bytes(data[off + 3 : off + 5], "big")
            length = int.from_bytes(data[off + 11 : off + 13], "big")
            end = off + HEADER_LEN + length
            if end > len(data):
                break
            body = data[off + HEADER_LEN : end]
            if ctype == 22 and epoch == 0:
                self._handshake(body, src, dst)
            elif ctype == 23:
                es = int.from_bytes(data[off + 3 : off + 11], "big")
                out.append(self._open(src, dst, es, body))
            off = end
        return out

    def _handshake(self, body: bytes, src: Address, dst: Address) -> None:
        try:
            fragments = parse_fragments(body)
        except DecodeError:
            return
        pair = frozenset((src, dst))
        for frag in fragments:
            if frag.offset != 0 or len(frag.body) != frag.length:
                continue  # only whole hellos are read (they are small)
            try:
                if frag.msg_type == 1:
                    self._client_hello(ClientHello.parse(frag.body).random, src, pair)
                elif frag.msg_type == 2:
                    self._server_hello(ServerHello.parse(frag.body), pair)
            except DecodeError:
                continue

    def _client_hello(self, random: bytes, src: Address, pair: frozenset[Address]) -> None:
        s = self._by_random.get(random)  # RFC 6347 §4.2.1: the same random after a cookie
        if s is None:
            if len(self._by_random) >= MAX_SESSIONS:
                self._by_random.pop(next(iter(self._by_random)))
            s = self._by_random[random] = _Session(src, random)
            self._awaiting.append(s)
        self._remember(pair, s)

    def _server_hello(self, hello: ServerHello, pair: frozenset[Address]) -> None:
        # The answer to the latest ClientHello still waiting; not necessarily on the same
        # address pair (a peer bound to a wildcard address may answer from another one).
        s = self._by_pair.get(pair)
        if s is None or s.server_random is not None:
            s = next((x for x in reversed(self._awaiting) if x.server_random is None), None)
        if s is None or s.server_random is not None:
            return
        s.server_random, s.suite = hello.random, hello.cipher_suite
        if s in self._awaiting:
            self._awaiting.remove(s)
        self._remember(pair, s)
        self._derive(s)  # now: the first record may come on another pair

    def _remember(self, pair: frozenset[Address], s: _Session) -> None:
        if pair not in self._by_pair and len(self._by_pair) >= MAX_SESSIONS:
            self._by_pair.pop(next(iter(self._by_pair)))
        self._by_pair[pair] = s

    def _open(self, src: Address, dst: Address, es: int, body: bytes) -> bytes | None:
        s = self._by_pair.get(frozenset((src, dst)))
        if s is not None and not s.keyed:
            self._derive(s)
        candidates = [s] if s is not None and s.writers else []
        candidates += [k for k in reversed(self._keyed) if k is not s]
        for session in candidates:
            role = session.roles.get(src)
            roles = [role] if role is not None else ["client", "server"]
            for r in roles:
                plain = session.writers[r].open(23, es, body)
                if plain is not None:
                    session.roles[src] = r
                    self._remember(frozenset((src, dst)), session)
                    self.opened += 1
                    return plain
        self.failed += 1
        return None

    def _derive(self, s: _Session) -> None:
        s.keyed = True
        if s.client_random is None or s.server_random is None or s.suite is None:
            s.keyed = False  # the ServerHello may still come
            return
        master = self.keys.get(s.client_random)
        info = cipher.SUITES.get(s.suite)
        if master is None or info is None:
            return
        kb = cipher.key_block(info, master, s.client_random, s.server_random)  # RFC 5246 §6.3
        s.writers["client"] = EpochState(1, info, kb.client_key, kb.client_iv)
        s.writers["server"] = EpochState(1, info, kb.server_key, kb.server_iv)
        if s.client is not None:
            s.roles[s.client] = "client"
        self._keyed.append(s)
        del self._keyed[:-RECENT_SESSIONS]


def _dtls_payload(data: bytes) -> bytes | None:
    """The DTLS bytes of a datagram, also when relayed in TURN (RFC 8656 §11, §12)."""
    if not data:
        return None
    first = data[0]
    if 20 <= first <= 63:
        return data
    if 64 <= first <= 79:
        try:
            return _dtls_payload(channeldata.decode_channel_data(data)[1][:65535])
        except stun.StunError:
            return None
    if first <= 3:
        try:
            inner = stun.Message.parse(data).attributes.get(stun.Attr.DATA)
        except stun.StunError:
            return None
        if isinstance(inner, bytes) and inner and 20 <= inner[0] <= 63:
            return inner
    return None


def observe(
    datagrams: Iterable[Datagram],
    keys: Mapping[bytes, bytes] | None = None,
    names: Mapping[Address, str] | None = None,
) -> list[Observation]:
    """Observations of captured datagrams (each seen once), SCTP decrypted where keys allow.

    `names`: lifeline names for addresses (default "ip:port").
    """
    dec = DtlsDecryptor(keys or {})
    names = names or {}
    out: list[Observation] = []
    for captured in datagrams:
        for payload in gso_segments(captured.payload):
            _observe_one(replace(captured, payload=payload), dec, names, out)
    return out


def gso_segments(payload: bytes) -> list[bytes]:
    """The datagrams of a UDP GSO send as a capture on the sending host shows it: one payload
    holding equal-sized segments (the last may be shorter). Only STUN is split, where the
    first message's length says where the next begins and each segment must look like STUN;
    concatenated DTLS records decode the same either way."""
    if len(payload) < 20 or payload[0] > 3 or payload[4:8] != _MAGIC_COOKIE:
        return [payload]
    size = 20 + int.from_bytes(payload[2:4], "big")
    if size >= len(payload):
        return [payload]
    parts = [payload[i : i + size] for i in range(0, len(payload), size)]
    for part in parts:
        if len(part) < 20 or part[0] > 3 or part[4:8] != _MAGIC_COOKIE:
            return [payload]
    return parts


def _observe_one(
    d: Datagram, dec: DtlsDecryptor, names: Mapping[Address, str], out: list[Observation]
) -> None:
    peer = names.get(d.src, f"{d.src[0]}:{d.src[1]}")
    events = decode_datagram(d.payload, time=d.time, direction="out", local=d.src, remote=d.dst)
    dtls_bytes = _dtls_payload(d.payload)
    plain: list[bytes | None] = []
    if dtls_bytes is not None:
        plain = dec.records(dtls_bytes, d.src, d.dst)
    for ev in events:
        out.append(Observation(peer, ev, True))
        if ev.layer == "DTLS" and ev.kind == "ApplicationData" and plain:
            packet = plain.pop(0)
            if packet is not None:
                out[-1] = Observation(peer, _opened(ev), True)
                for inner in decode_sctp_packet(packet, time=d.time, direction="out"):
                    out.append(Observation(peer, _at(inner, d.src, d.dst), True))


def _opened(ev: TraceEvent) -> TraceEvent:
    """An ApplicationData record whose SCTP content follows (the ladder draws that instead)."""
    return replace(ev, fields={**ev.fields, "decrypted": True})


def _at(ev: TraceEvent, src: Address, dst: Address) -> TraceEvent:
    return replace(ev, local=src, remote=dst)


def load_capture(
    path: str | Path,
    keylog: str | Path | None = None,
    names: Mapping[Address, str] | None = None,
    **options: Any,
) -> Ladder:
    """The ladder of a pcap/pcapng file, decrypted with an NSS key log when given."""
    keys: dict[bytes, bytes] = {}
    if keylog is not None:
        with open(keylog, encoding="ascii", errors="replace") as fh:
            keys = parse_keylog(fh)
    stats = Stats()
    with open(path, "rb") as fh:
        obs = observe(read_datagrams(fh, stats), keys, names)
    options.setdefault("title", Path(path).name)
    return build_ladder(obs, (), skipped=stats.malformed, **options)
