"""DTLS 1.2 connection: record processing, handshake flights, retransmission (sans-I/O).

RFC 6347 (DTLS 1.2) over RFC 5246 (TLS 1.2) with RFC 8422 (ECDHE), RFC 7627 (extended master
secret), RFC 5746 (renegotiation_info), RFC 5764 (use_srtp) and RFC 5705 (exporters).
"""

from __future__ import annotations

import hmac
import os
import random
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from enum import Enum

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from . import messages as m
from .certificate import Certificate, fingerprint
from .cipher import (
    DEFAULT_GROUPS,
    DEFAULT_SIGNATURE_SCHEMES,
    DEFAULT_SUITES,
    SUITES,
    KeyShare,
    SuiteInfo,
    export_keying_material,
    key_block,
    master_secret,
    preferred_scheme,
    scheme_fits_key,
    sign,
    transcript_hash,
    verify,
    verify_data,
)
from .errors import (
    AlertDescription,
    AlertError,
    AlertLevel,
    AlertReceived,
    DecodeError,
    DtlsError,
    FingerprintMismatch,
    HandshakeTimeout,
)
from .events import (
    ApplicationData,
    ConnectionTerminated,
    Event,
    HandshakeCompleted,
    Stats,
)
from .messages import ExtensionType as Ext
from .messages import HandshakeType as HT
from .record import DTLS_1_0, DTLS_1_2, HEADER, HEADER_LEN, MAX_PLAINTEXT, SEQ_MASK, EpochState

MAX_RETRANSMIT = 60.0  # RFC 6347 §4.2.4.1: timer doubles up to at least 60 s
# RFC 6347 §4.1.1.1: when retransmissions go unanswered, back off to smaller records. After
# BACKOFF_AFTER unanswered timer retransmissions of one flight, each further one lowers the MTU
# to the largest rung below the flight's largest datagram: 1200 (the IPv6 minimum 1280 - 48,
# with room for TURN framing) and 548 (every IPv4 path carries 576 bytes, minus 28 for
# IPv4+UDP), also the floor. A rung like 1000 would cost each peer another doubled timer period
# (8 s with the default 1 s timer); both peers may have to back off, one after the other, within
# `handshake_timeout`.
MTU_LADDER = (1200, 548)
MTU_FLOOR = 548
BACKOFF_AFTER = 2
MAX_HANDSHAKE_MESSAGE = 1 << 17  # larger handshake messages are refused (memory bound)
MAX_CLIENT_HELLO = 1 << 14  # a fragmented ClientHello is reassembled up to this size
MAX_FUTURE_MESSAGES = 16  # handshake messages buffered ahead of the next expected one
MAX_BUFFERED_RECORDS = 32  # future-epoch records / early application data kept
# Float slack when comparing a peer's retransmission time with ours: both timers run on the same
# interval, so the sums differ only by rounding.
_CLOCK_SLACK = 1e-6
_CCS = b"\x01"
# Content types (RFC 5246 §6.2.1) are compared as plain ints on the record path:
# 20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data.


class State(Enum):
    """Connection states; client and server handshake states name what is awaited next."""

    INIT = "init"
    CLIENT_WAIT_SERVER_HELLO = "client_wait_server_hello"  # HelloVerifyRequest also allowed
    CLIENT_WAIT_CERTIFICATE = "client_wait_certificate"
    CLIENT_WAIT_SERVER_KEY_EXCHANGE = "client_wait_server_key_exchange"
    CLIENT_WAIT_CERTIFICATE_REQUEST = "client_wait_certificate_request"  # or ServerHelloDone
    CLIENT_WAIT_SERVER_HELLO_DONE = "client_wait_server_hello_done"
    CLIENT_WAIT_FINISHED = "client_wait_finished"
    SERVER_WAIT_CLIENT_HELLO = "server_wait_client_hello"
    SERVER_WAIT_CERTIFICATE = "server_wait_certificate"
    SERVER_WAIT_CLIENT_KEY_EXCHANGE = "server_wait_client_key_exchange"
    SERVER_WAIT_CERTIFICATE_VERIFY = "server_wait_certificate_verify"
    SERVER_WAIT_FINISHED = "server_wait_finished"
    ESTABLISHED = "established"
    CLOSED = "closed"
    FAILED = "failed"


_HANDSHAKING = frozenset(
    s for s in State if s not in (State.INIT, State.ESTABLISHED, State.CLOSED, State.FAILED)
)
# States in which every new handshake message from the peer is protected (its Finished, or a
# renegotiation attempt): a plaintext one can only be forged (RFC 6347 §4.1.2.7).
_AUTHENTICATED_ONLY = frozenset(
    (State.CLIENT_WAIT_FINISHED, State.SERVER_WAIT_FINISHED, State.ESTABLISHED)
)

# One flight item: (content_type, epoch, msg_type, message_seq, body)
_Item = tuple[int, int, int, int, bytes]


class _Partial:
    """A handshake message being reassembled from fragments (RFC 6347 §4.2.3)."""

    __slots__ = ("buf", "epoch", "length", "msg_type", "ranges")

    def __init__(self, msg_type: int, length: int, epoch: int) -> None:
        self.msg_type = msg_type
        self.length = length
        self.epoch = epoch
        self.buf = bytearray(length)
        self.ranges: list[tuple[int, int]] = []

    def add(self, offset: int, data: bytes) -> None:
        end = offset + len(data)
        if end == offset:
            return
        self.buf[offset:end] = data
        merged: list[tuple[int, int]] = []
        for s, e in sorted([*self.ranges, (offset, end)]):
            if merged and s <= merged[-1][1]:
                if e > merged[-1][1]:
                    merged[-1] = (merged[-1][0], e)
            else:
                merged.append((s, e))
        self.ranges = merged

    @property
    def complete(self) -> bool:
        return self.length == 0 or self.ranges == [(0, self.length)]


def _normalize_fingerprints(
    fps: Iterable[tuple[str, bytes | str]] | None,
) -> list[tuple[str, bytes]] | None:
    if fps is None:
        return None
    out = []
    for alg, value in fps:
        raw = bytes.fromhex(value.replace(":", "")) if isinstance(value, str) else bytes(value)
        out.append((alg.lower(), raw))
    return out


