"""TLS 1.2 PRF, cipher suites, key schedule, signatures and key exchange groups.

RFC 5246 §5 (PRF), §6.3 (key block), §8.1 (master secret); RFC 7627 (EMS); RFC 5288 (GCM);
RFC 7905 (ChaCha20-Poly1305); RFC 8422 (ECDHE); RFC 5705 (exporter).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import IntEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from .errors import AlertDescription, AlertError


class CipherSuite(IntEnum):
    """Supported cipher suites (IANA values)."""

    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xC02B
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xC02C
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xC02F
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xC030
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA8
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA9


class NamedGroup(IntEnum):
    """RFC 8422 §5.1.1 / RFC 7748."""

    secp256r1 = 23
    secp384r1 = 24
    x25519 = 29


class SignatureScheme(IntEnum):
    """RFC 5246 §7.4.1.4.1 hash||signature pairs as RFC 8446 code points."""

    rsa_pkcs1_sha256 = 0x0401
    ecdsa_secp256r1_sha256 = 0x0403
    rsa_pkcs1_sha384 = 0x0501
    ecdsa_secp384r1_sha384 = 0x0503
    rsa_pss_rsae_sha256 = 0x0804


@dataclass(frozen=True)
class SuiteInfo:
    suite: int
    key_len: int
    iv_len: int  # fixed (implicit) IV length
    hash_name: str  # PRF hash
    chacha: bool
    rsa: bool  # authentication by RSA certificate (else ECDSA)


SUITES: dict[int, SuiteInfo] = {
    0xC02B: SuiteInfo(0xC02B, 16, 4, "sha256", False, False),
    0xC02C: SuiteInfo(0xC02C, 32, 4, "sha384", False, False),
    0xC02F: SuiteInfo(0xC02F, 16, 4, "sha256", False, True),
    0xC030: SuiteInfo(0xC030, 32, 4, "sha384", False, True),
    0xCCA8: SuiteInfo(0xCCA8, 32, 12, "sha256", True, True),
    0xCCA9: SuiteInfo(0xCCA9, 32, 12, "sha256", True, False),
}

DEFAULT_SUITES: tuple[int, ...] = (0xC02B, 0xC02C, 0xCCA9, 0xC02F, 0xC030, 0xCCA8)
DEFAULT_GROUPS: tuple[int, ...] = (NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1)
DEFAULT_SIGNATURE_SCHEMES: tuple[int, ...] = (
    SignatureScheme.ecdsa_secp256r1_sha256,
    SignatureScheme.ecdsa_secp384r1_sha384,
    SignatureScheme.rsa_pss_rsae_sha256,
    SignatureScheme.rsa_pkcs1_sha256,
    SignatureScheme.rsa_pkcs1_sha384,
)


# --- PRF (RFC 5246 §5) -------------------------------------------------------------------------


def p_hash(hash_name: str, secret: bytes, seed: bytes, length: int) -> bytes:
    """P_<hash>(secret, seed) truncated to `length` bytes."""
    out = bytearray()
    a = seed
    while len(out) < length:
        a = hmac.digest(secret, a, hash_name)
        out += hmac.digest(secret, a + seed, hash_name)
    return bytes(out[:length])


def prf(hash_name: str, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """PRF(secret, label, seed) = P_hash(secret, label || seed)."""
    return p_hash(hash_name, secret, label + seed, length)


def transcript_hash(hash_name: str, data: bytes) -> bytes:
    return hashlib.new(hash_name, data).digest()


def master_secret(
    hash_name: str,
    pre_master: bytes,
    client_random: bytes,
    server_random: bytes,
    session_hash: bytes | None,
) -> bytes:
    """RFC 5246 §8.1, or RFC 7627 §4 when `session_hash` is given (extended master secret)."""
    if session_hash is not None:
        return prf(hash_name, pre_master, b"extended master secret", session_hash, 48)
    return prf(hash_name, pre_master, b"master secret", client_random + server_random, 48)


@dataclass(frozen=True)
class KeyBlock:
    client_key: bytes
    server_key: bytes
    client_iv: bytes
    server_iv: bytes


def key_block(info: SuiteInfo, ms: bytes, client_random: bytes, server_random: bytes) -> KeyBlock:
    """RFC 5246 §6.3: note the seed order server_random || client_random. AEAD: no MAC keys."""
    k, i = info.key_len, info.iv_len
    block = prf(info.hash_name, ms, b"key expansion", server_random + client_random, 2 * (k + i))
    return KeyBlock(block[:k], block[k : 2 * k], block[2 * k : 2 * k + i], block[2 * k + i :])


def verify_data(hash_name: str, ms: bytes, label: bytes, handshake_messages: bytes) -> bytes:
    """RFC 5246 §7.4.9: 12 bytes."""
    return prf(hash_name, ms, label, transcript_hash(hash_name, handshake_messages), 12)


def export_keying_material(
    hash_name: str,
    ms: bytes,
    client_random: bytes,
    server_random: bytes,
    label: bytes,
    length: int,
    context: bytes | None,
) -> bytes:
    """RFC 5705 §4 (no context and an empty context differ)."""
    seed = client_random + server_random
    if context is not None:
        if len(context) > 0xFFFF:
            raise ValueError("context too long")
        seed += len(context).to_bytes(2, "big") + context
    return prf(hash_name, ms, label, seed, length)


def make_aead(info: SuiteInfo, key: bytes) -> AESGCM | ChaCha20Poly1305:
    return ChaCha20Poly1305(key) if info.chacha else AESGCM(key)


# --- ECDHE (RFC 8422) -------------------------------------------------------------------------

_CURVES: dict[int, type[ec.EllipticCurve]] = {
    NamedGroup.secp256r1: ec.SECP256R1,
    NamedGroup.secp384r1: ec.SECP384R1,
}


class KeyShare:
    """An ephemeral ECDH key pair on a named group."""

    def __init__(self, group: int) -> None:
        self.group = group
        if group == NamedGroup.x25519:
            self._x = x25519.X25519PrivateKey.generate()
            self.public = self._x.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        elif group in _CURVES:
            self._ec = ec.generate_private_key(_CURVES[group]())
            self.public = self._ec.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        else:
            raise AlertError(AlertDescription.handshake_failure, f"unsupported group {group}")

    def exchange(self, peer_public: bytes) -> bytes:
        """Pre-master secret; a bad peer point is illegal_parameter."""
        try:
            if self.group == NamedGroup.x25519:
                if len(peer_public) != 32:
                    raise ValueError("bad x25519 key length")
                shared = self._x.exchange(x25519.X25519PublicKey.from_public_bytes(peer_public))
                if shared == bytes(32):
                    raise ValueError("all-zero x25519 shared secret")  # RFC 7748 §6.1
                return shared
            pub = ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[self.group](), peer_public)
            return self._ec.exchange(ec.ECDH(), pub)
        except ValueError as exc:
            raise AlertError(AlertDescription.illegal_parameter, f"bad ECDH key: {exc}") from exc


# --- Signatures (RFC 5246 §7.4.1.4.1, RFC 8446 §4.2.3 code points) ------------------------------

_SCHEME_HASH: dict[int, type[hashes.HashAlgorithm]] = {
    SignatureScheme.rsa_pkcs1_sha256: hashes.SHA256,
    SignatureScheme.ecdsa_secp256r1_sha256: hashes.SHA256,
    SignatureScheme.rsa_pkcs1_sha384: hashes.SHA384,
    SignatureScheme.ecdsa_secp384r1_sha384: hashes.SHA384,
    SignatureScheme.rsa_pss_rsae_sha256: hashes.SHA256,
}


def scheme_fits_key(scheme: int, key: object) -> bool:
    """Whether `scheme` can be used with this private or public key."""
    if scheme not in _SCHEME_HASH:
        return False
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        # In TLS 1.2 the curve is not bound to the hash; accept both ECDSA hashes for any curve.
        return scheme in (
            SignatureScheme.ecdsa_secp256r1_sha256,
            SignatureScheme.ecdsa_secp384r1_sha384,
        )
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return scheme in (
            SignatureScheme.rsa_pkcs1_sha256,
            SignatureScheme.rsa_pkcs1_sha384,
            SignatureScheme.rsa_pss_rsae_sha256,
        )
    return False


def preferred_scheme(key: object) -> tuple[int, ...]:
    """Our own preference order for a key."""
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP384R1):
        return (SignatureScheme.ecdsa_secp384r1_sha384, SignatureScheme.ecdsa_secp256r1_sha256)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return (SignatureScheme.ecdsa_secp256r1_sha256, SignatureScheme.ecdsa_secp384r1_sha384)
    return (
        SignatureScheme.rsa_pss_rsae_sha256,
        SignatureScheme.rsa_pkcs1_sha256,
        SignatureScheme.rsa_pkcs1_sha384,
    )


def sign(key: object, scheme: int, data: bytes) -> bytes:
    h = _SCHEME_HASH[scheme]()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(h))
    if isinstance(key, rsa.RSAPrivateKey):
        if scheme == SignatureScheme.rsa_pss_rsae_sha256:
            pad: padding.AsymmetricPadding = padding.PSS(
                mgf=padding.MGF1(h), salt_length=h.digest_size
            )
        else:
            pad = padding.PKCS1v15()
        return key.sign(data, pad, h)
    raise AlertError(AlertDescription.internal_error, "unsupported private key")


def verify(public_key: object, scheme: int, signature: bytes, data: bytes) -> None:
    """Raise AlertError(decrypt_error) when the signature is invalid."""
    if not scheme_fits_key(scheme, public_key):
        raise AlertError(AlertDescription.illegal_parameter, f"signature scheme {scheme:#06x}")
    h = _SCHEME_HASH[scheme]()
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(h))
        elif isinstance(public_key, rsa.RSAPublicKey):
            if scheme == SignatureScheme.rsa_pss_rsae_sha256:
                pad: padding.AsymmetricPadding = padding.PSS(
                    mgf=padding.MGF1(h), salt_length=padding.PSS.AUTO
                )
            else:
                pad = padding.PKCS1v15()
            public_key.verify(signature, data, pad, h)
        else:
            raise AlertError(AlertDescription.unsupported_certificate, "unsupported key type")
    except (InvalidSignature, ValueError) as exc:
        raise AlertError(AlertDescription.decrypt_error, "bad signature") from exc
