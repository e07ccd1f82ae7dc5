"""DTLS-SRTP keying (RFC 5764 §4.2) and a small SRTP/SRTCP session helper on pylibsrtp."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import pylibsrtp

from .errors import DtlsError


class SrtpProfile(IntEnum):
    """RFC 5764 §4.1.2 / RFC 7714 §14.2 protection profiles."""

    SRTP_AES128_CM_HMAC_SHA1_80 = 0x0001
    SRTP_AES128_CM_HMAC_SHA1_32 = 0x0002
    SRTP_AEAD_AES_128_GCM = 0x0007
    SRTP_AEAD_AES_256_GCM = 0x0008


# profile -> (master key length, master salt length, pylibsrtp profile constant)
_PROFILES: dict[int, tuple[int, int, int]] = {
    0x0001: (16, 14, pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80),
    0x0002: (16, 14, pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32),
    0x0007: (16, 12, pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM),
    0x0008: (32, 12, pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_256_GCM),
}

EXPORTER_LABEL = "EXTRACTOR-dtls_srtp"  # RFC 5764 §4.2


@dataclass(frozen=True)
class SrtpKeys:
    """Master keys and salts per direction (RFC 5764 §4.2)."""

    profile: int
    client_key: bytes
    client_salt: bytes
    server_key: bytes
    server_salt: bytes


def keying_material_length(profile: int) -> int:
    if profile not in _PROFILES:
        raise DtlsError(f"unsupported SRTP profile {profile:#06x}")
    key_len, salt_len, _ = _PROFILES[profile]
    return 2 * (key_len + salt_len)


def split_keying_material(profile: int, material: bytes) -> SrtpKeys:
    """client key | server key | client salt | server salt (RFC 5764 §4.2)."""
    if profile not in _PROFILES:
        raise DtlsError(f"unsupported SRTP profile {profile:#06x}")
    k, s, _ = _PROFILES[profile]
    if len(material) != 2 * (k + s):
        raise DtlsError("keying material has the wrong length")
    return SrtpKeys(
        profile,
        material[:k],
        material[2 * k : 2 * k + s],
        material[k : 2 * k],
        material[2 * k + s :],
    )


def srtp_keys(connection: Any) -> SrtpKeys:
    """Export and split the DTLS-SRTP keys of an established `dtls.Connection`."""
    profile = connection.srtp_profile
    if profile is None:
        raise DtlsError("no SRTP profile was negotiated")
    material = connection.export_keying_material(EXPORTER_LABEL, keying_material_length(profile))
    return split_keying_material(profile, material)


class SrtpSession:
    """Protect outgoing and unprotect incoming SRTP/SRTCP for one DTLS endpoint.

    The DTLS client protects with the client key+salt and unprotects with the server's
    (RFC 5764 §4.2); the server does the opposite.
    """

    def __init__(self, keys: SrtpKeys, *, is_client: bool) -> None:
        _, _, lib_profile = _PROFILES[keys.profile]
        if is_client:
            tx = keys.client_key + keys.client_salt
            rx = keys.server_key + keys.server_salt
        else:
            tx = keys.server_key + keys.server_salt
            rx = keys.client_key + keys.client_salt
        self._tx = pylibsrtp.Session(
            pylibsrtp.Policy(
                key=tx, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND, srtp_profile=lib_profile
            )
        )
        self._rx = pylibsrtp.Session(
            pylibsrtp.Policy(
                key=rx, ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND, srtp_profile=lib_profile
            )
        )

    @classmethod
    def from_connection(cls, connection: Any) -> SrtpSession:
        return cls(srtp_keys(connection), is_client=connection.is_client)

    def protect(self, rtp: bytes) -> bytes:
        return bytes(self._tx.protect(rtp))

    def protect_rtcp(self, rtcp: bytes) -> bytes:
        return bytes(self._tx.protect_rtcp(rtcp))

    def unprotect(self, srtp: bytes) -> bytes:
        """Raises DtlsError when authentication or replay checks fail."""
        try:
            return bytes(self._rx.unprotect(srtp))
        except pylibsrtp.Error as exc:
            raise DtlsError(f"SRTP unprotect failed: {exc}") from exc

    def unprotect_rtcp(self, srtcp: bytes) -> bytes:
        try:
            return bytes(self._rx.unprotect_rtcp(srtcp))
        except pylibsrtp.Error as exc:
            raise DtlsError(f"SRTCP unprotect failed: {exc}") from exc