class Connection:
    """One DTLS 1.2 endpoint (client or server), sans-I/O."""

    def __init__(
        self,
        *,
        is_client: bool,
        certificate: Certificate,
        remote_fingerprints: Iterable[tuple[str, bytes | str]] | None = None,
        mtu: int = 1200,
        initial_retransmit: float = 1.0,
        cipher_suites: Iterable[int] | None = None,
        srtp_profiles: Iterable[int] = (),
        rng: random.Random | None = None,
        keylog: Callable[[str], None] | None = None,
        groups: Iterable[int] | None = None,
        extended_master_secret: bool = True,
        handshake_timeout: float | None = 30.0,
    ) -> None:
        if mtu < 128:
            raise DtlsError("mtu too small")
        if handshake_timeout is not None and handshake_timeout <= 0:
            raise DtlsError("handshake_timeout must be positive")
        self.is_client = is_client
        self.certificate = certificate
        self._remote_fingerprints = _normalize_fingerprints(remote_fingerprints)
        self._mtu = mtu
        self.initial_retransmit = initial_retransmit
        self.handshake_timeout = handshake_timeout
        suites = tuple(cipher_suites) if cipher_suites is not None else DEFAULT_SUITES
        for s in suites:
            if s not in SUITES:
                raise DtlsError(f"unsupported cipher suite {s:#06x}")
        self.cipher_suites = suites
        self.groups = tuple(groups) if groups is not None else DEFAULT_GROUPS
        self.srtp_profiles = tuple(srtp_profiles)
        # Accepted for API uniformity: every random value in DTLS is security relevant and
        # comes from os.urandom.
        self.rng = rng
        self.keylog = keylog
        self.stats = Stats()

        self._state = State.INIT if is_client else State.SERVER_WAIT_CLIENT_HELLO
        self._events: deque[Event] = deque()
        self._out: list[bytes] = []
        # record layer
        self._read: dict[int, EpochState] = {0: EpochState(0)}
        self._write: dict[int, EpochState] = {0: EpochState(0)}
        self._write_epoch = 0
        self._app_write: EpochState | None = None
        self._app_read: EpochState | None = None
        self._future: list[tuple[int, int, bytes]] = []
        self._early_data: list[bytes] = []
        # handshake
        self._send_seq = 0
        self._recv_seq = 0
        self._reassembly: dict[int, _Partial] = {}
        self._transcript = bytearray()
        self._transcript_before = 0  # transcript length before the message being handled
        self._flight: list[_Item] = []
        self._timer: float | None = None  # earliest of the retransmit timer and the deadline
        self._timeout = initial_retransmit
        self._deadline: float | None = None  # handshake give-up time
        self._unanswered = 0  # timer retransmissions of the current flight
        self._flight_largest = 0  # largest datagram of the last transmission of the flight
        # first message_seq of the peer flight being received, and of the one our last flight
        # answered (a retransmission of the latter means our flight was lost)
        self._peer_flight_start = -1
        self._peer_flight_first_seq = -1
        self._flight_sent_at = float("-inf")  # last transmission of our current flight
        self._record_seq = 0  # sequence number of the handshake record being processed
        self._hello_partial: tuple[int, _Partial] | None = None  # fragmented ClientHello
        # negotiated parameters
        self._cookie_secret = os.urandom(32)
        self.client_random = b""
        self.server_random = b""
        self._suite: SuiteInfo | None = None
        self._ems = False
        self._use_ems = extended_master_secret  # offer (client) / accept (server) RFC 7627
        self._own_scheme: int | None = None
        self._peer_scheme: int | None = None
        self._srtp_profile: int | None = None
        self._key_share: KeyShare | None = None
        self._peer_group = 0
        self._peer_public_ecdh = b""
        self._peer_certificate = b""
        self._peer_public_key: object = None
        self._cert_requested = False
        self._cr_schemes: tuple[int, ...] = ()
        self._master_secret = b""

    # --- public API ---

    @property
    def state(self) -> State:
        return self._state

    @property
    def mtu(self) -> int:
        """Largest datagram the handshake sends: the constructor's `mtu`, lowered by PMTU
        back-off (RFC 6347 §4.1.1.1) when retransmissions went unanswered; read-only.
        `send()` does not fragment: a larger application record still goes out as one datagram.
        """
        return self._mtu

    @property
    def payload_mtu(self) -> int:
        """Largest `send()` payload whose record fits one datagram of `mtu` bytes.

        `mtu` minus the record header and the AEAD overhead of the negotiated suite (before the
        handshake completes: of the largest one, AES-GCM's 8-byte nonce and 16-byte tag).
        """
        w = self._app_write
        return self._mtu - HEADER_LEN - (w.overhead if w is not None else 24)

    @property
    def cipher_suite(self) -> int | None:
        return self._suite.suite if self._suite is not None else None

    @property
    def srtp_profile(self) -> int | None:
        return self._srtp_profile

    @property
    def remote_fingerprints(self) -> list[tuple[str, bytes]] | None:
        """Expected peer certificate fingerprints (RFC 8122 names, raw digests); settable."""
        return self._remote_fingerprints

    @remote_fingerprints.setter
    def remote_fingerprints(self, value: Iterable[tuple[str, bytes | str]] | None) -> None:
        self._remote_fingerprints = _normalize_fingerprints(value)

    @property
    def signature_scheme(self) -> int | None:
        """The signature scheme we signed with (ServerKeyExchange / CertificateVerify)."""
        return self._own_scheme

    @property
    def peer_signature_scheme(self) -> int | None:
        """The signature scheme the peer signed with."""
        return self._peer_scheme

    @property
    def named_group(self) -> int | None:
        """The ECDHE group used (RFC 8422 §5.1.1 code point), once known."""
        if self._key_share is not None:
            return self._key_share.group
        return self._peer_group or None

    @property
    def peer_certificate(self) -> bytes:
        return self._peer_certificate

    @property
    def extended_master_secret(self) -> bool:
        return self._ems

    def start(self, now: float) -> None:
        """Start the handshake clock (`handshake_timeout`); the client sends its ClientHello.

        A server only waits for a ClientHello; one never started starts its clock at its first
        flight.
        """
        if not self.is_client:
            if self._state in _HANDSHAKING and self._deadline is None:
                self._start_deadline(now)
                self._set_timer(self._timer)
            return
        if self._state is not State.INIT:
            return
        self.client_random = os.urandom(32)
        self._state = State.CLIENT_WAIT_SERVER_HELLO
        self._start_deadline(now)
        self._send_client_hello(b"", now)

    def send(self, data: bytes) -> None:
        """Queue one application_data record (one datagram)."""
        w = self._app_write
        if w is None or self._state is not State.ESTABLISHED:
            raise DtlsError(f"cannot send application data in state {self._state.value}")
        if len(data) > MAX_PLAINTEXT:
            raise DtlsError("record too large")
        self._out.append(w.seal(23, data))
        self.stats.records_sent += 1

    def send_many(self, packets: Sequence[bytes]) -> None:
        """`send()` of each packet in order (one record, one datagram each; the same bytes), the
        checks and the record loop done once per call."""
        w = self._app_write
        if w is None or self._state is not State.ESTABLISHED:
            raise DtlsError(f"cannot send application data in state {self._state.value}")
        if packets and max(map(len, packets)) > MAX_PLAINTEXT:
            # as send(): the records before the first oversized packet go out, then the error
            for p in packets:
                self.send(p)
        self._out += w.seal_many(23, packets)
        self.stats.records_sent += len(packets)

    def close(self) -> None:
        """Send close_notify (RFC 5246 §7.2.1) and stop."""
        if self._state in (State.CLOSED, State.FAILED):
            return
        if self._state is not State.INIT and not (
            self._state is State.SERVER_WAIT_CLIENT_HELLO and not self._flight
        ):
            self._send_alert(AlertLevel.WARNING, AlertDescription.close_notify)
        self._state = State.CLOSED
        self._timer = None
        self._deadline = None

    def export_keying_material(
        self, label: str | bytes, length: int, context: bytes | None = None
    ) -> bytes:
        """RFC 5705 exporter; only after the handshake completed."""
        if self._state is not State.ESTABLISHED or self._suite is None:
            raise DtlsError("keying material is available only once established")
        lab = label.encode("ascii") if isinstance(label, str) else label
        return export_keying_material(
            self._suite.hash_name,
            self._master_secret,
            self.client_random,
            self.server_random,
            lab,
            length,
            context,
        )

    def datagrams_to_send(self) -> list[bytes]:
        out = self._out
        self._out = []
        return out

    def next_timeout(self) -> float | None:
        return self._timer

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def handle_timeout(self, now: float) -> None:
        """RFC 6347 §4.2.4: on expiry retransmit the flight and double the timer (max 60 s).

        After `BACKOFF_AFTER` unanswered retransmissions the flight is re-fragmented to a
        smaller MTU (RFC 6347 §4.1.1.1); past the deadline the handshake fails with
        `HandshakeTimeout`.
        """
        if self._timer is None or now < self._timer:
            return
        if self._state not in _HANDSHAKING:
            self._timer = None
            return
        deadline = self._deadline
        if deadline is not None and now >= deadline:
            self._fail(
                HandshakeTimeout(f"handshake not complete after {self.handshake_timeout} s"),
                send_alert=False,  # as OpenSSL: the peer is probably unreachable
            )
            return
        if not self._flight:
            self._timer = deadline
            return
        self._unanswered += 1
        if self._unanswered > BACKOFF_AFTER:
            self._back_off_mtu()
        self._transmit_flight()
        self._flight_sent_at = now
        self.stats.retransmissions += 1
        self._timeout = min(self._timeout * 2, MAX_RETRANSMIT)
        self._set_timer(now + self._timeout)

    def receive_application_data(self, data: bytes, now: float) -> bytes | None:
        """receive() for a driver that consumes application data at once: when no event is
        pending, the plaintext of a datagram holding exactly one current-epoch application_data
        record is returned instead of queued as `ApplicationData` (order is kept); any other
        datagram goes through receive() and None is returned."""
        rs = self._app_read
        if rs is not None and self._state is State.ESTABLISHED and not self._events:
            plaintext = rs.open_datagram(data)
            if plaintext is not None:
                stats = self.stats
                stats.datagrams_received += 1
                stats.records_received += 1
                return plaintext
        self.receive(data, now)
        return None

    def receive(self, data: bytes, now: float) -> None:
        """Feed one datagram (it may hold several records)."""
        state = self._state
        if state is State.ESTABLISHED and self._app_read is not None:
            # Fast path: a datagram holding exactly one current-epoch application_data record.
            plaintext = self._app_read.open_datagram(data)
            if plaintext is not None:
                stats = self.stats
                stats.datagrams_received += 1
                stats.records_received += 1
                self._events.append(ApplicationData(plaintext))
                return
        elif state in (State.CLOSED, State.FAILED, State.INIT):
            self.stats.datagrams_ignored += 1
            return
        self.stats.datagrams_received += 1
        try:
            self._receive_records(data, now)
        except AlertReceived as exc:
            self._fail(exc, send_alert=False)
        except AlertError as exc:
            self._fail(exc, send_alert=True)

    # --- record layer ---

    def _receive_records(self, data: bytes, now: float) -> None:
        pos = 0
        n = len(data)
        header = HEADER
        while pos < n:
            if n - pos < HEADER_LEN:
                self.stats.malformed += 1
                return
            ct, version, es, length = header.unpack_from(data, pos)
            start = pos + HEADER_LEN
            pos = start + length
            if pos > n or (version >> 8) != 0xFE:
                self.stats.malformed += 1
                return  # RFC 6347 §4.1.2.7: drop the rest of a bad datagram
            self._process_record(ct, es, data[start:pos], now)
            if self._state in (State.CLOSED, State.FAILED):
                return

    def _process_record(self, ct: int, es: int, body: bytes, now: float) -> None:
        epoch = es >> 48
        rs = self._read.get(epoch)
        if rs is None:
            if epoch != 1:
                self.stats.unknown_epoch += 1
            elif len(self._future) < MAX_BUFFERED_RECORDS:
                # RFC 6347 §4.1: records of the next epoch may arrive before its keys; keep them
                self._future.append((ct, es, body))
                self.stats.future_epoch_buffered += 1
            else:
                self.stats.buffer_full_dropped += 1
            return
        seq = es & SEQ_MASK
        if epoch == 0:
            if ct != 22 and (
                self._state is State.ESTABLISHED
                or (ct == 21 and self._state is State.SERVER_WAIT_FINISHED)
            ):
                # RFC 6347 §4.1.2.7: unauthenticated plaintext after the handshake; only
                # handshake retransmissions (which may trigger our final flight) are of use. A
                # server awaiting the Finished has the client's flight 5 up to its CCS: the
                # client's alerts are protected from there on.
                self.stats.unauthenticated_dropped += 1
                return
            # RFC 6347 §4.1.2.6: the window moves only for records that authenticate, and
            # plaintext never does (a forged sequence number would hide the peer's records)
            if len(body) > MAX_PLAINTEXT:
                self.stats.malformed += 1
                return
            plaintext = bytes(body)
        else:
            window = rs.window
            if window.is_replay(seq):
                self.stats.replayed += 1
                return
            opened = rs.open(ct, es, body)
            if opened is None:
                self.stats.bad_records += 1  # RFC 6347 §4.1.2.7: invalid records silently dropped
                return
            if len(opened) > MAX_PLAINTEXT:
                self.stats.malformed += 1
                return
            window.mark(seq)
            plaintext = opened
        self.stats.records_received += 1
        if ct == 23:
            if epoch == 0:
                self.stats.malformed += 1
            elif self._state is State.ESTABLISHED:
                self._events.append(ApplicationData(plaintext))
            elif len(self._early_data) < MAX_BUFFERED_RECORDS:
                self._early_data.append(plaintext)
                self.stats.early_data_buffered += 1
            else:
                self.stats.buffer_full_dropped += 1
        elif ct == 22:
            self._record_seq = seq
            self._handle_handshake_record(epoch, plaintext, now)
        elif ct == 21:
            self._handle_alert(epoch, plaintext)
        elif ct == 20:
            if plaintext != _CCS:
                self.stats.malformed += 1  # RFC 5246 §7.1: a single byte of value 1
        else:
            self.stats.malformed += 1

    def _install_keys(self) -> None:
        """Derive the epoch-1 read and write states (RFC 5246 §6.3)."""
        assert self._suite is not None
        kb = key_block(self._suite, self._master_secret, self.client_random, self.server_random)
        if self.is_client:
            wk, wiv, rk, riv = kb.client_key, kb.client_iv, kb.server_key, kb.server_iv
        else:
            wk, wiv, rk, riv = kb.server_key, kb.server_iv, kb.client_key, kb.client_iv
        self._write[1] = EpochState(1, self._suite, wk, wiv)
        self._read[1] = EpochState(1, self._suite, rk, riv)

    def _replay_future(self, now: float) -> None:
        """Process the epoch-1 records that arrived before the epoch-1 keys existed."""
        records = self._future
        self._future = []
        for ct, es, body in records:
            if self._state in (State.CLOSED, State.FAILED):
                return
            self._process_record(ct, es, body, now)

    def _send_alert(self, level: int, description: int) -> None:
        w = self._write[self._write_epoch]
        self._out.append(w.seal(21, bytes((level, description))))
        self.stats.alerts_sent += 1

    def _handle_alert(self, epoch: int, payload: bytes) -> None:
        if len(payload) != 2:
            self.stats.malformed += 1  # RFC 6347 §4.1.2.7: invalid records silently discarded
            return
        level, description = payload[0], payload[1]
        self.stats.alerts_received += 1
        if description == AlertDescription.close_notify:
            # RFC 5246 §7.2.1: answer with our own close_notify
            self._send_alert(AlertLevel.WARNING, AlertDescription.close_notify)
            self._state = State.CLOSED
            self._timer = None
            self._events.append(ConnectionTerminated(None))
            return
        if level == AlertLevel.FATAL:
            raise AlertReceived(description, "received from peer")
        # other warnings (e.g. no_renegotiation) are only counted

    def _fail(self, exc: DtlsError, *, send_alert: bool) -> None:
        if send_alert and isinstance(exc, AlertError):
            self._send_alert(AlertLevel.FATAL, exc.description)
        self._state = State.FAILED
        self._timer = None
        self._deadline = None
        self._flight = []
        self._events.append(ConnectionTerminated(exc))

    # --- flights ---

    def _start_deadline(self, now: float) -> None:
        if self.handshake_timeout is not None:
            self._deadline = now + self.handshake_timeout

    def _set_timer(self, retransmit_at: float | None) -> None:
        """Arm the timer at the earlier of the retransmission and the handshake deadline."""
        deadline = self._deadline
        if retransmit_at is None or (deadline is not None and deadline < retransmit_at):
            self._timer = deadline
        else:
            self._timer = retransmit_at

    def _back_off_mtu(self) -> None:
        """RFC 6347 §4.1.1.1: step down to the largest rung below the datagrams that went
        unanswered, never below the floor (a flight that already fits changes nothing)."""
        lower = next((r for r in MTU_LADDER if r < self._flight_largest), None)
        if lower is not None and lower >= MTU_FLOOR:
            self._mtu = lower
            self.stats.pmtu_backoffs += 1

    def _hs_item(self, msg_type: int, body: bytes, epoch: int = 0) -> _Item:
        """Assign the next message_seq and add the message to the transcript."""
        seq = self._send_seq
        self._send_seq += 1
        self._transcript += m.encode_message(msg_type, seq, body)
        return (22, epoch, msg_type, seq, body)

    def _send_flight(self, items: list[_Item], now: float, *, final: bool = False) -> None:
        self._flight = items
        self._peer_flight_first_seq = self._peer_flight_start
        self._timeout = self.initial_retransmit
        self._unanswered = 0
        self._transmit_flight()
        self._flight_sent_at = now
        if final:
            self._timer = None
            return
        if self._deadline is None:
            self._start_deadline(now)  # a server that was never start()ed
        self._set_timer(now + self._timeout)

    def _transmit_flight(self) -> None:
        """Fragment the flight's messages to the MTU and pack records into datagrams."""
        mtu = self._mtu
        first = len(self._out)
        cur = bytearray()
        for ct, epoch, msg_type, seq, body in self._flight:
            w = self._write[epoch]
            overhead = HEADER_LEN + w.overhead
            if ct != 22:
                if cur and len(cur) + overhead + len(body) > mtu:
                    self._out.append(bytes(cur))
                    cur = bytearray()
                cur += w.seal(ct, body)
                self.stats.records_sent += 1
                continue
            offset = 0
            total = len(body)
            while True:
                room = mtu - len(cur) - overhead - m.HS_HEADER_LEN
                if cur and room < min(total - offset, 64):
                    self._out.append(bytes(cur))
                    cur = bytearray()
                    room = mtu - overhead - m.HS_HEADER_LEN
                chunk = body[offset : offset + room]
                cur += w.seal(22, m.encode_fragment(msg_type, total, seq, offset, chunk))
                self.stats.records_sent += 1
                offset += len(chunk)
                if offset >= total:
                    break
        if cur:
            self._out.append(bytes(cur))
        self._flight_largest = max(map(len, self._out[first:]), default=0)

    def _retransmit_on_peer_retransmission(self, now: float) -> None:
        """RFC 6347 §4.2.4: a retransmitted peer flight means ours was lost; resend it, at most
        once per `initial_retransmit` (the trigger is unauthenticated plaintext: without the
        limit every forged fragment would reflect a whole flight toward the peer)."""
        if not self._flight:
            return
        if now < self._flight_sent_at + self.initial_retransmit - _CLOCK_SLACK:
            self.stats.resends_suppressed += 1
            return
        self._transmit_flight()
        self._flight_sent_at = now
        self.stats.retransmissions += 1

    # --- handshake messages ---

    def _handle_handshake_record(self, epoch: int, payload: bytes, now: float) -> None:
        try:
            fragments = m.parse_fragments(payload)
        except DecodeError:
            # RFC 6347 §4.1.2.7: an invalid record is silently discarded, never a fatal alert
            # (plaintext ones can come from anyone who can put the peer's address on a packet)
            self.stats.malformed += 1
            return
        for frag in fragments:
            if self._state is State.SERVER_WAIT_CLIENT_HELLO:
                self._server_stateless_client_hello(epoch, frag, now)
            else:
                self._on_fragment(epoch, frag, now)
        self._process_messages(now)

    def _on_fragment(self, epoch: int, frag: m.Fragment, now: float) -> None:
        seq = frag.message_seq
        if seq < self._recv_seq:
            if seq == self._peer_flight_first_seq and frag.offset == 0:
                self._retransmit_on_peer_retransmission(now)
            else:
                self.stats.handshake_dropped += 1  # a message already processed
            return
        if epoch == 0 and (self._state in _AUTHENTICATED_ONLY or frag.msg_type == HT.finished):
            # RFC 6347 §4.1.2.7: only an authenticated message may come now (Finished, or a
            # renegotiation after the handshake), so a plaintext one is forged or stale
            self.stats.unauthenticated_dropped += 1
            return
        if seq >= self._recv_seq + MAX_FUTURE_MESSAGES or frag.length > MAX_HANDSHAKE_MESSAGE:
            self.stats.handshake_dropped += 1  # memory bound: too far ahead or too large
            return
        partial = self._reassembly.get(seq)
        if partial is not None and (
            partial.msg_type != frag.msg_type
            or partial.length != frag.length
            or partial.epoch != epoch
        ):
            if partial.epoch > epoch:
                self.stats.unauthenticated_dropped += 1  # never over an authenticated partial
                return
            # A peer's fragments never disagree, so one side is forged: start over from the
            # newest fragment (the peer's retransmission then rebuilds the message).
            self.stats.handshake_dropped += 1
            partial = None
        if partial is None:
            partial = self._reassembly[seq] = _Partial(frag.msg_type, frag.length, epoch)
        self._unanswered = 0  # part of the peer's next flight: ours got through at this MTU
        partial.add(frag.offset, frag.body)

    def _process_messages(self, now: float) -> None:
        while self._state in _HANDSHAKING or self._state is State.ESTABLISHED:
            partial = self._reassembly.get(self._recv_seq)
            if partial is None or not partial.complete:
                break
            seq = self._recv_seq
            del self._reassembly[seq]
            self._recv_seq += 1
            self._dispatch(partial.msg_type, bytes(partial.buf), partial.epoch, seq, now)
        if self._future and 1 in self._read:
            self._replay_future(now)

    def _dispatch(self, msg_type: int, body: bytes, epoch: int, seq: int, now: float) -> None:
        """State -> allowed message -> handler (one table, below)."""
        handler = _HANDLERS.get((self._state, msg_type))
        if msg_type == HT.hello_request and self.is_client and self._state in _HANDSHAKING:
            return  # RFC 5246 §7.4.1.1: ignored during a handshake, never hashed
        if handler is None:
            if self._state is State.ESTABLISHED and msg_type in (HT.hello_request, HT.client_hello):
                # RFC 5746 / RFC 5246 §7.2.2: renegotiation refused with a warning
                self.stats.renegotiations_refused += 1
                self._send_alert(AlertLevel.WARNING, AlertDescription.no_renegotiation)
                return
            raise AlertError(
                AlertDescription.unexpected_message,
                f"{msg_type} in state {self._state.value}",
            )
        if (msg_type == HT.finished) != (epoch == 1):
            raise AlertError(AlertDescription.unexpected_message, "message in wrong epoch")
        if msg_type in (HT.server_hello, HT.hello_verify_request) or (
            msg_type == HT.certificate and not self.is_client
        ):
            self._peer_flight_start = seq
        self._transcript_before = len(self._transcript)
        self._transcript += m.encode_message(msg_type, seq, body)
        handler(self, body, now)

    def _check_peer_certificate(self, certificates: tuple[bytes, ...]) -> None:
        der = certificates[0]
        if self._remote_fingerprints is not None:
            matched = False
            for alg, value in self._remote_fingerprints:
                try:
                    digest = fingerprint(der, alg)
                except DtlsError:
                    continue
                if hmac.compare_digest(digest, value):
                    matched = True
            if not matched:
                raise FingerprintMismatch("peer certificate does not match the SDP fingerprint")
        try:
            public_key = x509.load_der_x509_certificate(der).public_key()
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise AlertError(AlertDescription.bad_certificate, "unparseable certificate") from exc
        if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
            raise AlertError(AlertDescription.unsupported_certificate, "unsupported key type")
        self._peer_certificate = der
        self._peer_public_key = public_key

    def _keylog(self) -> None:
        if self.keylog is not None:
            self.keylog(f"CLIENT_RANDOM {self.client_random.hex()} {self._master_secret.hex()}")

    def _derive_master_secret(self, pre_master: bytes) -> None:
        """RFC 7627 §4: the session hash covers ClientHello..ClientKeyExchange inclusive."""
        assert self._suite is not None
        h = self._suite.hash_name
        session_hash = transcript_hash(h, bytes(self._transcript)) if self._ems else None
        self._master_secret = master_secret(
            h, pre_master, self.client_random, self.server_random, session_hash
        )
        self._keylog()
        self._install_keys()

    def _finished_data(self, label: bytes, upto: int) -> bytes:
        assert self._suite is not None
        return verify_data(
            self._suite.hash_name, self._master_secret, label, bytes(self._transcript[:upto])
        )

    def _complete(self) -> None:
        self._state = State.ESTABLISHED
        self._deadline = None
        self._app_write = self._write[1]
        self._app_read = self._read[1]
        self._write_epoch = 1
        assert self._suite is not None
        self._reassembly.clear()
        self._transcript = bytearray()
        self._events.append(
            HandshakeCompleted(self._suite.suite, self._srtp_profile, self._peer_certificate)
        )
        for data in self._early_data:
            self._events.append(ApplicationData(data))
        self._early_data = []

    # --- client ---

    def _send_client_hello(self, cookie: bytes, now: float) -> None:
        exts: list[tuple[int, bytes]] = [
            (Ext.renegotiation_info, b"\x00"),  # RFC 5746 §3.4: empty renegotiated_connection
            (Ext.supported_groups, m.encode_u16_vector_ext(self.groups)),
            (Ext.ec_point_formats, b"\x01\x00"),  # uncompressed only
            (Ext.signature_algorithms, m.encode_u16_vector_ext(DEFAULT_SIGNATURE_SCHEMES)),
        ]
        if self.srtp_profiles:
            exts.append((Ext.use_srtp, m.encode_use_srtp(self.srtp_profiles)))
        if self._use_ems:
            exts.append((Ext.extended_master_secret, b""))
        hello = m.ClientHello(
            version=DTLS_1_2,
            random=self.client_random,
            session_id=b"",
            cookie=cookie,
            cipher_suites=self.cipher_suites,
            compression_methods=b"\x00",
            extensions=tuple(exts),
        )
        self._send_flight([self._hs_item(HT.client_hello, hello.encode())], now)

    def _client_hello_verify_request(self, body: bytes, now: float) -> None:
        hvr = m.HelloVerifyRequest.parse(body)
        # RFC 6347 §4.2.6: ClientHello1 and HelloVerifyRequest are not in the transcript
        self._transcript.clear()
        self._send_client_hello(hvr.cookie, now)

    def _client_server_hello(self, body: bytes, now: float) -> None:
        hello = m.ServerHello.parse(body)
        if hello.version != DTLS_1_2:
            raise AlertError(AlertDescription.protocol_version, f"version {hello.version:#06x}")
        if hello.cipher_suite not in self.cipher_suites:
            raise AlertError(AlertDescription.illegal_parameter, "suite not offered")
        if hello.compression_method != 0:
            raise AlertError(AlertDescription.illegal_parameter, "compression")
        for ext_type, data in hello.extensions:
            if ext_type == Ext.extended_master_secret and self._use_ems:
                if data:
                    raise DecodeError("extended_master_secret must be empty")
                self._ems = True
            elif ext_type == Ext.renegotiation_info:
                if data != b"\x00":  # RFC 5746 §3.4: must be empty on an initial handshake
                    raise AlertError(AlertDescription.handshake_failure, "renegotiation_info")
            elif ext_type == Ext.ec_point_formats:
                formats = m.Reader(data).vector(1, 1)
                if 0 not in formats:
                    raise AlertError(AlertDescription.illegal_parameter, "ec_point_formats")
            elif ext_type == Ext.use_srtp and self.srtp_profiles:
                profiles, _mki = m.parse_use_srtp(data)
                if len(profiles) != 1 or profiles[0] not in self.srtp_profiles:
                    raise AlertError(AlertDescription.illegal_parameter, "use_srtp profile")
                self._srtp_profile = profiles[0]
            else:
                # RFC 5246 §7.4.1.4: only extensions the client offered may appear
                raise AlertError(AlertDescription.unsupported_extension, f"extension {ext_type}")
        self.server_random = hello.random
        self._suite = SUITES[hello.cipher_suite]
        self._state = State.CLIENT_WAIT_CERTIFICATE

    def _client_certificate(self, body: bytes, now: float) -> None:
        msg = m.CertificateMessage.parse(body)
        if not msg.certificates:
            raise AlertError(AlertDescription.bad_certificate, "server sent no certificate")
        self._check_peer_certificate(msg.certificates)
        assert self._suite is not None
        wants_rsa = self._suite.rsa
        if wants_rsa != isinstance(self._peer_public_key, rsa.RSAPublicKey):
            raise AlertError(AlertDescription.unsupported_certificate, "key type vs suite")
        self._state = State.CLIENT_WAIT_SERVER_KEY_EXCHANGE

    def _client_server_key_exchange(self, body: bytes, now: float) -> None:
        ske = m.ServerKeyExchange.parse(body)
        if ske.group not in self.groups:
            raise AlertError(AlertDescription.illegal_parameter, f"group {ske.group}")
        if ske.scheme not in DEFAULT_SIGNATURE_SCHEMES:
            raise AlertError(AlertDescription.illegal_parameter, "signature scheme not offered")
        # RFC 8422 §5.4: signed over client_random + server_random + ServerECDHParams
        signed = self.client_random + self.server_random + ske.params()
        verify(self._peer_public_key, ske.scheme, ske.signature, signed)
        self._peer_scheme = ske.scheme
        self._peer_group = ske.group
        self._peer_public_ecdh = ske.public
        self._state = State.CLIENT_WAIT_CERTIFICATE_REQUEST

    def _client_certificate_request(self, body: bytes, now: float) -> None:
        cr = m.CertificateRequest.parse(body)
        self._cert_requested = True
        self._cr_schemes = cr.signature_schemes
        self._state = State.CLIENT_WAIT_SERVER_HELLO_DONE

    def _client_server_hello_done(self, body: bytes, now: float) -> None:
        if body:
            raise DecodeError("ServerHelloDone must be empty")
        items: list[_Item] = []
        key = self.certificate.private_key
        scheme = 0
        if self._cert_requested:
            scheme = next(
                (
                    s
                    for s in preferred_scheme(key)
                    if s in self._cr_schemes and scheme_fits_key(s, key)
                ),
                0,
            )
            certs = (self.certificate.der,) if scheme else ()
            items.append(self._hs_item(HT.certificate, m.CertificateMessage(certs).encode()))
        share = KeyShare(self._peer_group)
        pre_master = share.exchange(self._peer_public_ecdh)
        items.append(
            self._hs_item(HT.client_key_exchange, m.ClientKeyExchange(share.public).encode())
        )
        self._derive_master_secret(pre_master)
        if scheme:
            self._own_scheme = scheme
            signature = sign(key, scheme, bytes(self._transcript))
            items.append(
                self._hs_item(
                    HT.certificate_verify, m.CertificateVerify(scheme, signature).encode()
                )
            )
        items.append((20, 0, 0, 0, _CCS))
        self._write_epoch = 1
        fin = self._finished_data(b"client finished", len(self._transcript))
        items.append(self._hs_item(HT.finished, fin, epoch=1))
        self._state = State.CLIENT_WAIT_FINISHED
        self._send_flight(items, now)

    def _client_finished(self, body: bytes, now: float) -> None:
        expected = self._finished_data(b"server finished", self._transcript_before)
        if not hmac.compare_digest(expected, body):
            raise AlertError(AlertDescription.decrypt_error, "bad server Finished")
        self._timer = None
        self._flight = []
        self._complete()

    # --- server ---

    def _cookie(self, hello: m.ClientHello) -> bytes:
        return hmac.digest(self._cookie_secret, hello.cookie_input(), "sha256")[:20]

    def _server_stateless_client_hello(self, epoch: int, frag: m.Fragment, now: float) -> None:
        """RFC 6347 §4.2.1: answer a cookie-less ClientHello with a HelloVerifyRequest, no state."""
        if frag.msg_type != HT.client_hello or epoch != 0:
            self.stats.handshake_dropped += 1  # a stateless server reads only ClientHellos
            return
        body = frag.body
        if frag.offset != 0 or len(body) != frag.length:
            # A fragmented ClientHello (large key shares): reassemble one at a time, bounded.
            if frag.length > MAX_CLIENT_HELLO:
                self.stats.malformed += 1
                return
            held = self._hello_partial
            if held is None or held[0] != frag.message_seq or held[1].length != frag.length:
                held = (frag.message_seq, _Partial(HT.client_hello, frag.length, 0))
                self._hello_partial = held
            held[1].add(frag.offset, body)
            if not held[1].complete:
                return
            self._hello_partial = None
            body = bytes(held[1].buf)
        try:
            hello = m.ClientHello.parse(body)
        except DecodeError:
            self.stats.malformed += 1
            return
        cookie = self._cookie(hello)
        if not hmac.compare_digest(hello.cookie, cookie):
            hvr = m.HelloVerifyRequest(DTLS_1_0, cookie).encode()  # RFC 6347 §4.2.1: 1.0
            fragment = m.encode_fragment(
                HT.hello_verify_request, len(hvr), frag.message_seq, 0, hvr
            )
            # RFC 6347 §4.2.1: the HVR reuses the ClientHello's record sequence number
            self._out.append(HEADER.pack(22, DTLS_1_2, self._record_seq, len(fragment)) + fragment)
            self.stats.records_sent += 1
            return
        # continue from the ClientHello's record sequence number so that our records stay above
        # the stateless HVR's (RFC 6347 §4.2.1), as OpenSSL does
        w0 = self._write[0]
        w0.seq = max(w0.seq, self._record_seq)
        self._recv_seq = frag.message_seq + 1
        self._send_seq = frag.message_seq  # RFC 6347 §4.2.2: ServerHello echoes the seq
        self._peer_flight_start = frag.message_seq
        self._transcript = bytearray(m.encode_message(HT.client_hello, frag.message_seq, body))
        self._server_flight_4(hello, now)

    def _server_flight_4(self, hello: m.ClientHello, now: float) -> None:
        if hello.version > DTLS_1_2:  # DTLS versions count down: 0xFEFF is 1.0
            raise AlertError(AlertDescription.protocol_version, f"client {hello.version:#06x}")
        if 0 not in hello.compression_methods:
            raise AlertError(AlertDescription.illegal_parameter, "no null compression")
        key = self.certificate.private_key
        have_rsa = isinstance(key, rsa.RSAPrivateKey)
        suite = next(
            (
                s
                for s in self.cipher_suites
                if s in hello.cipher_suites and SUITES[s].rsa == have_rsa
            ),
            None,
        )
        if suite is None:
            raise AlertError(AlertDescription.handshake_failure, "no common cipher suite")
        client_groups: tuple[int, ...] = (23,)
        client_schemes: tuple[int, ...] = ()
        client_srtp: tuple[int, ...] = ()
        offered_reneg = m.TLS_EMPTY_RENEGOTIATION_INFO_SCSV in hello.cipher_suites
        for ext_type, data in hello.extensions:
            if ext_type == Ext.supported_groups:
                client_groups = m.parse_u16_vector_ext(data)
            elif ext_type == Ext.signature_algorithms:
                client_schemes = m.parse_u16_vector_ext(data)
            elif ext_type == Ext.extended_master_secret:
                self._ems = self._use_ems
            elif ext_type == Ext.renegotiation_info:
                if data != b"\x00":
                    raise AlertError(AlertDescription.handshake_failure, "renegotiation_info")
                offered_reneg = True
            elif ext_type == Ext.use_srtp:
                client_srtp, _mki = m.parse_use_srtp(data)
        group = next((g for g in self.groups if g in client_groups), None)
        if group is None:
            raise AlertError(AlertDescription.handshake_failure, "no common group")
        if not client_schemes:
            # RFC 5246 §7.4.1.4.1: absent means {sha1,*}, which we do not sign with
            raise AlertError(AlertDescription.handshake_failure, "no signature_algorithms")
        scheme = next((s for s in preferred_scheme(key) if s in client_schemes), None)
        if scheme is None:
            raise AlertError(AlertDescription.handshake_failure, "no common signature scheme")
        self._srtp_profile = next((p for p in self.srtp_profiles if p in client_srtp), None)

        self.client_random = hello.random
        self.server_random = os.urandom(32)
        self._suite = SUITES[suite]
        exts: list[tuple[int, bytes]] = []
        if offered_reneg:
            exts.append((Ext.renegotiation_info, b"\x00"))
        if self._ems:
            exts.append((Ext.extended_master_secret, b""))
        if any(t == Ext.ec_point_formats for t, _ in hello.extensions):
            exts.append((Ext.ec_point_formats, b"\x01\x00"))
        if self._srtp_profile is not None:
            exts.append((Ext.use_srtp, m.encode_use_srtp((self._srtp_profile,))))
        server_hello = m.ServerHello(DTLS_1_2, self.server_random, b"", suite, 0, tuple(exts))
        items = [self._hs_item(HT.server_hello, server_hello.encode())]
        items.append(
            self._hs_item(HT.certificate, m.CertificateMessage((self.certificate.der,)).encode())
        )
        self._key_share = KeyShare(group)
        self._own_scheme = scheme
        ske = m.ServerKeyExchange(group, self._key_share.public, scheme, b"")
        signature = sign(key, scheme, self.client_random + self.server_random + ske.params())
        ske = m.ServerKeyExchange(group, self._key_share.public, scheme, signature)
        items.append(self._hs_item(HT.server_key_exchange, ske.encode()))
        # RFC 5246 §7.4.4; WebRTC needs mutual authentication (RFC 8827 §6.5)
        cr = m.CertificateRequest(b"\x40\x01", DEFAULT_SIGNATURE_SCHEMES)  # ecdsa_sign, rsa_sign
        items.append(self._hs_item(HT.certificate_request, cr.encode()))
        items.append(self._hs_item(HT.server_hello_done, b""))
        self._state = State.SERVER_WAIT_CERTIFICATE
        self._send_flight(items, now)

    def _server_certificate(self, body: bytes, now: float) -> None:
        msg = m.CertificateMessage.parse(body)
        if not msg.certificates:
            if self._remote_fingerprints is not None:
                raise AlertError(AlertDescription.handshake_failure, "client certificate required")
        else:
            self._check_peer_certificate(msg.certificates)
        self._state = State.SERVER_WAIT_CLIENT_KEY_EXCHANGE

    def _server_client_key_exchange(self, body: bytes, now: float) -> None:
        cke = m.ClientKeyExchange.parse(body)
        assert self._key_share is not None
        self._derive_master_secret(self._key_share.exchange(cke.public))
        self._state = (
            State.SERVER_WAIT_CERTIFICATE_VERIFY
            if self._peer_certificate
            else State.SERVER_WAIT_FINISHED
        )

    def _server_certificate_verify(self, body: bytes, now: float) -> None:
        cv = m.CertificateVerify.parse(body)
        if cv.scheme not in DEFAULT_SIGNATURE_SCHEMES:
            raise AlertError(AlertDescription.illegal_parameter, "signature scheme not requested")
        verify(
            self._peer_public_key,
            cv.scheme,
            cv.signature,
            bytes(self._transcript[: self._transcript_before]),
        )
        self._peer_scheme = cv.scheme
        self._state = State.SERVER_WAIT_FINISHED

    def _server_finished(self, body: bytes, now: float) -> None:
        expected = self._finished_data(b"client finished", self._transcript_before)
        if not hmac.compare_digest(expected, body):
            raise AlertError(AlertDescription.decrypt_error, "bad client Finished")
        items: list[_Item] = [(20, 0, 0, 0, _CCS)]
        self._write_epoch = 1
        fin = self._finished_data(b"server finished", len(self._transcript))
        items.append(self._hs_item(HT.finished, fin, epoch=1))
        # RFC 6347 §4.2.4: the final flight is kept and resent when the peer retransmits
        self._send_flight(items, now, final=True)
        self._complete()


