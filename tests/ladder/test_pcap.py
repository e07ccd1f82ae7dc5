"""The pcap/pcapng reader and writer: formats, link types, totality."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webrtc.ladder.capture import DtlsDecryptor, observe, parse_keylog
from webrtc.ladder.pcap import (
    CaptureError,
    Datagram,
    PcapngWriter,
    PcapWriter,
    Stats,
    ip_udp_frame,
    read_datagrams,
)
from webrtc.testing import Network, Recorder, pcap_bytes

A4, B4 = ("192.0.2.1", 5000), ("192.0.2.2", 6000)
A6, B6 = ("2001:db8::1", 5000), ("2001:db8::2", 6000)


def _read(data: bytes) -> tuple[list[Datagram], Stats]:
    stats = Stats()
    return list(read_datagrams(io.BytesIO(data), stats)), stats


@pytest.mark.parametrize("writer", [PcapWriter, PcapngWriter])
def test_write_then_read_v4_and_v6(writer: type) -> None:
    buf = io.BytesIO()
    w = writer(buf)
    w.write(1.25, A4, B4, b"\x00\x01hello")
    w.write(2.5, B6, A6, b"odd")  # odd length: padding in pcapng, checksum over a pad byte
    got, stats = _read(buf.getvalue())
    assert [(d.src, d.dst, d.payload) for d in got] == [
        (A4, B4, b"\x00\x01hello"),
        (B6, A6, b"odd"),
    ]
    assert [d.time for d in got] == pytest.approx([1.25, 2.5])
    assert stats.udp == 2 and stats.malformed == 0


def test_ipv6_udp_checksum_is_valid() -> None:
    frame = ip_udp_frame(A6, B6, b"abc")
    pseudo = frame[8:40] + struct.pack("!IxxxB", 11, 17)
    data = pseudo + frame[40:] + b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    assert total == 0xFFFF


def _pcap(linktype: int, frames: list[bytes], *, big: bool = False, nano: bool = False) -> bytes:
    o = ">" if big else "<"
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = struct.pack(o + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)
    for i, f in enumerate(frames):
        out += struct.pack(o + "IIII", 10 + i, 500, len(f), len(f)) + f
    return out


def test_classic_pcap_variants_and_link_types() -> None:
    ip = ip_udp_frame(A4, B4, b"x")
    eth = b"\x02" * 12 + b"\x08\x00" + ip
    vlan = b"\x02" * 12 + b"\x81\x00\x00\x05\x08\x00" + ip
    sll = b"\x00" * 14 + b"\x08\x00" + ip
    sll2 = b"\x08\x00" + b"\x00" * 18 + ip
    null = struct.pack("<I", 2) + ip
    cases = [(1, eth), (1, vlan), (113, sll), (276, sll2), (0, null), (101, ip), (228, ip)]
    for linktype, frame in cases:
        for big in (False, True):
            got, _ = _read(_pcap(linktype, [frame], big=big))
            assert [(d.src, d.dst, d.payload) for d in got] == [(A4, B4, b"x")], linktype
    got, _ = _read(_pcap(101, [ip], nano=True))
    assert got[0].time == pytest.approx(10 + 500e-9)
    got, _ = _read(_pcap(101, [ip]))
    assert got[0].time == pytest.approx(10.0005)


def test_skips_fragments_and_other_protocols() -> None:
    ip = bytearray(ip_udp_frame(A4, B4, b"x"))
    frag = bytes(ip[:6]) + b"\x20\x00" + bytes(ip[8:])  # MF set
    tcp = bytes(ip[:9]) + b"\x06" + bytes(ip[10:])
    got, stats = _read(_pcap(101, [frag, tcp, bytes(ip), b"\x45"]))
    assert len(got) == 1 and stats.skipped == 2 and stats.malformed == 1


def test_pcapng_with_two_interfaces_and_simple_blocks() -> None:
    def block(btype: int, body: bytes) -> bytes:
        body += b"\0" * (-len(body) & 3)
        return struct.pack("<II", btype, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb_us = block(1, struct.pack("<HHI", 101, 0, 65535))
    opts = struct.pack("<HHB3x", 9, 1, 0x83) + struct.pack("<HH", 0, 0)  # 2^-3 s units
    idb_eth = block(1, struct.pack("<HHI", 1, 0, 65535) + opts)
    ip = ip_udp_frame(A4, B4, b"one")
    eth = b"\x02" * 12 + b"\x08\x00" + ip_udp_frame(B4, A4, b"two")
    epb1 = block(6, struct.pack("<IIIII", 0, 0, 3_000_000, len(ip), len(ip)) + ip)
    epb2 = block(6, struct.pack("<IIIII", 1, 0, 16, len(eth), len(eth)) + eth)
    spb = block(3, struct.pack("<I", len(ip)) + ip)
    got, stats = _read(shb + idb_us + idb_eth + epb1 + epb2 + spb)
    assert [d.payload for d in got] == [b"one", b"two", b"one"]
    assert [d.time for d in got] == pytest.approx([3.0, 2.0, 0.0])
    assert stats.malformed == 0


def test_not_a_capture() -> None:
    for data in (b"", b"abc", b'{"time": 1}\n', b"\xd4\xc3\xb2\xa1" + b"\0" * 3):
        with pytest.raises(CaptureError):
            _read(data)


def test_reads_the_testing_kit_capture() -> None:
    """webrtc.testing.Recorder writes Ethernet pcap: the reader takes it as it is."""
    net = Network(seed=1)
    rec = Recorder(net, names={"10.0.0.1": "A"})
    net.bind(("10.0.0.2", 2))
    binding = b"\x00\x01\x00\x00" + b"\x21\x12\xa4\x42" + bytes(12)
    net.send(binding, ("10.0.0.1", 1), ("10.0.0.2", 2), 0.5)
    net.deliver_due(1.0)
    got, _ = _read(rec.pcap())
    assert [(d.src, d.dst) for d in got] == [(("10.0.0.1", 1), ("10.0.0.2", 2))]
    assert [d.payload for d in _read(pcap_bytes([(0.0, A6, B6, b"v6")]))[0]] == [b"v6"]
    (ob,) = observe(got)
    assert (ob.event.layer, ob.event.kind, ob.captured) == ("STUN", "Binding request", True)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_reader_total_on_garbage(data: bytes) -> None:
    for prefix in (b"", b"\xd4\xc3\xb2\xa1", b"\x0a\x0d\x0d\x0a"):
        try:
            got, _ = _read(prefix + data)
        except CaptureError:
            continue
        for d in got:
            observe([d])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_decryptor_total_on_garbage(a: bytes, b: bytes) -> None:
    dec = DtlsDecryptor({bytes(32): bytes(48)})
    for data in (a, b, b"\x16\xfe\xfd" + a, b"\x17\xfe\xfd\x00\x01" + b):
        dec.records(data, A4, B4)
    observe([Datagram(0.0, A4, B4, b"\x17\xfe\xfd" + a)], {bytes(32): bytes(48)})


def test_keylog_parsing() -> None:
    cr, ms = "ab" * 32, "cd" * 48
    keys = parse_keylog(
        [
            "# comment",
            f"CLIENT_RANDOM {cr} {ms}",
            f"CLIENT_RANDOM {cr[:-2]} {ms}",  # short: ignored
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET 00 11",
            "x" * 10_000,
        ]
    )
    assert keys == {bytes.fromhex(cr): bytes.fromhex(ms)}


def test_gso_super_packet_split_into_its_stun_datagrams() -> None:
    """A capture on the sending host sees a UDP GSO send as one payload of equal segments."""
    from ice import stun
    from webrtc.ladder.capture import gso_segments

    msgs = [
        stun.Message(stun.Method.BINDING, stun.Class.REQUEST, bytes([i]) * 12).encode()
        for i in range(3)
    ]
    assert gso_segments(b"".join(msgs)) == msgs
    assert gso_segments(msgs[0]) == [msgs[0]]
    assert gso_segments(msgs[0] + b"\x17\xfe\xfd" + bytes(30)) == [
        msgs[0] + b"\x17\xfe\xfd" + bytes(30)
    ]
    (ob1, ob2, ob3) = observe([Datagram(0.0, A4, B4, b"".join(msgs))])
    assert [o.event.fields["tid"] for o in (ob1, ob2, ob3)] == [
        bytes([i] * 12).hex() for i in range(3)
    ]
