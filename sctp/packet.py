"""The packet writer: common header, checksum, and packing chunks into packets of the current
size (RFC 9260 §3.1, §6.8, §6.10; RFC 9653)."""

from __future__ import annotations

import crc32c

from .chunks import CHECKSUM, COMMON_HEADER, COMMON_HEADER_SIZE, encode_packet

_ZERO4 = b"\x00\x00\x00\x00"

Parts = list[bytes | memoryview]


class PacketWriter:
    """Builds the packets to the peer into `outbox`; the packet size is `mtu`.

    `tag` is the peer's verification tag (0 until known); `zero_checksum` is set once both
    sides advertised RFC 9653 support. `ctrl` holds control chunks waiting to be bundled."""

    __slots__ = (
        "_hdr",
        "_hdr_crc",
        "_hdr_tag",
        "_hdr_zero",
        "chunk_budget",
        "ctrl",
        "local_port",
        "max_fragment",
        "mtu",
        "outbox",
        "remote_port",
        "tag",
        "zero_checksum",
    )

    def __init__(self, local_port: int, remote_port: int, mtu: int) -> None:
        self.local_port = local_port
        self.remote_port = remote_port
        self.tag = 0
        self.zero_checksum = False
        self.outbox: list[bytes] = []
        self.ctrl: list[bytes] = []
        self.mtu = self.chunk_budget = self.max_fragment = 0
        self.set_mtu(mtu)
        self._hdr_tag = -1
        self._hdr = b""
        self._hdr_zero = b""  # the header with checksum 0 (RFC 9653)
        self._hdr_crc = 0

    def set_mtu(self, n: int) -> None:
        """The largest packet, common header included (the PMTU budget)."""
        if not 256 <= n <= 65535:
            raise ValueError("max_packet_size out of range")
        self.mtu = n
        self.chunk_budget = n - COMMON_HEADER_SIZE
        # user data per DATA chunk: the padded chunk must fit the packet (RFC 9260 §3.2, §6.9)
        self.max_fragment = (self.chunk_budget - 16) & ~3

    def emit(self, parts: Parts) -> None:
        """One packet to the peer from encoded chunks. `parts` is consumed; the packet is
        joined once (the only copy of the user data)."""
        if self._hdr_tag != self.tag:
            self._hdr_tag = self.tag
            self._hdr = COMMON_HEADER.pack(self.local_port, self.remote_port, self.tag)
            self._hdr_zero = self._hdr + _ZERO4
            self._hdr_crc = crc32c.crc32c(self._hdr_zero)
        if self.zero_checksum:
            parts.insert(0, self._hdr_zero)
        else:
            crc = self._hdr_crc
            for part in parts:
                crc = crc32c.crc32c(part, crc)
            parts.insert(0, self._hdr + CHECKSUM.pack(crc))
        self.outbox.append(b"".join(parts))

    def emit_chunks(self, chunks: list[bytes]) -> None:
        """Pack chunks into as few packets as fit, in order (no DATA)."""
        parts: Parts = []
        size = 0
        budget = self.chunk_budget
        for c in chunks:
            if size + len(c) > budget and parts:
                self.emit(parts)
                parts = []
                size = 0
            parts.append(c)
            size += len(c)
        if parts:
            self.emit(parts)

    def send_alone(self, vtag: int, chunk: bytes) -> None:
        """A packet of its own with tag `vtag` and a CRC32c: INIT, INIT ACK, COOKIE ECHO,
        ABORT, SHUTDOWN ACK / COMPLETE, errors to a peer not yet known (RFC 9260 §8.5.1)."""
        self.outbox.append(encode_packet(self.local_port, self.remote_port, vtag, chunk))

    def take(self) -> list[bytes]:
        out = self.outbox
        self.outbox = []
        return out
