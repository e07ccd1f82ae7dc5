"""DCEP codec (RFC 8832 §5) against the shared vectors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sctp
from sctp import dcep

VECTORS = [
    ("03000100000000000004000063686174", dcep.ChannelType.RELIABLE, 256, 0, "chat", ""),
    (
        "0382010000000bb8000a000067616d652d7374617465",
        dcep.ChannelType.PARTIAL_RELIABLE_TIMED_UNORDERED,
        256,
        3000,
        "game-state",
        "",
    ),
    (
        "03810200000000050009000474656c656d657472796a736f6e",
        dcep.ChannelType.PARTIAL_RELIABLE_REXMIT_UNORDERED,
        512,
        5,
        "telemetry",
        "json",
    ),
]


@pytest.mark.parametrize(("hexstr", "ctype", "prio", "rel", "label", "proto"), VECTORS)
def test_open_vectors(
    hexstr: str, ctype: dcep.ChannelType, prio: int, rel: int, label: str, proto: str
) -> None:
    msg = sctp.decode_dcep(bytes.fromhex(hexstr))
    assert isinstance(msg, dcep.DataChannelOpen)
    assert (msg.channel_type, msg.priority, msg.reliability) == (ctype, prio, rel)
    assert (msg.label, msg.protocol) == (label, proto)
    assert msg.encode().hex() == hexstr


def test_channel_type_mapping() -> None:
    cases = [
        (True, None, None, 0x00),
        (False, None, None, 0x80),
        (True, 3, None, 0x01),
        (False, 0, None, 0x81),
        (True, None, 100, 0x02),
        (False, None, 100, 0x82),
    ]
    for ordered, rtx, life, ctype in cases:
        m = dcep.DataChannelOpen.for_channel(
            "l", "p", ordered=ordered, max_retransmits=rtx, max_packet_lifetime=life, priority=128
        )
        assert m.channel_type == ctype
        back = sctp.decode_dcep(m.encode())
        assert isinstance(back, dcep.DataChannelOpen)
        assert (back.ordered, back.max_retransmits, back.max_packet_lifetime) == (
            ordered,
            rtx,
            life,
        )


def test_ack() -> None:
    assert isinstance(sctp.decode_dcep(b"\x02"), dcep.DataChannelAck)
    assert dcep.DataChannelAck().encode() == b"\x02"


def test_utf8_label() -> None:
    m = dcep.DataChannelOpen(dcep.ChannelType.RELIABLE, 256, 0, "ünïcødé 🎮", "chät")
    assert sctp.decode_dcep(m.encode()) == m


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x03\x00\x01\x00",  # shorter than 12 bytes
        b"\x02\x00",  # ACK with trailing bytes
        b"\x01",  # reserved type
        b"\x04",  # unassigned type
        bytes.fromhex("03050100000000000004000063686174"),  # unknown channel type
        bytes.fromhex("030001000000000000ff000063686174"),  # label overruns
        bytes.fromhex("030001000000000000020000ffff"),  # invalid UTF-8
    ],
)
def test_rejects(data: bytes) -> None:
    with pytest.raises(sctp.ParseError):
        sctp.decode_dcep(data)


@given(st.binary(max_size=64))
def test_total(data: bytes) -> None:
    try:
        sctp.decode_dcep(data)
    except sctp.SctpError:
        pass
