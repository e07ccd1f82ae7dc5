"""DTLS 1.2 record layer (RFC 6347 §4.1): headers, per-epoch protection, anti-replay window."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from .cipher import SuiteInfo, make_aead


class ContentType(IntEnum):
    """RFC 5246 §6.2.1."""

    change_cipher_spec = 20
    alert = 21
    handshake = 22
    application_data = 23


DTLS_1_2 = 0xFEFD
DTLS_1_0 = 0xFEFF
HEADER_LEN = 13
MAX_PLAINTEXT = 1 << 14  # RFC 5246 §6.2.1
SEQ_MASK = (1 << 48) - 1

# type u8 | version u16 | epoch u16 || sequence_number u48 (as one u64) | length u16
HEADER = struct.Struct("!BHQH")
# RFC 5246 §6.2.3.3 additional_data: seq_num(epoch||seq) | type | version | length
AAD = struct.Struct("!QBHH")
EXPLICIT = struct.Struct("!Q")
HEADER_EXPLICIT = struct.Struct("!BHQHQ")  # header followed by the GCM explicit nonce
NONCE_XOR = struct.Struct("!IQ")

REPLAY_WINDOW = 128  # RFC 6347 §4.1.2.6: at least 32, 64 recommended
_WINDOW_MASK = (1 << REPLAY_WINDOW) - 1


class ReplayWindow:
    """Sliding anti-replay window over 48-bit sequence numbers (RFC 6347 §4.1.2.6)."""

    __slots__ = ("bitmap", "top")

    def __init__(self) -> None:
        self.top = -1  # highest sequence number accepted so far
        self.bitmap = 0  # bit i set <=> top - i was accepted

    def is_replay(self, seq: int) -> bool:
        diff = self.top - seq
        if diff < 0:
            return False
        if diff >= REPLAY_WINDOW:
            return True
        return bool((self.bitmap >> diff) & 1)

    def mark(self, seq: int) -> None:
        """Record `seq` as received; call only after the record authenticated."""
        diff = seq - self.top
        if diff >= REPLAY_WINDOW:
            self.bitmap = 1
            self.top = seq
        elif diff > 0:
            self.bitmap = ((self.bitmap << diff) | 1) & _WINDOW_MASK
            self.top = seq
        else:
            self.bitmap |= 1 << -diff


class EpochState:
    """Protection for one epoch in one direction. Epoch 0 is plaintext (`aead` None)."""

    __slots__ = ("aead", "chacha", "epoch", "epoch_bits", "gcm", "iv", "iv_int", "seq", "window")

    def __init__(
        self,
        epoch: int,
        info: SuiteInfo | None = None,
        key: bytes = b"",
        iv: bytes = b"",
    ) -> None:
        self.epoch = epoch
        self.epoch_bits = epoch << 48
        self.seq = 0  # next sequence number to send (write states)
        self.window = ReplayWindow()  # read states
        self.aead: AESGCM | ChaCha20Poly1305 | None = None
        self.chacha = False
        self.iv = iv
        self.iv_int = (0, 0)
        self.gcm: AESGCM | None = None  # the AEAD when it is AES-GCM (explicit nonce records)
        if info is not None:
            self.aead = make_aead(info, key)
            self.chacha = info.chacha
            if self.chacha:
                self.iv_int = NONCE_XOR.unpack(iv)
            else:
                assert isinstance(self.aead, AESGCM)
                self.gcm = self.aead

    def seal(self, content_type: int, payload: bytes) -> bytes:
        """One protected record with the next sequence number."""
        seq = self.seq
        if seq > SEQ_MASK:
            raise OverflowError("DTLS sequence number space exhausted")
        self.seq = seq + 1
        es = self.epoch_bits | seq
        aead = self.aead
        if aead is None:
            return HEADER.pack(content_type, DTLS_1_2, es, len(payload)) + payload
        aad = AAD.pack(es, content_type, DTLS_1_2, len(payload))
        if self.chacha:
            # RFC 7905 §2: nonce = IV xor (0^32 || epoch || seq); no explicit nonce
            hi, lo = self.iv_int
            ct = aead.encrypt(NONCE_XOR.pack(hi, lo ^ es), payload, aad)
            return HEADER.pack(content_type, DTLS_1_2, es, len(ct)) + ct
        # RFC 5288 §3: nonce = salt(4) || explicit(8); explicit = epoch||seq
        ct = aead.encrypt(self.iv + EXPLICIT.pack(es), payload, aad)
        return HEADER_EXPLICIT.pack(content_type, DTLS_1_2, es, 8 + len(ct), es) + ct

    def seal_many(self, content_type: int, payloads: Sequence[bytes]) -> list[bytes]:
        """`seal()` of each payload in order (the same bytes), one call for a poll's worth of
        AES-GCM records."""
        seq = self.seq
        aead = self.aead
        if aead is None or self.chacha or seq + len(payloads) > SEQ_MASK:
            return [self.seal(content_type, p) for p in payloads]
        encrypt = aead.encrypt
        salt = self.iv
        epoch_bits = self.epoch_bits
        aad = AAD.pack
        explicit = EXPLICIT.pack
        header = HEADER_EXPLICIT.pack
        out = []
        for payload in payloads:
            es = epoch_bits | seq
            n = len(payload)
            # RFC 5288 §3: nonce = salt(4) || explicit(8); explicit = epoch||seq
            ct = encrypt(salt + explicit(es), payload, aad(es, content_type, DTLS_1_2, n))
            out.append(header(content_type, DTLS_1_2, es, n + 24, es) + ct)
            seq += 1
        self.seq = seq
        return out

    def open(self, content_type: int, es: int, body: bytes | memoryview) -> bytes | None:
        """Plaintext of a record body, or None when authentication fails."""
        aead = self.aead
        if aead is None:
            return bytes(body)
        try:
            if self.chacha:
                n = len(body) - 16
                if n < 0:
                    return None
                hi, lo = self.iv_int
                return aead.decrypt(
                    NONCE_XOR.pack(hi, lo ^ es), body, AAD.pack(es, content_type, DTLS_1_2, n)
                )
            n = len(body) - 24
            if n < 0:
                return None
            return aead.decrypt(
                self.iv + bytes(body[:8]), body[8:], AAD.pack(es, content_type, DTLS_1_2, n)
            )
        except InvalidTag:
            return None

    def open_application_data(self, record: bytes, es: int) -> bytes | None:
        """`open()` for a whole application_data record (header included, already checked)."""
        if self.aead is None or self.chacha:
            return self.open(23, es, memoryview(record)[13:])
        n = len(record) - 37  # header 13 + explicit nonce 8 + tag 16
        if n < 0:
            return None
        # big records through a view (no copy before decryption), small ones by slicing (cheaper)
        body = memoryview(record)[21:] if n > 1024 else record[21:]
        try:
            return self.aead.decrypt(self.iv + record[13:21], body, AAD.pack(es, 23, DTLS_1_2, n))
        except InvalidTag:
            return None

    def open_datagram(self, data: bytes) -> bytes | None:
        """The plaintext of a datagram that is exactly one application_data record of this
        epoch, its sequence number then marked received (RFC 6347 §4.1.2.6); None, having
        changed nothing, for anything else (another type, epoch or length, a replay, a record
        that does not authenticate, an oversized plaintext)."""
        n = len(data)
        if n <= HEADER_LEN or data[0] != 23:
            return None
        _ct, version, es, length = HEADER.unpack_from(data)
        if length != n - HEADER_LEN or version != DTLS_1_2 or es >> 48 != self.epoch:
            return None
        seq = es & SEQ_MASK
        window = self.window
        ahead = seq - window.top  # > 0: newer than anything seen (the common case)
        if ahead <= 0 and window.is_replay(seq):
            return None
        gcm = self.gcm
        if gcm is None:
            plaintext = self.open_application_data(data, es)
            if plaintext is None:
                return None
        else:
            # RFC 5288 §3: nonce = salt || explicit nonce (bytes 13..21); open_application_data
            # inline; big records through a view (no copy before decryption), small ones sliced
            size = n - 37  # header 13 + explicit nonce 8 + tag 16
            if size < 0:
                return None
            body = memoryview(data)[21:] if size > 1024 else data[21:]
            try:
                aad = AAD.pack(es, 23, DTLS_1_2, size)
                plaintext = gcm.decrypt(self.iv + data[13:21], body, aad)
            except InvalidTag:
                return None
        if len(plaintext) > MAX_PLAINTEXT:
            return None
        if 0 < ahead < REPLAY_WINDOW:  # window.mark(seq) for a record just ahead
            window.bitmap = ((window.bitmap << ahead) | 1) & _WINDOW_MASK
            window.top = seq
        else:
            window.mark(seq)
        return plaintext

    @property
    def overhead(self) -> int:
        if self.aead is None:
            return 0
        return 16 if self.chacha else 24
