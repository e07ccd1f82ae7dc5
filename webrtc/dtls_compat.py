"""Reassembly of a fragmented DTLS ClientHello before it reaches `dtls.Connection` (server side).

Workaround for a limitation of the `dtls` package: its stateless cookie exchange
(RFC 6347 §4.2.1) only accepts an unfragmented ClientHello, while Chromium's ClientHello
(DTLS 1.3 offered with post-quantum key shares) is ~1.4 kB and arrives in two fragments
(RFC 6347 §4.2.3 allows that). We rebuild the complete message as one epoch-0 handshake record;
its transcript bytes are the unfragmented form RFC 6347 §4.2.6 prescribes, so the handshake hash
is unchanged. Used only while our server waits for a ClientHello.
"""

from __future__ import annotations

import struct

_RECORD_HEADER = 13
_HS_HEADER = 12
_CLIENT_HELLO = 1
_HANDSHAKE = 22
MAX_CLIENT_HELLO = 16384
MAX_PENDING = 8


class ClientHelloReassembler:
    """Collects ClientHello fragments; passes every other record through untouched."""

    def __init__(self) -> None:
        # message_seq -> (total length, version, last record seq, {offset: fragment})
        self._pending: dict[int, tuple[int, int, int, dict[int, bytes]]] = {}

    def feed(self, datagram: bytes) -> bytes | None:
        """The datagram to hand to dtls (None when it only carried fragments still incomplete)."""
        pos, n = 0, len(datagram)
        out: list[bytes] = []
        changed = False
        while pos + _RECORD_HEADER <= n:
            ct = datagram[pos]
            version, epoch = struct.unpack_from("!HH", datagram, pos + 1)
            seq = int.from_bytes(datagram[pos + 5 : pos + 11], "big")
            length = int.from_bytes(datagram[pos + 11 : pos + 13], "big")
            end = pos + _RECORD_HEADER + length
            if end > n:
                break
            body = datagram[pos + _RECORD_HEADER : end]
            if (
                ct == _HANDSHAKE
                and epoch == 0
                and len(body) >= _HS_HEADER
                and body[0] == (_CLIENT_HELLO)
            ):
                total = int.from_bytes(body[1:4], "big")
                msg_seq = int.from_bytes(body[4:6], "big")
                offset = int.from_bytes(body[6:9], "big")
                frag_len = int.from_bytes(body[9:12], "big")
                fragment = body[_HS_HEADER : _HS_HEADER + frag_len]
                if frag_len != total and len(fragment) == frag_len and total <= MAX_CLIENT_HELLO:
                    changed = True
                    whole = self._add(msg_seq, total, version, seq, offset, fragment)
                    if whole is not None:
                        out.append(whole)
                    pos = end
                    continue
            out.append(datagram[pos:end])
            pos = end
        if not changed:
            return datagram
        if pos < n:
            out.append(datagram[pos:])
        return b"".join(out) or None

    def _add(
        self, msg_seq: int, total: int, version: int, seq: int, offset: int, fragment: bytes
    ) -> bytes | None:
        entry = self._pending.get(msg_seq)
        if entry is None or entry[0] != total:
            if len(self._pending) >= MAX_PENDING:
                self._pending.clear()
            entry = (total, version, seq, {})
        parts = entry[3]
        if offset + len(fragment) <= total:
            parts[offset] = fragment
        self._pending[msg_seq] = (total, version, max(seq, entry[2]), parts)
        message = bytearray(total)
        covered = 0
        for off in sorted(parts):
            frag = parts[off]
            if off > covered:
                return None  # a hole remains
            message[off : off + len(frag)] = frag
            covered = max(covered, off + len(frag))
        if covered < total:
            return None
        del self._pending[msg_seq]
        hs = (
            bytes([_CLIENT_HELLO])
            + total.to_bytes(3, "big")
            + msg_seq.to_bytes(2, "big")
            + (0).to_bytes(3, "big")
            + total.to_bytes(3, "big")
            + bytes(message)
        )
        header = bytes([_HANDSHAKE]) + version.to_bytes(2, "big") + (0).to_bytes(2, "big")
        header += (max(seq, entry[2]) & 0xFFFFFFFFFFFF).to_bytes(6, "big")
        return header + len(hs).to_bytes(2, "big") + hs
