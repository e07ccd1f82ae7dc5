"""Malformed descriptions: ParseError with the right 1-based line number."""

from __future__ import annotations

import pytest

import sdp

HEAD = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "t=0 0"]
MEDIA = "m=application 9 UDP/DTLS/SCTP webrtc-datachannel"


def _text(*lines: str) -> str:
    return "".join(line + "\r\n" for line in lines)


CASES: list[tuple[str, str, int]] = [
    ("empty", "", 1),
    ("only line endings", "\r\n\r\n", 1),
    ("not v first", _text("o=- 1 1 IN IP4 127.0.0.1", "v=0", "s=-", "t=0 0"), 1),
    ("bad version", _text("v=1", *HEAD[1:]), 1),
    ("no equals", _text("v=0", "hello"), 2),
    ("space before equals", _text("v=0", "o =- 1 1 IN IP4 1.2.3.4"), 2),
    ("invalid type", _text(*HEAD, "1=foo"), 5),
    ("blank line inside", _text("v=0", "", *HEAD[1:]), 2),
    ("missing o", _text("v=0", "s=-", "t=0 0"), 2),
    ("missing s", _text("v=0", HEAD[1], "t=0 0"), 3),
    ("missing t before m", _text(*HEAD[:3], MEDIA), 4),
    ("missing t at end", _text(*HEAD[:3]), 3),
    ("missing t before a", _text(*HEAD[:3], "a=ice-lite", "t=0 0"), 4),
    ("o fields", _text("v=0", "o=- 1 1 IN IP4", "s=-", "t=0 0"), 2),
    ("o sess-id", _text("v=0", "o=- x 1 IN IP4 1.2.3.4", "s=-", "t=0 0"), 2),
    ("duplicate o", _text(*HEAD[:2], *HEAD[1:]), 3),
    ("duplicate s", _text(*HEAD[:3], "s=again", "t=0 0"), 4),
    ("duplicate i", _text(*HEAD[:3], "i=a", "i=b", "t=0 0"), 5),
    ("c after t", _text(*HEAD, "c=IN IP4 0.0.0.0"), 5),
    ("b after t", _text(*HEAD, "b=AS:1"), 5),
    ("u after e", _text(*HEAD[:3], "e=a@b", "u=http://x", "t=0 0"), 5),
    ("bad c", _text(*HEAD[:3], "c=IN IP4", "t=0 0"), 4),
    ("bad b", _text(*HEAD[:3], "b=AS", "t=0 0"), 4),
    ("bad b value", _text(*HEAD[:3], "b=AS:-5", "t=0 0"), 4),
    ("bad t", _text(*HEAD[:3], "t=0"), 4),
    ("r before t", _text(*HEAD[:3], "r=7d 1h 0", "t=0 0"), 4),
    ("r after a", _text(*HEAD, "a=ice-lite", "r=7d 1h 0"), 6),
    ("r after z", _text(*HEAD, "z=0 1h", "r=7d 1h 0"), 6),
    ("r too short", _text(*HEAD, "r=7d 1h"), 5),
    ("r bad unit", _text(*HEAD, "r=7w 1h 0"), 5),
    ("z odd", _text(*HEAD, "z=0 1h 5"), 5),
    ("duplicate z", _text(*HEAD, "z=0 1h", "z=0 1h"), 6),
    ("t after a", _text(*HEAD, "a=ice-lite", "t=1 2"), 6),
    ("k after a", _text(*HEAD, "a=ice-lite", "k=prompt"), 6),
    ("m too short", _text(*HEAD, "m=application 9 UDP/DTLS/SCTP"), 5),
    ("m port range", _text(*HEAD, "m=application 70000 UDP/DTLS/SCTP x"), 5),
    ("m port count", _text(*HEAD, "m=application 9/x UDP/DTLS/SCTP x"), 5),
    ("m bad proto", _text(*HEAD, "m=application 9 UDP//SCTP x"), 5),
    ("t in media", _text(*HEAD, MEDIA, "t=0 0"), 6),
    ("s in media", _text(*HEAD, MEDIA, "s=-"), 6),
    ("c after a in media", _text(*HEAD, MEDIA, "a=mid:0", "c=IN IP4 0.0.0.0"), 7),
    ("two i in media", _text(*HEAD, MEDIA, "i=a", "i=b"), 7),
    ("empty attribute name", _text(*HEAD, "a="), 5),
    ("attribute name with space", _text(*HEAD, "a=foo bar"), 5),
    ("attribute name colon only", _text(*HEAD, "a=:x"), 5),
    ("bad candidate", _text(*HEAD, MEDIA, "a=candidate:1 1 udp x 1.2.3.4 5 typ host"), 6),
    ("candidate no value", _text(*HEAD, MEDIA, "a=candidate"), 6),
    ("bad fingerprint", _text(*HEAD, MEDIA, "a=fingerprint:sha-256 AB:CD"), 6),
    ("bad setup", _text(*HEAD, MEDIA, "a=setup:bogus"), 6),
    ("bad sctp-port", _text(*HEAD, MEDIA, "a=sctp-port:abc"), 6),
    ("sctp-port range", _text(*HEAD, MEDIA, "a=sctp-port:65536"), 6),
    ("bad max-message-size", _text(*HEAD, MEDIA, "a=max-message-size:-1"), 6),
    ("short ice-ufrag", _text(*HEAD, MEDIA, "a=ice-ufrag:abc"), 6),
    ("short ice-pwd", _text(*HEAD, "a=ice-pwd:tooshort"), 5),
    ("bad ice-pwd char", _text(*HEAD, "a=ice-pwd:" + "a" * 21 + "-"), 5),
    ("empty ice-options", _text(*HEAD, "a=ice-options:"), 5),
    ("bad mid", _text(*HEAD, MEDIA, "a=mid:a b"), 6),
    ("bad group", _text(*HEAD, "a=group:BUNDLE 0 a:b"), 5),
    ("empty group", _text(*HEAD, "a=group: "), 5),
    ("bad msid-semantic", _text(*HEAD, "a=msid-semantic: "), 5),
    ("bad sctpmap", _text(*HEAD, MEDIA, "a=sctpmap:5000"), 6),
    ("bad rtpmap pt", _text(*HEAD, MEDIA, "a=rtpmap:200 opus/48000"), 6),
    ("bad rtpmap rate", _text(*HEAD, MEDIA, "a=rtpmap:111 opus"), 6),
    ("bad fmtp", _text(*HEAD, MEDIA, "a=fmtp:111"), 6),
    ("bad extmap dir", _text(*HEAD, MEDIA, "a=extmap:1/sideways urn:x"), 6),
    ("bad ssrc", _text(*HEAD, MEDIA, "a=ssrc:4294967296 cname:x"), 6),
    ("NUL in line", _text(*HEAD, "a=tool:x\x00y"), 5),
    ("lone CR in line", _text(*HEAD, "a=tool:x\ry"), 5),
    ("LF lines, error on 3", "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\ns=-\nt=0 0\n", 4),
]