_Handler = Callable[[Connection, bytes, float], None]

# state -> allowed message -> handler (RFC 6347 §4.2.4 flights; RFC 5246 §7.3 message order)
_HANDLERS: dict[tuple[State, int], _Handler] = {
    (State.CLIENT_WAIT_SERVER_HELLO, HT.hello_verify_request): (
        Connection._client_hello_verify_request
    ),
    (State.CLIENT_WAIT_SERVER_HELLO, HT.server_hello): Connection._client_server_hello,
    (State.CLIENT_WAIT_CERTIFICATE, HT.certificate): Connection._client_certificate,
    (State.CLIENT_WAIT_SERVER_KEY_EXCHANGE, HT.server_key_exchange): (
        Connection._client_server_key_exchange
    ),
    (State.CLIENT_WAIT_CERTIFICATE_REQUEST, HT.certificate_request): (
        Connection._client_certificate_request
    ),
    (State.CLIENT_WAIT_CERTIFICATE_REQUEST, HT.server_hello_done): (
        Connection._client_server_hello_done
    ),
    (State.CLIENT_WAIT_SERVER_HELLO_DONE, HT.server_hello_done): (
        Connection._client_server_hello_done
    ),
    (State.CLIENT_WAIT_FINISHED, HT.finished): Connection._client_finished,
    (State.SERVER_WAIT_CERTIFICATE, HT.certificate): Connection._server_certificate,
    (State.SERVER_WAIT_CLIENT_KEY_EXCHANGE, HT.client_key_exchange): (
        Connection._server_client_key_exchange
    ),
    (State.SERVER_WAIT_CERTIFICATE_VERIFY, HT.certificate_verify): (
        Connection._server_certificate_verify
    ),
    (State.SERVER_WAIT_FINISHED, HT.finished): Connection._server_finished,
}

__all__ = ["Connection", "State"]
