"""Counters of an association (drops are never silent)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AssociationStats:
    """Counters for what the association saw and did."""

    packets_received: int = 0
    packets_sent: int = 0
    bad_checksum: int = 0
    zero_checksum_refused: int = 0  # of bad_checksum: a zero checksum we did not advertise
    zero_checksum_received: int = 0  # accepted without a CRC32c (RFC 9653 §5.4)
    bad_vtag: int = 0
    malformed: int = 0
    unknown_chunks: int = 0
    data_chunks_received: int = 0
    data_chunks_dropped: int = 0
    duplicate_tsns: int = 0
    invalid_stream: int = 0
    data_chunks_sent: int = 0
    retransmissions: int = 0
    spurious_retransmits: int = 0
    fast_retransmits: int = 0
    t3_expirations: int = 0
    abandoned_messages: int = 0
    forward_tsn_sent: int = 0
    forward_tsn_received: int = 0
    cookies_rejected: int = 0
    stale_cookies: int = 0
    aborts_sent: int = 0
    aborts_received: int = 0
    dcep_errors: int = 0
    messages_sent: int = 0
    messages_received: int = 0
    plpmtud_probes_sent: int = 0
    plpmtud_probes_acked: int = 0
    plpmtud_black_holes: int = 0

    def undecodable(self, packet: bytes, bad_checksum: bool) -> None:
        """Count a packet dropped before its chunks: a bad checksum, else malformed."""
        if not bad_checksum:
            self.malformed += 1
            return
        self.bad_checksum += 1
        if packet[8:12] == b"\0\0\0\0":
            self.zero_checksum_refused += 1  # RFC 9653 §5.4: not advertised, so checked
