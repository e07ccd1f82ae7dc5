"""Certificates and RFC 8122 fingerprints."""

from __future__ import annotations

import hashlib
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from dtls import Certificate, DtlsError, fingerprint

from .helpers import cert


def test_generate_is_self_signed_p256() -> None:
    c = Certificate.generate()
    parsed = x509.load_der_x509_certificate(c.der)
    assert parsed.issuer == parsed.subject
    key = parsed.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    parsed.verify_directly_issued_by(parsed)


@pytest.mark.parametrize(
    ("algorithm", "name", "size"),
    [
        ("sha-1", "sha1", 20),
        ("sha-256", "sha256", 32),
        ("sha-384", "sha384", 48),
        ("sha-512", "sha512", 64),
    ],
)
def test_fingerprint_format(algorithm: str, name: str, size: int) -> None:
    c = cert()
    text = c.fingerprint(algorithm)
    assert re.fullmatch(r"([0-9A-F]{2}:){" + str(size - 1) + r"}[0-9A-F]{2}", text)
    assert bytes.fromhex(text.replace(":", "")) == hashlib.new(name, c.der).digest()
    assert fingerprint(c.der, algorithm) == hashlib.new(name, c.der).digest()


def test_default_fingerprint_is_sha256() -> None:
    c = cert()
    assert c.fingerprint() == c.fingerprint("sha-256")


def test_unknown_algorithm_rejected() -> None:
    with pytest.raises(DtlsError):
        fingerprint(b"x", "md5")
    with pytest.raises(DtlsError):
        Certificate.generate("dsa")


def test_pem_round_trip() -> None:
    c = cert("rsa-2048", 0)
    again = Certificate.from_pem(c.certificate_pem(), c.private_key_pem())
    assert again.der == c.der
