"""DTLS-SRTP keying (RFC 5764 §4.2) and the pylibsrtp session helper."""

from __future__ import annotations

import struct

import pytest

from dtls import DtlsError, SrtpSession, srtp_keys
from dtls.srtp import keying_material_length, split_keying_material

from .helpers import handshake, make_pair


def rtp(seq: int, ssrc: int = 0x12345678, payload: bytes = b"\xaa" * 160) -> bytes:
    return struct.pack("!BBHII", 0x80, 96, seq, seq * 160, ssrc) + payload


def rtcp_sr(ssrc: int = 0x12345678) -> bytes:
    return struct.pack("!BBHIIIIII", 0x80, 200, 6, ssrc, 1, 2, 3, 4, 5)


@pytest.mark.parametrize("profile", [0x0001, 0x0007])
def test_srtp_sessions_protect_and_unprotect(profile: int) -> None:
    client, server = make_pair(srtp_profiles=(profile,))
    handshake(client, server)
    ck, sk = srtp_keys(client), srtp_keys(server)
    assert ck == sk and ck.profile == profile
    assert len(ck.client_key) == 16 and len(ck.client_salt) == (14 if profile == 1 else 12)
    a = SrtpSession.from_connection(client)
    b = SrtpSession.from_connection(server)
    for seq in range(3):
        packet = rtp(seq)
        protected = a.protect(packet)
        assert protected != packet and len(protected) > len(packet)
        assert b.unprotect(protected) == packet
        back = b.protect(rtp(seq, ssrc=0x9ABC))
        assert a.unprotect(back) == rtp(seq, ssrc=0x9ABC)
    sr = rtcp_sr()
    assert b.unprotect_rtcp(a.protect_rtcp(sr)) == sr
    # a tampered packet is rejected with the package's error type
    bad = bytearray(a.protect(rtp(10)))
    bad[-1] ^= 1
    with pytest.raises(DtlsError):
        b.unprotect(bytes(bad))
    # each side protects with its own key: a packet cannot be reflected back to its sender
    with pytest.raises(DtlsError):
        a.unprotect(a.protect(rtp(11)))


def test_srtp_keys_require_negotiated_profile() -> None:
    client, server = make_pair()
    handshake(client, server)
    with pytest.raises(DtlsError):
        srtp_keys(client)


def test_split_validation() -> None:
    assert keying_material_length(0x0001) == 60
    assert keying_material_length(0x0007) == 56
    with pytest.raises(DtlsError):
        keying_material_length(0x0005)
    with pytest.raises(DtlsError):
        split_keying_material(0x0001, bytes(59))
