"""Hypothesis: arbitrary input never escapes anything but ParseError; generated valid
descriptions and candidates survive write -> parse unchanged."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

import sdp

TOKEN_CHARS = "".join(c for c in map(chr, range(0x21, 0x7F)) if c not in '"(),/:;<=>?@[\\]{}')
ICE_CHARS = string.ascii_letters + string.digits + "+/"
VCHARS = "".join(map(chr, range(0x21, 0x7F)))
# Known attributes whose values are validated: generic attributes avoid these names.
KNOWN = {
    "ice-ufrag", "ice-pwd", "ice-options", "fingerprint", "setup", "mid", "group",
    "msid-semantic", "sctp-port", "max-message-size", "sctpmap", "candidate", "rtpmap",
    "fmtp", "extmap", "ssrc",
}  # fmt: skip

tokens = st.text(TOKEN_CHARS, min_size=1, max_size=12)
non_ws = st.text(VCHARS, min_size=1, max_size=16)
# Line values: any text but CR, LF, NUL (RFC 8866 §9 byte-string), no surrogates.
line_text = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=30)
u16 = st.integers(0, 65535)
u32 = st.integers(0, 2**32 - 1)
u64 = st.integers(0, 2**64 - 1)

candidates = st.builds(
    sdp.Candidate,
    foundation=st.text(ICE_CHARS, min_size=1, max_size=32),
    component=st.integers(0, 999),
    transport=tokens,
    priority=u32,
    address=non_ws,
    port=u16,
    type=tokens,
    related_address=st.none() | non_ws,
    related_port=st.none() | u16,
    tcptype=st.none() | tokens,
    extensions=st.lists(
        st.tuples(tokens.filter(lambda n: n not in ("raddr", "rport", "tcptype")), non_ws),
        max_size=4,
    ).map(tuple),
)
fingerprints = st.sampled_from([("sha-1", 20), ("sha-256", 32), ("sha-512", 64)]).flatmap(
    lambda a: st.builds(sdp.Fingerprint, st.just(a[0]), st.binary(min_size=a[1], max_size=a[1]))
)
typed_attributes = st.one_of(
    st.builds(sdp.Attribute, st.just("ice-ufrag"), st.text(ICE_CHARS, min_size=4, max_size=10)),
    st.builds(sdp.Attribute, st.just("ice-pwd"), st.text(ICE_CHARS, min_size=22, max_size=30)),
    st.builds(
        sdp.Attribute,
        st.just("ice-options"),
        st.lists(st.sampled_from(["trickle", "ice2"]), min_size=1, max_size=2).map(" ".join),
    ),
    st.builds(sdp.Attribute, st.just("fingerprint"), fingerprints.map(str)),
    st.builds(sdp.Attribute, st.just("setup"), st.sampled_from(list(sdp.Setup)).map(str)),
    st.builds(sdp.Attribute, st.just("mid"), tokens),
    st.builds(sdp.Attribute, st.just("group"), st.lists(tokens, min_size=1).map(" ".join)),
    st.builds(sdp.Attribute, st.just("sctp-port"), u16.map(str)),
    st.builds(sdp.Attribute, st.just("max-message-size"), u64.map(str)),
    st.builds(sdp.Attribute, st.just("candidate"), candidates.map(sdp.Candidate.value)),
    st.builds(sdp.Attribute, st.sampled_from(["end-of-candidates", "rtcp-mux", "sendrecv"])),
)
generic_attributes = st.builds(
    sdp.Attribute, tokens.filter(lambda n: n not in KNOWN), st.none() | line_text
)
attributes = st.lists(typed_attributes | generic_attributes, max_size=6)
connections = st.builds(sdp.Connection, tokens, tokens, non_ws)
bandwidths = st.lists(st.builds(sdp.Bandwidth, tokens, u64), max_size=2)
typed_time = st.from_regex(r"[0-9]{1,5}[dhms]?", fullmatch=True)
repeats = st.lists(typed_time, min_size=3, max_size=4).map(" ".join)
zones = st.lists(
    st.tuples(u32.map(str), st.from_regex(r"-?[0-9]{1,4}[dhms]?", fullmatch=True)),
    min_size=1,
    max_size=2,
).map(lambda pairs: " ".join(f"{t} {o}" for t, o in pairs))
timings = st.builds(
    sdp.Timing, u64, u64, st.lists(repeats, max_size=2).map(tuple), st.none() | zones
)
unknown_types = st.sampled_from("fghjlnqwxyABCXYZ")


@st.composite
def media_sections(draw: st.DrawFn) -> sdp.MediaDescription:
    media = sdp.MediaDescription(
        kind=draw(tokens),
        port=draw(u16),
        protocol="/".join(draw(st.lists(tokens, min_size=1, max_size=3))),
        formats=draw(st.lists(tokens, min_size=1, max_size=3)),
        port_count=draw(st.none() | u16),
        information=draw(st.none() | line_text),
        connections=draw(st.lists(connections, max_size=2)),
        bandwidths=draw(bandwidths),
        encryption_key=draw(st.none() | line_text),
        attributes=draw(attributes),
    )
    media.unknown_lines = draw(_unknown_lines(len(media.lines())))
    return media


def _unknown_lines(known: int) -> st.SearchStrategy[list[sdp.UnknownLine]]:
    # Position >= 1: nothing may precede v= or a section's m= line.
    return st.lists(
        st.builds(sdp.UnknownLine, st.integers(1, known), unknown_types, line_text), max_size=2
    ).map(lambda lines: sorted(lines, key=lambda u: u.position))


@st.composite
def descriptions(draw: st.DrawFn) -> sdp.SessionDescription:
    description = sdp.SessionDescription(
        origin=draw(st.builds(sdp.Origin, non_ws, u64, u64, tokens, tokens, non_ws)),
        name=draw(line_text),
        information=draw(st.none() | line_text),
        uri=draw(st.none() | line_text),
        emails=draw(st.lists(line_text, max_size=2)),
        phones=draw(st.lists(line_text, max_size=2)),
        connection=draw(st.none() | connections),
        bandwidths=draw(bandwidths),
        times=draw(st.lists(timings, min_size=1, max_size=3)),
        encryption_key=draw(st.none() | line_text),
        attributes=draw(attributes),
    )
    description.unknown_lines = draw(_unknown_lines(len(description.lines())))
    description.media = draw(st.lists(media_sections(), max_size=3))
    return description


@given(descriptions())
def test_generated_descriptions_round_trip(description: sdp.SessionDescription) -> None:
    text = str(description)
    parsed = sdp.parse(text)
    assert parsed == description
    assert str(parsed) == text
    assert sdp.parse(text.encode()) == description
    assert sdp.parse(text.replace("\r\n", "\n")) == description


@given(candidates)
def test_candidates_round_trip(candidate: sdp.Candidate) -> None:
    for text in (str(candidate), "a=" + str(candidate), candidate.value()):
        assert sdp.Candidate.parse(text) == candidate
    assert str(sdp.Candidate.parse(str(candidate))) == str(candidate)


@given(fingerprints)
def test_fingerprints_round_trip(fingerprint: sdp.Fingerprint) -> None:
    assert sdp.Fingerprint.parse(str(fingerprint)) == fingerprint


def _parse_is_total(data: str | bytes) -> None:
    try:
        description = sdp.parse(data)
    except sdp.ParseError as error:
        newlines = data.count("\n") if isinstance(data, str) else data.count(b"\n")
        assert 1 <= error.line_number <= newlines + 1
        return
    text = str(description)
    assert sdp.parse(text) == description
    assert str(sdp.parse(text)) == text


@given(st.text(max_size=300))
def test_arbitrary_text(data: str) -> None:
    _parse_is_total(data)


@given(st.binary(max_size=300))
def test_arbitrary_bytes(data: bytes) -> None:
    _parse_is_total(data)


# Text made of SDP-looking lines reaches much deeper than uniform text.
sdp_lines = st.lists(
    st.one_of(
        st.sampled_from(
            ["v=0", "o=- 1 1 IN IP4 ::1", "s=-", "t=0 0", "m=application 9 UDP/DTLS/SCTP x"]
        ),
        st.builds(lambda t, v: f"{t}={v}", st.sampled_from("vosiuepcbtrzkamx"), line_text),
        st.builds(lambda a: str(a), typed_attributes | generic_attributes),
    ),
    max_size=12,
)


@given(sdp_lines, st.sampled_from(["\r\n", "\n"]))
def test_sdp_like_text(lines: list[str], newline: str) -> None:
    _parse_is_total(newline.join(lines) + newline)


@given(st.text(max_size=120))
def test_candidate_and_fingerprint_parsers_are_total(text: str) -> None:
    for parser in (sdp.Candidate.parse, sdp.Fingerprint.parse):
        try:
            value = parser(text)
        except sdp.ParseError:
            continue
        assert parser(str(value)) == value


@given(descriptions(), st.data())
def test_mutated_descriptions(description: sdp.SessionDescription, data: st.DataObject) -> None:
    # Line-level damage to a valid description: delete, duplicate, swap or corrupt one line.
    lines = description.lines()
    index = data.draw(st.integers(0, len(lines) - 1))
    action = data.draw(st.sampled_from(["delete", "duplicate", "swap", "corrupt"]))
    if action == "delete":
        del lines[index]
    elif action == "duplicate":
        lines.insert(index, lines[index])
    elif action == "swap":
        other = data.draw(st.integers(0, len(lines) - 1))
        lines[index], lines[other] = lines[other], lines[index]
    else:
        cut = data.draw(st.integers(0, len(lines[index])))
        lines[index] = lines[index][:cut] + data.draw(st.sampled_from(["", " ", "x", ":", "="]))
    _parse_is_total("".join(line + "\r\n" for line in lines))
