"""Typed events emitted by `dtls.Connection.next_event()`."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import DtlsError


@dataclass(frozen=True)
class HandshakeCompleted:
    cipher_suite: int
    srtp_profile: int | None
    peer_certificate: bytes  # DER; b"" when the peer sent none


@dataclass(frozen=True)
class ApplicationData:
    data: bytes


@dataclass(frozen=True, eq=False)
class ConnectionTerminated:
    error: DtlsError | None  # None: the peer sent close_notify


Event = HandshakeCompleted | ApplicationData | ConnectionTerminated


@dataclass
class Stats:
    """Counters kept by a Connection (mutable, read by the caller)."""

    datagrams_received: int = 0
    datagrams_ignored: int = 0  # received before start() (client) or after the connection ended
    records_received: int = 0
    records_sent: int = 0
    malformed: int = 0  # undecodable records or datagram tails
    bad_records: int = 0  # failed AEAD authentication (RFC 6347 §4.1.2.7: silently dropped)
    replayed: int = 0  # rejected by the anti-replay window
    # plaintext (epoch 0) records or handshake messages where only authenticated ones may act:
    # after the handshake, or once the peer's Finished is due (RFC 6347 §4.1.2.7)
    unauthenticated_dropped: int = 0
    # handshake fragments not kept: already processed, too far ahead, too large, or
    # contradicting earlier fragments of the same message (the earlier ones are dropped)
    handshake_dropped: int = 0
    # peer retransmissions not answered: at most one resend of our flight per initial_retransmit
    resends_suppressed: int = 0
    unknown_epoch: int = 0  # records of an epoch we cannot read (dropped)
    future_epoch_buffered: int = 0
    early_data_buffered: int = 0
    # future-epoch records or early application data beyond MAX_BUFFERED_RECORDS (dropped)
    buffer_full_dropped: int = 0
    retransmissions: int = 0  # flights sent again (timer or peer retransmission)
    pmtu_backoffs: int = 0  # handshake MTU reductions (RFC 6347 §4.1.1.1)
    alerts_sent: int = 0
    alerts_received: int = 0
    renegotiations_refused: int = 0
