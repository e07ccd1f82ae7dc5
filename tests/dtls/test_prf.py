"""TLS 1.2 PRF and key-schedule vectors from shared/vectors/tls12_prf_dtls_srtp.txt."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519

from dtls import cipher
from dtls.srtp import split_keying_material


def h(s: str) -> bytes:
    return bytes.fromhex("".join(s.split()))


def test_prf_sha256_kat() -> None:
    out = cipher.prf(
        "sha256",
        h("9bbe436ba940f017b17652849a71db35"),
        b"test label",
        h("a0ba9f936cda311827a6f796ffd5198c"),
        100,
    )
    assert out == h(
        "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
        "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
        "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
        "87347b66"
    )


def test_prf_sha384_kat() -> None:
    out = cipher.prf(
        "sha384",
        h("b80b733d6ceefcdc71566ea48e5567df"),
        b"test label",
        h("cd665cf6a8447dd6ff8b27555edb7465"),
        148,
    )
    assert out == h(
        "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
        "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
        "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
        "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
        "91c8f3a26854308d5eaa3be85e0990703d73e56f"
    )


CLIENT_RANDOM = h("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
SERVER_RANDOM = h("707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f")
MASTER = h(
    "916abf9da55973e13614ae0a3f5d3f37b023ba129aee02cc9134338127cd7049"
    "781c8e19fc1eb2a7387ac06ae237344c"
)


def test_x25519_master_secret_and_key_block() -> None:
    private = x25519.X25519PrivateKey.from_private_bytes(
        h("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f")
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert public == h("358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254")
    pms = private.exchange(
        x25519.X25519PublicKey.from_public_bytes(
            h("9fd7ad6dcff4298dd3f96d5b1b2af910a0535b1488d7f8fabb349a982880b615")
        )
    )
    assert pms == h("df4a291baa1eb7cfa6934b29b474baad2697e29f1f920dcc77c8a0a088447624")
    ms = cipher.master_secret("sha256", pms, CLIENT_RANDOM, SERVER_RANDOM, None)
    assert ms == MASTER
    kb = cipher.key_block(cipher.SUITES[0xC02B], ms, CLIENT_RANDOM, SERVER_RANDOM)
    assert kb.client_key == h("1b7d117c7d5f690bc263cae8ef60af0f")
    assert kb.server_key == h("1878acc22ad8bdd8c601a617126f6354")
    assert kb.client_iv == h("0eb20906")
    assert kb.server_iv == h("f781fad2")


def test_extended_master_secret_uses_session_hash() -> None:
    pms = bytes(32)
    session_hash = bytes(range(32))
    ems = cipher.master_secret("sha256", pms, CLIENT_RANDOM, SERVER_RANDOM, session_hash)
    assert ems == cipher.prf("sha256", pms, b"extended master secret", session_hash, 48)
    assert ems != cipher.master_secret("sha256", pms, CLIENT_RANDOM, SERVER_RANDOM, None)


def test_exporter_and_srtp_split() -> None:
    material = cipher.export_keying_material(
        "sha256", MASTER, CLIENT_RANDOM, SERVER_RANDOM, b"EXTRACTOR-dtls_srtp", 60, None
    )
    assert material == h(
        "05ac5a731ad359d5186dee7f9b46fbd534f0af013b341b9f5c2dcad39186656e"
        "288e38b7551f9f181f7c7bcafcab035688fddcb8fbd3fb32a099c06b"
    )
    keys = split_keying_material(0x0001, material)
    assert keys.client_key == h("05ac5a731ad359d5186dee7f9b46fbd5")
    assert keys.server_key == h("34f0af013b341b9f5c2dcad39186656e")
    assert keys.client_salt == h("288e38b7551f9f181f7c7bcafcab")
    assert keys.server_salt == h("035688fddcb8fbd3fb32a099c06b")


def test_exporter_context_differs_from_none() -> None:
    args = ("sha256", MASTER, CLIENT_RANDOM, SERVER_RANDOM, b"EXPORTER-test", 32)
    none = cipher.export_keying_material(*args, None)
    empty = cipher.export_keying_material(*args, b"")
    assert none != empty
    assert empty == cipher.prf(
        "sha256", MASTER, b"EXPORTER-test", CLIENT_RANDOM + SERVER_RANDOM + b"\x00\x00", 32
    )


def test_finished_verify_data_length() -> None:
    assert len(cipher.verify_data("sha384", MASTER, b"client finished", b"x")) == 12
