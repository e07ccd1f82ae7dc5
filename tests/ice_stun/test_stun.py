"""STUN codec: RFC 5769 vectors, attribute round trips, order rules, retransmission timing."""

from __future__ import annotations

import binascii
import hashlib
import hmac
import random
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ice.stun import (
    Attr,
    Class,
    ClientTransaction,
    Message,
    Method,
    StunError,
    error_response,
    is_stun,
    long_term_key,
    random_transaction_id,
    unknown_attributes_response,
)

V21 = bytes.fromhex(
    "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e7400240004"
    "6e0001ff80290008932ff9b151263b36000600096576746a3a68367659202020000800149aeaa70cbfd8cb56"
    "781ef2b5b2d3f249c1b571a280280004e57a3bcf"
)
V22 = bytes.fromhex(
    "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f72200020000800"
    "01a147e112a643000800142b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96"
)
V23 = bytes.fromhex(
    "010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f72200020001400"
    "02a1470113a9faa5d3f179bc25f4b5bed2b9d900080014a382954e4be67bf11784c97c8292c275bfe3ed41"
    "80280004c8fb0b4c"
)
V24 = bytes.fromhex(
    "000100602112a44278ad3433c6ad72c029da412e00060012e3839ee38388e383aae38383e382afe382b900"
    "000015001c662f2f3439396b39353464364f4c33346f4c394653547679363473410014000b6578616d706c"
    "652e6f72670000080014f67024656dd64a3e02b8e0712e85c9a28ca89666"
)
B1 = bytes.fromhex(
    "0001009c2112a44278ad3433c6ad72c029da412e001e00204a3cf38fef6992bd"
    "a952c6780417da0f24819415569e60b205c46e41407f1704001500296f624d61"
    "744a6f733241414143662f2f3439396b39353464364f4c33346f4c3946535476"
    "79363473410000000014000b6578616d706c652e6f726700001c0020e4686c8f"
    "0edeb59013e07090010a93efccbccc544c0a45d9f830aa6d6f735a01"
)
SHORT_PWD = b"VOkJxbRl1RmTxUk/WvJxBt"
TID = bytes.fromhex("b7e7a701bc34d686fa87dfae")
USER_24 = "\u30de\u30c8\u30ea\u30c3\u30af\u30b9"


def test_rfc5769_request() -> None:
    msg = Message.parse(V21)
    assert msg.method is Method.BINDING and msg.message_class is Class.REQUEST
    assert msg.transaction_id == TID
    assert msg.attributes[Attr.SOFTWARE] == "STUN test client"
    assert msg.attributes[Attr.PRIORITY] == 0x6E0001FF
    assert msg.attributes[Attr.ICE_CONTROLLED] == 0x932FF9B151263B36
    assert msg.attributes[Attr.USERNAME] == "evtj:h6vY"
    assert msg.attributes[Attr.FINGERPRINT] == 0xE57A3BCF
    assert msg.check_integrity(SHORT_PWD)
    assert not msg.check_integrity(b"wrong")
    assert msg.check_fingerprint()
    assert list(msg.attributes) == [
        Attr.SOFTWARE,
        Attr.PRIORITY,
        Attr.ICE_CONTROLLED,
        Attr.USERNAME,
        Attr.MESSAGE_INTEGRITY,
        Attr.FINGERPRINT,
    ]
    # re-encoding with the vector's 0x20 padding reproduces it byte for byte
    assert msg.encode(integrity_key=SHORT_PWD, padding=b" ") == V21
    again = Message.parse(msg.encode(integrity_key=SHORT_PWD))
    computed = {Attr.MESSAGE_INTEGRITY, Attr.FINGERPRINT}
    assert {k: v for k, v in again.attributes.items() if k not in computed} == {
        k: v for k, v in msg.attributes.items() if k not in computed
    }
    assert again.check_integrity(SHORT_PWD) and again.check_fingerprint()


def test_rfc5769_ipv4_response() -> None:
    msg = Message.parse(V22)
    assert msg.message_class is Class.SUCCESS
    assert msg.attributes[Attr.XOR_MAPPED_ADDRESS] == ("192.0.2.1", 32853)
    assert msg.get_address(Attr.XOR_MAPPED_ADDRESS) == ("192.0.2.1", 32853)
    assert msg.attributes[Attr.SOFTWARE] == "test vector"
    assert msg.check_integrity(SHORT_PWD) and msg.check_fingerprint()
    assert msg.encode(integrity_key=SHORT_PWD, padding=b" ") == V22


