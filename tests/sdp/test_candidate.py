"""Candidate (RFC 8839 §5.1, RFC 6544 tcptype) and Fingerprint (RFC 8122) values."""

from __future__ import annotations

import pytest

import sdp

SRFLX = (
    "candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 192.168.1.5 "
    "rport 46154 generation 0 ufrag EsAw network-id 1 network-cost 10"
)


def test_srflx_fields() -> None:
    candidate = sdp.Candidate.parse(SRFLX)
    assert candidate == sdp.Candidate(
        foundation="842163049",
        component=1,
        transport="udp",
        priority=1677729535,
        address="203.0.113.7",
        port=46154,
        type="srflx",
        related_address="192.168.1.5",
        related_port=46154,
        extensions=(
            ("generation", "0"),
            ("ufrag", "EsAw"),
            ("network-id", "1"),
            ("network-cost", "10"),
        ),
    )
    assert candidate.extension("ufrag") == "EsAw"
    assert candidate.extension("missing") is None
    assert str(candidate) == SRFLX
    assert candidate.to_sdp() == SRFLX
    assert candidate.value() == SRFLX.removeprefix("candidate:")


@pytest.mark.parametrize("prefix", ["", "candidate:", "a=candidate:"])
def test_accepted_prefixes(prefix: str) -> None:
    bare = SRFLX.removeprefix("candidate:")
    assert sdp.Candidate.parse(prefix + bare) == sdp.Candidate.parse(SRFLX)


@pytest.mark.parametrize(
    "text",
    [
        "candidate:1 1 UDP 2130706431 10.0.0.1 8998 typ host",
        "candidate:1 1 tcp 1518280447 192.168.1.5 9 typ host tcptype active generation 0",
        "candidate:2 1 tcp 1518214911 192.168.1.5 50000 typ host tcptype passive",
        "candidate:3 2 udp 1 fe80::1 5 typ relay raddr 198.51.100.9 rport 3478",
        "candidate:a+b/ 256 udp 4294967295 x.local 65535 typ prflx",
        "candidate:0 1 udp 0 0.0.0.0 0 typ host rport 9",
        "candidate:0 1 udp 0 0.0.0.0 0 typ host raddr 0.0.0.0",
        "candidate:0 1 udp 0 0.0.0.0 0 typ host generation 0 tcptype so",
    ],
)
def test_round_trip_exact(text: str) -> None:
    candidate = sdp.Candidate.parse(text)
    assert str(candidate) == text
    assert sdp.Candidate.parse(str(candidate)) == candidate


def test_tcptype_and_relay() -> None:
    tcp = sdp.Candidate.parse("candidate:1 1 tcp 1518280447 192.168.1.5 9 typ host tcptype active")
    assert tcp.tcptype == "active" and tcp.extensions == ()
    relay = sdp.Candidate.parse("3 2 udp 1 fe80::1 5 typ relay raddr 198.51.100.9 rport 3478")
    assert (relay.related_address, relay.related_port) == ("198.51.100.9", 3478)
    assert relay.component == 2 and relay.type == "relay"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "candidate:",
        "candidate:1 1 udp 2130706431 10.0.0.1 8998 typ",  # no type
        "candidate:1 1 udp 2130706431 10.0.0.1 8998 type host",  # 'typ' keyword
        "candidate:1 1 udp 2130706431 10.0.0.1 70000 typ host",  # port range
        "candidate:1 1 udp 4294967296 10.0.0.1 1 typ host",  # priority > 32 bits
        "candidate:1 1000 udp 1 10.0.0.1 1 typ host",  # component > 3 digits
        "candidate:1 x udp 1 10.0.0.1 1 typ host",
        "candidate:1 1 udp -1 10.0.0.1 1 typ host",
        "candidate:1 1 udp +1 10.0.0.1 1 typ host",
        "candidate:1 1 udp \u0661 10.0.0.1 1 typ host",  # non-ASCII digit
        "candidate:" + "a" * 33 + " 1 udp 1 10.0.0.1 1 typ host",  # foundation > 32
        "candidate:a_b 1 udp 1 10.0.0.1 1 typ host",  # '_' is not an ice-char
        "candidate:1  1 udp 1 10.0.0.1 1 typ host",  # double space
        "candidate:1 1 udp 1 10.0.0.1 1 typ host ",  # trailing space
        "candidate:1 1 udp 1 10.0.0.1 1 typ host raddr",
        "candidate:1 1 udp 1 10.0.0.1 1 typ host raddr 1.2.3.4 rport",
        "candidate:1 1 udp 1 10.0.0.1 1 typ host rport x",
        "candidate:1 1 udp 1 10.0.0.1 1 typ host tcptype",
        "candidate:1 1 udp 1 10.0.0.1 1 typ host generation",  # odd extension count
        "candidate:1 1 udp 1 10.0.0.1 1 typ host gen\u00e9ration 0",
        "candidate:1 1 udp 1 10.0.0.1 1 typ host generation \x7f",
    ],
)
def test_malformed(text: str) -> None:
    with pytest.raises(sdp.ParseError) as info:
        sdp.Candidate.parse(text)
    assert info.value.line_number == 0


def test_non_str_is_parse_error() -> None:
    with pytest.raises(sdp.ParseError):
        sdp.Candidate.parse(b"candidate:1 1 udp 1 1.2.3.4 1 typ host")  # type: ignore[arg-type]
    with pytest.raises(sdp.ParseError):
        sdp.Fingerprint.parse(None)  # type: ignore[arg-type]


def test_fingerprint() -> None:
    digest = bytes(range(32))
    text = "sha-256 " + ":".join(f"{b:02X}" for b in digest)
    fingerprint = sdp.Fingerprint.parse(text)
    assert fingerprint == sdp.Fingerprint("sha-256", digest)
    assert str(fingerprint) == text
    # RFC 8122 §5: hash names case-insensitive; lower-case hex accepted, written upper-case.
    assert sdp.Fingerprint.parse(text.upper().lower()) == fingerprint
    assert sdp.Fingerprint.parse("SHA-256 " + text[8:]) == fingerprint
    other = sdp.Fingerprint.parse("x-hash AB")  # unknown hash: any length
    assert other == sdp.Fingerprint("x-hash", b"\xab")


@pytest.mark.parametrize(
    "text",
    [
        "sha-256",
        "sha-256 ",
        "sha-256 AB:CD",  # wrong length for sha-256
        "sha-1 " + ":".join(["AB"] * 21),
        "sha-256 ABCD",
        "sha-256 AB:C",
        "sha-256 AB::CD",
        "sha-256 GG",
        "sha-256  AB",
        "sha 256 AB",
    ],
)
def test_fingerprint_malformed(text: str) -> None:
    with pytest.raises(sdp.ParseError):
        sdp.Fingerprint.parse(text)
