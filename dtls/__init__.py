"""DTLS 1.2 (RFC 6347) on `cryptography` primitives, sans-I/O, for WebRTC (RFC 8827)."""

from .certificate import Certificate, fingerprint, format_fingerprint
from .cipher import CipherSuite, NamedGroup, SignatureScheme
from .connection import Connection, State
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
from .events import ApplicationData, ConnectionTerminated, Event, HandshakeCompleted, Stats
from .srtp import SrtpKeys, SrtpProfile, SrtpSession, srtp_keys

__all__ = [
    "AlertDescription",
    "AlertError",
    "AlertLevel",
    "AlertReceived",
    "ApplicationData",
    "Certificate",
    "CipherSuite",
    "Connection",
    "ConnectionTerminated",
    "DecodeError",
    "DtlsError",
    "Event",
    "FingerprintMismatch",
    "HandshakeCompleted",
    "HandshakeTimeout",
    "NamedGroup",
    "SignatureScheme",
    "SrtpKeys",
    "SrtpProfile",
    "SrtpSession",
    "State",
    "Stats",
    "fingerprint",
    "format_fingerprint",
    "srtp_keys",
]