def test_rfc5769_ipv6_response() -> None:
    msg = Message.parse(V23)
    assert msg.attributes[Attr.XOR_MAPPED_ADDRESS] == (
        "2001:db8:1234:5678:11:2233:4455:6677",
        32853,
    )
    assert msg.check_integrity(SHORT_PWD) and msg.check_fingerprint()
    assert msg.encode(integrity_key=SHORT_PWD, padding=b" ") == V23


def test_rfc5769_long_term() -> None:
    msg = Message.parse(V24)
    key = long_term_key(USER_24, "example.org", "TheMatrIX")
    assert key.hex() == "e8ca7ad59d5eb0518e312911d2dab2a9"
    assert msg.attributes[Attr.USERNAME] == USER_24
    assert msg.attributes[Attr.NONCE] == "f//499k954d6OL34oL9FSTvy64sA"
    assert msg.attributes[Attr.REALM] == "example.org"
    assert msg.check_integrity(key)
    assert not msg.check_fingerprint()  # absent
    assert msg.encode(integrity_key=key, fingerprint=False) == V24


def test_rfc8489_b1_parses_userhash() -> None:
    # The printed length field (0x9c) counts the header: not a valid message as printed.
    with pytest.raises(StunError):
        Message.parse(B1)
    fixed = B1[:2] + struct.pack("!H", len(B1) - 20) + B1[4:]
    msg = Message.parse(fixed)
    userhash = hashlib.sha256(f"{USER_24}:example.org".encode()).digest()
    assert msg.attributes[Attr.USERHASH] == userhash
    assert msg.attributes[Attr.NONCE] == "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA"
    assert Attr.MESSAGE_INTEGRITY_SHA256 in msg.attributes
    # erratum-compatible quirk noted in stun_turn_integrity.txt §5: the printed MAC verifies only
    # over the unfixed length field with a SHA-256 key, not under the normative rules.
    md5_key = long_term_key(USER_24, "example.org", "TheMatrIX")
    assert not msg.check_integrity_sha256(md5_key)
    quirk = Message.parse(fixed)
    quirk.raw = B1
    sha_key = hashlib.sha256(f"{USER_24}:example.org:TheMatrIX".encode()).digest()
    # _mac_input rewrites the length to the normative value, so even the quirk key fails there
    assert not quirk.check_integrity_sha256(sha_key)
    mac = hmac.new(sha_key, B1[: len(B1) - 36], hashlib.sha256).digest()
    assert mac == msg.attributes[Attr.MESSAGE_INTEGRITY_SHA256]


def test_message_integrity_sha256_roundtrip() -> None:
    msg = Message(Method.BINDING, Class.REQUEST, TID, {Attr.USERNAME: "a:b"})
    data = msg.encode(integrity_key=b"k1", integrity_sha256_key=b"k2")
    parsed = Message.parse(data)
    assert parsed.check_integrity(b"k1")
    assert parsed.check_integrity_sha256(b"k2")
    assert not parsed.check_integrity_sha256(b"k1")
    assert parsed.check_fingerprint()
    assert list(parsed.attributes)[-3:] == [
        Attr.MESSAGE_INTEGRITY,
        Attr.MESSAGE_INTEGRITY_SHA256,
        Attr.FINGERPRINT,
    ]


def test_fingerprint_known_answer_and_layout() -> None:
    data = Message(Method.BINDING, Class.INDICATION, TID).encode()
    assert len(data) == 28 and struct.unpack("!H", data[2:4])[0] == 8
    crc = binascii.crc32(data[:20]) ^ 0x5354554E
    assert struct.unpack("!I", data[24:])[0] == crc
    assert binascii.crc32(b"1") ^ 0x5354554E == 0xD088BAF9


def test_message_type_bits() -> None:
    cases = {
        (Method.BINDING, Class.REQUEST): 0x0001,
        (Method.BINDING, Class.INDICATION): 0x0011,
        (Method.BINDING, Class.SUCCESS): 0x0101,
        (Method.BINDING, Class.ERROR): 0x0111,
        (Method.ALLOCATE, Class.SUCCESS): 0x0103,
        (Method.ALLOCATE, Class.ERROR): 0x0113,
        (Method.SEND, Class.INDICATION): 0x0016,
        (Method.DATA, Class.INDICATION): 0x0017,
        (Method.CHANNEL_BIND, Class.REQUEST): 0x0009,
    }
    for (method, cls), wire in cases.items():
        data = Message(method, cls, TID).encode(fingerprint=False)
        assert struct.unpack("!H", data[:2])[0] == wire
        parsed = Message.parse(data)
        assert (parsed.method, parsed.message_class) == (method, cls)