@pytest.mark.parametrize(("text", "line_number"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed(text: str, line_number: int) -> None:
    with pytest.raises(sdp.ParseError) as info:
        sdp.parse(text)
    error = info.value
    assert isinstance(error, ValueError)
    assert error.line_number == line_number
    lines = text.replace("\r\n", "\n").split("\n")
    if line_number <= len(lines):
        assert error.line == lines[line_number - 1]
    assert f"line {line_number}" in str(error)
    # The same text as bytes gives the same error.
    with pytest.raises(sdp.ParseError) as again:
        sdp.parse(text.encode())
    assert again.value.line_number == line_number


def test_invalid_utf8_reports_its_line() -> None:
    data = _text(*HEAD).encode() + b"a=tool:\xff\xfe\r\n"
    with pytest.raises(sdp.ParseError) as info:
        sdp.parse(data)
    assert info.value.line_number == 5
    assert info.value.line.startswith("a=tool:")


@pytest.mark.parametrize("value", [None, 42, ["v=0"], object()])
def test_non_text_input(value: object) -> None:
    with pytest.raises(sdp.ParseError):
        sdp.parse(value)  # type: ignore[arg-type]


def test_bytearray_and_memoryview_accepted() -> None:
    data = _text(*HEAD).encode()
    assert sdp.parse(bytearray(data)) == sdp.parse(memoryview(data)) == sdp.parse(data)
