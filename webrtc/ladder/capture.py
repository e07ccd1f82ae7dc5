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
    client: Address | None = None
    client_random: bytes | None = None
    server_random: bytes | None = None
    suite: int | None = None
    read: dict[Address, EpochState] = field(default_factory=dict)  # sender -> its epoch-1 keys


class DtlsDecryptor:
    """Follows DTLS 1.2 handshakes per address pair and opens epoch-1 application data."""

    def __init__(self, keys: Mapping[bytes, bytes]) -> None:
        self.keys = keys
        self._sessions: dict[frozenset[Address], _Session] = {}
        self.opened = 0
        self.failed = 0  # records that did not authenticate or had no key

    def _session(self, src: Address, dst: Address) -> _Session:
        key = frozenset((src, dst))
        s = self._sessions.get(key)
        if s is None:
            if len(self._sessions) >= MAX_SESSIONS:
                self._sessions.pop(next(iter(self._sessions)))
            s = self._sessions[key] = _Session()
        return s

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
        s = self._session(src, dst)
        for frag in fragments:
            if frag.offset != 0 or len(frag.body) != frag.length:
                continue  # only whole hellos are read (they are small)
            try:
                if frag.msg_type == 1:  # RFC 6347 §4.2.1: the same random after a cookie
                    hello = ClientHello.parse(frag.body)
                    if s.client_random != hello.random:
                        s.client, s.client_random, s.read = src, hello.random, {}
                elif frag.msg_type == 2:
                    sh = ServerHello.parse(frag.body)
                    s.server_random, s.suite, s.read = sh.random, sh.cipher_suite, {}
            except DecodeError:
                continue

    def _open(self, src: Address, dst: Address, es: int, body: bytes) -> bytes | None:
        s = self._session(src, dst)
        state = s.read.get(src)
        if state is None:
            state = self._derive(s, src)
            if state is None:
                self.failed += 1
                return None
        plain = state.open(23, es, body)
        if plain is None:
            self.failed += 1
        else:
            self.opened += 1
        return plain

    def _derive(self, s: _Session, src: Address) -> EpochState | None:
        if s.client_random is None or s.server_random is None or s.suite is None:
            return None
        master = self.keys.get(s.client_random)
        info = cipher.SUITES.get(s.suite)
        if master is None or info is None:
            return None
        kb = cipher.key_block(info, master, s.client_random, s.server_random)  # RFC 5246 §6.3
        if src == s.client:
            state = EpochState(1, info, kb.client_key, kb.client_iv)
        else:
            state = EpochState(1, info, kb.server_key, kb.server_iv)
        s.read[src] = state
        return state


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
    for d in datagrams:
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
                    for inner in decode_sctp_packet(packet, time=d.time, direction="out"):
                        out.append(Observation(peer, _at(inner, d.src, d.dst), True))
    return out


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