ALL_TYPED: dict[int, object] = {
    Attr.MAPPED_ADDRESS: ("10.0.0.1", 1234),
    Attr.XOR_MAPPED_ADDRESS: ("::1", 5),
    Attr.XOR_PEER_ADDRESS: ("192.168.1.2", 65535),
    Attr.XOR_RELAYED_ADDRESS: ("2001:db8::7", 0),
    Attr.ALTERNATE_SERVER: ("fe80::1", 3478),
    Attr.USERNAME: "user:name",
    Attr.REALM: "example.org",
    Attr.NONCE: "nonce-ü",
    Attr.SOFTWARE: "x",
    Attr.PRIORITY: 0x7E7F00FF,
    Attr.USE_CANDIDATE: True,
    Attr.ICE_CONTROLLED: 2**64 - 1,
    Attr.ICE_CONTROLLING: 1,
    Attr.CHANNEL_NUMBER: 0x4001,
    Attr.LIFETIME: 600,
    Attr.DATA: b"\x00\x01payload",
    Attr.REQUESTED_TRANSPORT: 17,
    Attr.DONT_FRAGMENT: True,
    Attr.EVEN_PORT: True,
    Attr.RESERVATION_TOKEN: b"12345678",
    Attr.REQUESTED_ADDRESS_FAMILY: 2,
    Attr.ERROR_CODE: (438, "Stale Nonce"),
    Attr.UNKNOWN_ATTRIBUTES: (0x7777, 0x0031),
    0xC001: b"opaque",
}


def test_every_attribute_roundtrips() -> None:
    msg = Message(Method.ALLOCATE, Class.ERROR, TID, dict(ALL_TYPED))
    parsed = Message.parse(msg.encode(integrity_key=b"key"))
    assert parsed.check_integrity(b"key") and parsed.check_fingerprint()
    for attr, value in ALL_TYPED.items():
        assert parsed.attributes[attr] == value, hex(attr)
    assert parsed.get_error() == (438, "Stale Nonce")
    assert parsed.get_int(Attr.LIFETIME) == 600 and parsed.get_int(Attr.USE_CANDIDATE) is None
    assert parsed.get_str(Attr.REALM) == "example.org"
    assert parsed.get_bytes(Attr.DATA) == b"\x00\x01payload"


def test_wire_layout_of_turn_attributes() -> None:
    msg = Message(
        Method.CHANNEL_BIND,
        Class.REQUEST,
        TID,
        {
            Attr.CHANNEL_NUMBER: 0x4000,
            Attr.REQUESTED_TRANSPORT: 17,
            Attr.XOR_PEER_ADDRESS: ("192.0.2.1", 32853),
        },
    )
    data = msg.encode(fingerprint=False)
    assert data[20:28] == bytes.fromhex("000c000440000000")
    assert data[28:36] == bytes.fromhex("0019000411000000")
    assert data[36:48] == bytes.fromhex("001200080001a147e112a643")


def test_attributes_after_integrity_are_ignored() -> None:
    base = Message(Method.BINDING, Class.REQUEST, TID, {Attr.USERNAME: "u"}).encode(
        integrity_key=b"k", fingerprint=False
    )
    extra = struct.pack("!HHI", Attr.PRIORITY, 4, 99)
    data = bytearray(base + extra)
    struct.pack_into("!H", data, 2, len(data) - 20)
    msg = Message.parse(bytes(data))
    assert Attr.PRIORITY not in msg.attributes
    assert msg.check_integrity(b"k")


def test_attribute_after_fingerprint_rejected() -> None:
    base = Message(Method.BINDING, Class.REQUEST, TID).encode()
    data = bytearray(base + struct.pack("!HHI", Attr.PRIORITY, 4, 1))
    struct.pack_into("!H", data, 2, len(data) - 20)
    with pytest.raises(StunError):
        Message.parse(bytes(data))


def test_duplicate_attribute_keeps_first() -> None:
    body = struct.pack("!HHI", Attr.PRIORITY, 4, 1) + struct.pack("!HHI", Attr.PRIORITY, 4, 2)
    data = struct.pack("!HHI12s", 1, len(body), 0x2112A442, TID) + body
    assert Message.parse(data).attributes[Attr.PRIORITY] == 1


