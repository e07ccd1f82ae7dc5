"""Certificates for DTLS-SRTP / WebRTC: self-signed generation and RFC 8122 fingerprints."""

from __future__ import annotations

import datetime
import hashlib
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from .errors import DtlsError

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

# RFC 8122 §5 hash function names as written in SDP -> hashlib names.
_HASHES = {
    "sha-1": "sha1",
    "sha-224": "sha224",
    "sha-256": "sha256",
    "sha-384": "sha384",
    "sha-512": "sha512",
}


def fingerprint(der: bytes, algorithm: str = "sha-256") -> bytes:
    """Raw digest of a DER certificate with an RFC 8122 hash name (e.g. "sha-256")."""
    name = _HASHES.get(algorithm.lower())
    if name is None:
        raise DtlsError(f"unsupported fingerprint algorithm {algorithm!r}")
    return hashlib.new(name, der).digest()


def format_fingerprint(digest: bytes) -> str:
    """Upper-case hex with colons, as SDP writes it (RFC 8122 §5)."""
    return ":".join(f"{b:02X}" for b in digest)


class Certificate:
    """A certificate (DER) and its private key."""

    def __init__(self, certificate: x509.Certificate, private_key: PrivateKey) -> None:
        self.x509 = certificate
        self.private_key = private_key
        self.der = certificate.public_bytes(serialization.Encoding.DER)

    @classmethod
    def generate(
        cls,
        key_type: str = "ecdsa-p256",
        *,
        common_name: str | None = None,
        not_before: datetime.datetime | None = None,
        days: int = 30,
    ) -> Certificate:
        """Self-signed certificate; key_type "ecdsa-p256" (default), "ecdsa-p384" or "rsa-2048"."""
        key: PrivateKey
        if key_type == "ecdsa-p256":
            key = ec.generate_private_key(ec.SECP256R1())
        elif key_type == "ecdsa-p384":
            key = ec.generate_private_key(ec.SECP384R1())
        elif key_type == "rsa-2048":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            raise DtlsError(f"unsupported key type {key_type!r}")
        name = x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, common_name or os.urandom(8).hex())]
        )
        start = not_before or (datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1))
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(int.from_bytes(os.urandom(8), "big") >> 1 or 1)
            .not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=days))
            .sign(key, hashes.SHA256())
        )
        return cls(cert, key)

    @classmethod
    def from_pem(cls, certificate_pem: bytes, key_pem: bytes) -> Certificate:
        """Load a PEM certificate and its unencrypted PEM private key (EC or RSA)."""
        cert = x509.load_pem_x509_certificate(certificate_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise DtlsError("only EC and RSA keys are supported")
        return cls(cert, key)

    def fingerprint(self, algorithm: str = "sha-256") -> str:
        """RFC 8122 fingerprint as SDP writes it: "AB:CD:..."."""
        return format_fingerprint(fingerprint(self.der, algorithm))

    def private_key_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def certificate_pem(self) -> bytes:
        return self.x509.public_bytes(serialization.Encoding.PEM)
