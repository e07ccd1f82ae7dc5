"""The recorder: JSON lines in the --trace-json record format, and pcap files Wireshark reads."""

from __future__ import annotations

import io
import ipaddress
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from webrtc.testing import Drop, Impairment, Recorder, Simulation, pcap_bytes

TRACE_KEYS = {"time", "peer", "direction", "layer", "kind", "size", "summary", "fields"}
EXTRA_KEYS = {"datagram", "src", "dst", "sent", "lost", "drop"}


def _session(
    hosts: tuple[str, str] = ("10.0.0.1", "10.0.0.2"), loss: float = 0.1
) -> tuple[Simulation, Recorder]:
    sim = Simulation(Impairment(loss=loss, delay=0.02), seed=3)
    sim.names.update({hosts[0]: "A", hosts[1]: "B"})
    rec = sim.record()
    c = sim.connect(*hosts, seed=3)
    a, _ = c.channel("data")
    for i in range(20):
        a.put_packet(bytes(500 + i))
    sim.idle(1.0)
    return sim, rec


def test_json_records_extend_the_trace_format() -> None:
    _, rec = _session()
    buf = io.StringIO()
    n = rec.save_json(buf)
    records = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert n == len(records) > 0
    for r in records:
        assert set(r) >= TRACE_KEYS | EXTRA_KEYS, set(r)
        assert r["direction"] in ("out", "in") and r["peer"] in ("A", "B")
    assert [r["time"] for r in records] == sorted(r["time"] for r in records)
    lost = [d for d in rec.datagrams if d.lost]
    assert any(d.drop is Drop.LOSS for d in lost)  # 10 % loss over the handshake and transfer
    for d in lost:
        mine = [r for r in records if r["datagram"] == d.number]
        assert mine and all(r["lost"] and r["direction"] == "out" for r in mine)
        assert d.drop is not None and {r["drop"] for r in mine} == {d.drop.value}
    delivered = next(d for d in rec.datagrams if d.arrivals)
    mine = [r for r in records if r["datagram"] == delivered.number]
    assert {r["direction"] for r in mine} == {"out", "in"}
    first_in = next(r for r in mine if r["direction"] == "in")
    assert first_in["time"] == round(delivered.arrivals[0], 6)
    assert first_in["sent"] == round(delivered.time, 6)
    layers = {r["layer"] for r in records}
    assert {"STUN", "DTLS", "SCTP"} <= layers
    inner = [r for r in records if r["layer"] == "SCTP"]  # from the peers' trace hooks
    assert all(r["datagram"] is None and r["peer"] in ("A", "B") for r in inner)
    assert any("dcep" in r["fields"] for r in inner)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _read_pcap(data: bytes) -> list[tuple[float, bytes, bytes, int, int, bytes]]:
    """(time, src ip, dst ip, sport, dport, payload) per frame, checking every length/checksum."""
    magic, major, minor, _, _, snaplen, linktype = struct.unpack_from("<IHHiIII", data)
    assert (magic, major, minor, linktype) == (0xA1B2C3D4, 2, 4, 1) and snaplen >= 65535
    pos, out = 24, []
    while pos < len(data):
        sec, usec, incl, orig = struct.unpack_from("<IIII", data, pos)
        frame = data[pos + 16 : pos + 16 + incl]
        assert incl == orig == len(frame)
        pos += 16 + incl
        ethertype = struct.unpack_from("!H", frame, 12)[0]
        ip = frame[14:]
        if ethertype == 0x0800:
            assert ip[0] == 0x45 and struct.unpack_from("!H", ip, 2)[0] == len(ip)
            assert _checksum(ip[:20]) == 0xFFFF
            src, dst, udp = ip[12:16], ip[16:20], ip[20:]
            pseudo = src + dst + struct.pack("!BBH", 0, 17, len(udp))
        else:
            assert ethertype == 0x86DD and ip[0] >> 4 == 6
            assert struct.unpack_from("!H", ip, 4)[0] == len(ip) - 40 and ip[6] == 17
            src, dst, udp = ip[8:24], ip[24:40], ip[40:]
            pseudo = src + dst + struct.pack("!IxxxB", len(udp), 17)
        sport, dport, length = struct.unpack_from("!HHH", udp)
        assert length == len(udp)
        assert _checksum(pseudo + udp) == 0xFFFF
        out.append((sec + usec / 1e6, src, dst, sport, dport, udp[8:]))
    return out


@pytest.mark.parametrize("hosts", [("10.0.0.1", "10.0.0.2"), ("fd00::1", "fd00::2")])
def test_pcap_has_every_datagram_with_correct_headers(hosts: tuple[str, str]) -> None:
    _, rec = _session(hosts)
    frames = _read_pcap(rec.pcap())
    assert len(frames) == len(rec.datagrams)
    for (t, src, dst, sport, dport, payload), d in zip(frames, rec.datagrams):
        assert payload == d.data and abs(t - d.time) < 1e-6
        assert ipaddress.ip_address(src) == ipaddress.ip_address(d.src[0])
        assert (sport, dport) == (d.src[1], d.dst[1]) and ipaddress.ip_address(dst).version
    arrived = _read_pcap(rec.pcap("receiver"))
    assert len(arrived) == sum(len(d.arrivals) for d in rec.datagrams) < len(frames)


def test_pcap_of_names_and_mixed_families() -> None:
    data = pcap_bytes(
        [
            (0.5, ("alice", 1), ("bob", 2), b"\x00\x01hello"),
            (1.25, ("10.0.0.1", 3), ("fd00::1", 4), b"x" * 1001),
        ]
    )
    frames = _read_pcap(data)
    assert [f[5] for f in frames] == [b"\x00\x01hello", b"x" * 1001]
    assert ipaddress.ip_address(frames[0][1]) in ipaddress.ip_network("198.18.0.0/15")


def test_pcap_opens_in_tshark_without_malformed_packets(tmp_path: Path) -> None:
    tshark = shutil.which("tshark")
    if tshark is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("tshark is missing (CI=true): apt-get install tshark")
        pytest.skip("tshark not installed (apt-get install tshark)")
    _, rec = _session()
    path = tmp_path / "session.pcap"
    frames = rec.save_pcap(str(path))
    opts = ["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]

    def fields(filt: str | None, *extra: str) -> list[str]:
        cmd = [tshark, "-r", str(path), *opts, "-T", "fields", "-e", "frame.number", *extra]
        if filt:
            cmd += ["-Y", filt]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split()

    assert len(fields(None)) == frames == len(rec.datagrams)
    bad = 'ip.checksum.status == "Bad" || udp.checksum.status == "Bad"'
    assert fields(f"_ws.malformed || _ws.expert.severity >= error || {bad}") == []
    assert len(fields("stun")) > 0 and len(fields("dtls")) > 0