@pytest.mark.parametrize(
    "data",
    [
        b"",
        V21[:19],
        V21[:-1],
        b"\xc0" + V21[1:],
        V21[:4] + b"\x00\x00\x00\x00" + V21[8:],
        V21[:2] + b"\x00\x59" + V21[4:],
        struct.pack("!HHI12s", 0x0002, 0, 0x2112A442, TID),  # unknown method
        struct.pack("!HHI12sHH", 1, 4, 0x2112A442, TID, Attr.PRIORITY, 8),  # overrun
        struct.pack("!HHI12sHHI", 1, 8, 0x2112A442, TID, Attr.PRIORITY, 2, 0),  # bad length
        struct.pack("!HHI12sHHI", 1, 8, 0x2112A442, TID, Attr.XOR_MAPPED_ADDRESS, 4, 0x00030000),
        struct.pack("!HHI12sHH4s", 1, 8, 0x2112A442, TID, Attr.USERNAME, 2, b"\xff\xfe\x00\x00"),
        struct.pack("!HHI12sHHI", 1, 8, 0x2112A442, TID, Attr.ERROR_CODE, 4, 0x00000163),
        struct.pack("!HHI12sHHI", 1, 8, 0x2112A442, TID, Attr.USE_CANDIDATE, 1, 0),
    ],
)
def test_malformed_raises_stun_error(data: bytes) -> None:
    with pytest.raises(StunError):
        Message.parse(data)


@given(st.binary(max_size=200))
def test_parse_is_total(data: bytes) -> None:
    try:
        Message.parse(data)
    except StunError:
        pass


@given(st.binary(min_size=20, max_size=120))
def test_parse_is_total_with_valid_header(data: bytes) -> None:
    body = data[20:]
    body = body[: len(body) - len(body) % 4]
    head = struct.pack("!HHI", data[0] & 0x01 | (data[1] & 0x11), len(body), 0x2112A442)
    frame = head + data[4:16] + body
    try:
        msg = Message.parse(frame)
    except StunError:
        return
    msg.check_fingerprint()
    msg.check_integrity(b"k")
    msg.check_integrity_sha256(b"k")


@given(
    st.dictionaries(
        st.sampled_from([Attr.USERNAME, Attr.REALM, Attr.NONCE, Attr.SOFTWARE]),
        st.text(max_size=40),
    ),
    st.integers(0, 2**32 - 1),
    st.binary(max_size=64),
)
def test_roundtrip_property(texts: dict[int, str], priority: int, data: bytes) -> None:
    attrs: dict[int, object] = dict(texts)
    attrs[Attr.PRIORITY] = priority
    attrs[Attr.DATA] = data
    msg = Message(
        Method.SEND, Class.INDICATION, random_transaction_id(random.Random(priority)), attrs
    )
    parsed = Message.parse(msg.encode(integrity_key=b"x"))
    assert list(parsed.attributes)[-2:] == [Attr.MESSAGE_INTEGRITY, Attr.FINGERPRINT]
    for attr, value in attrs.items():
        assert parsed.attributes[attr] == value
    assert parsed.check_integrity(b"x") and parsed.check_fingerprint()


def test_tampering_breaks_checks() -> None:
    for i in range(20, len(V21) - 8):
        bad = bytearray(V21)
        bad[i] ^= 0x01
        try:
            msg = Message.parse(bytes(bad))
        except StunError:
            continue
        assert not msg.check_fingerprint()
        if i < len(V21) - 32:
            assert not msg.check_integrity(SHORT_PWD)


def test_is_stun() -> None:
    for vector in (V21, V22, V23, V24):
        assert is_stun(vector)
    assert not is_stun(V21[:19])
    assert not is_stun(b"\x16" + V21[1:])  # DTLS range
    assert not is_stun(V21[:4] + b"\x00\x00\x00\x00" + V21[8:])
    assert not is_stun(V21 + b"\x00\x00\x00\x00")
    assert not is_stun(b"\x40\x00\x00\x10" + bytes(16))  # ChannelData


def test_unknown_attributes_response() -> None:
    req = Message(
        Method.BINDING, Class.REQUEST, TID, {0x7777: b"x", 0xC000: b"y", Attr.PRIORITY: 1}
    )
    parsed = Message.parse(req.encode())
    assert parsed.unknown_comprehension_required() == (0x7777,)
    resp = unknown_attributes_response(parsed)
    assert resp is not None
    assert resp.message_class is Class.ERROR and resp.transaction_id == TID
    wire = Message.parse(resp.encode())
    assert wire.get_error() == (420, "Unknown Attribute")
    assert wire.attributes[Attr.UNKNOWN_ATTRIBUTES] == (0x7777,)
    ok = Message(Method.BINDING, Class.REQUEST, TID, {0xC000: b"y"})
    assert unknown_attributes_response(ok) is None
    err = error_response(parsed, 400, "Bad Request")
    assert err.get_error() == (400, "Bad Request") and err.method is Method.BINDING


