"""DTLS error types and alert codes (RFC 5246 §7.2)."""

from __future__ import annotations

from enum import IntEnum


class AlertLevel(IntEnum):
    """RFC 5246 §7.2."""

    WARNING = 1
    FATAL = 2


class AlertDescription(IntEnum):
    """RFC 5246 §7.2 (+ RFC 8446 names used by DTLS 1.2 peers)."""

    close_notify = 0
    unexpected_message = 10
    bad_record_mac = 20
    record_overflow = 22
    handshake_failure = 40
    bad_certificate = 42
    unsupported_certificate = 43
    certificate_revoked = 44
    certificate_expired = 45
    certificate_unknown = 46
    illegal_parameter = 47
    unknown_ca = 48
    access_denied = 49
    decode_error = 50
    decrypt_error = 51
    protocol_version = 70
    insufficient_security = 71
    internal_error = 80
    user_canceled = 90
    no_renegotiation = 100
    unsupported_extension = 110


class DtlsError(Exception):
    """Base error of the dtls package."""


class HandshakeTimeout(DtlsError):
    """The handshake did not complete within `handshake_timeout` seconds (no alert is sent)."""


class AlertError(DtlsError):
    """A fatal condition with the TLS alert code (`description`) to send or that was received."""

    def __init__(self, description: int, message: str = "") -> None:
        self.description = int(description)
        try:
            name = AlertDescription(self.description).name
        except ValueError:
            name = f"alert {self.description}"
        super().__init__(f"{name}: {message}" if message else name)


class AlertReceived(AlertError):
    """The peer sent a fatal alert."""


class DecodeError(AlertError):
    """Malformed handshake or record data (decode_error)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(AlertDescription.decode_error, message)


class FingerprintMismatch(AlertError):
    """The peer certificate does not match any expected fingerprint (bad_certificate)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(AlertDescription.bad_certificate, message)