def test_encode_rejects_bad_values() -> None:
    bad: list[dict[int, object]] = [
        {Attr.XOR_MAPPED_ADDRESS: ("example.org", 1)},
        {Attr.XOR_MAPPED_ADDRESS: ("1.2.3.4", 70000)},
        {Attr.ERROR_CODE: (200, "ok")},
        {0x7000: 1.5},
        {0xC000: True},
    ]
    for attrs in bad:
        with pytest.raises(StunError):
            Message(Method.BINDING, Class.REQUEST, TID, dict(attrs)).encode()
    with pytest.raises(StunError):
        Message(Method.BINDING, Class.REQUEST, b"short")


def test_random_transaction_id_deterministic() -> None:
    a = random_transaction_id(random.Random(1))
    assert a == random_transaction_id(random.Random(1)) and len(a) == 12
    assert len(random_transaction_id()) == 12


def _drive(tx: ClientTransaction, until: float, step: float = 0.001) -> list[float]:
    """Advance virtual time by following next_timeout(); return the send times."""
    sends = [0.0] * len(tx.datagrams_to_send())
    while True:
        deadline = tx.next_timeout()
        if deadline is None or deadline > until:
            return sends
        tx.handle_timeout(deadline)
        sends += [deadline] * len(tx.datagrams_to_send())


def test_retransmission_schedule_rfc8489() -> None:
    tx = ClientTransaction(b"req", TID, ("127.0.0.1", 3478), 0.0)
    sends = _drive(tx, 100.0)
    assert sends == pytest.approx([0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5])
    assert tx.done and tx.timed_out and tx.response is None
    assert tx.next_timeout() is None


def test_retransmission_timeout_time_and_early_calls() -> None:
    tx = ClientTransaction(b"req", TID, ("127.0.0.1", 3478), 10.0, rto=0.1, rc=3, rm=4)
    assert tx.datagrams_to_send() == [b"req"]
    tx.handle_timeout(10.05)  # not yet due
    assert tx.datagrams_to_send() == []
    assert tx.next_timeout() == pytest.approx(10.1)
    tx.handle_timeout(10.1)
    assert tx.datagrams_to_send() == [b"req"]
    assert tx.next_timeout() == pytest.approx(10.3)
    tx.handle_timeout(10.3)
    assert tx.datagrams_to_send() == [b"req"]
    assert tx.next_timeout() == pytest.approx(10.7)  # last send + rm * rto
    tx.handle_timeout(10.69)
    assert not tx.done
    tx.handle_timeout(10.7)
    assert tx.done and tx.timed_out


def test_transaction_response_matching() -> None:
    tx = ClientTransaction(b"req", TID, ("127.0.0.1", 3478), 0.0)
    other = Message(Method.BINDING, Class.SUCCESS, bytes(12))
    assert not tx.handle_response(other)
    assert not tx.handle_response(Message(Method.BINDING, Class.REQUEST, TID))
    resp = Message(Method.BINDING, Class.SUCCESS, TID)
    assert tx.handle_response(resp)
    assert tx.done and not tx.timed_out and tx.response is resp
    assert tx.next_timeout() is None
    tx.handle_timeout(100.0)
    assert not tx.timed_out
    assert not tx.handle_response(resp)


@given(st.sampled_from([0.05, 0.1, 0.25, 0.5, 1.0]), st.integers(1, 9), st.integers(1, 32))
def test_retransmission_schedule_property(rto: float, rc: int, rm: int) -> None:
    tx = ClientTransaction(b"r", TID, ("::1", 1), 0.0, rto=rto, rc=rc, rm=rm)
    sends = [0.0] * len(tx.datagrams_to_send())
    end = 0.0
    while (deadline := tx.next_timeout()) is not None:
        tx.handle_timeout(deadline)
        end = deadline
        sends += [deadline] * len(tx.datagrams_to_send())
    # RFC 8489 §6.2.1: Rc sends, the i-th at RTO * (2^i - 1); failure Rm * RTO after the last
    assert sends == pytest.approx([rto * (2**i - 1) for i in range(rc)])
    assert end == pytest.approx(rto * (2 ** (rc - 1) - 1) + rm * rto)
    assert tx.timed_out
