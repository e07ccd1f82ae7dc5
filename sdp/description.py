"""Session descriptions (RFC 8866): the data model, the parser and the writer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ._grammar import NON_WS, TOKEN, check, fields, parse_int
from .attributes import (
    DIRECTIONS,
    VALUE_PARSERS,
    Attribute,
    Direction,
    ExtMap,
    Fingerprint,
    Fmtp,
    Group,
    MsidSemantic,
    RtpMap,
    SctpMap,
    Setup,
    Ssrc,
    parse_candidate,
    parse_extmap,
    parse_fingerprint,
    parse_fmtp,
    parse_group,
    parse_ice_options,
    parse_ice_pwd,
    parse_ice_ufrag,
    parse_max_message_size,
    parse_mid,
    parse_msid_semantic,
    parse_port,
    parse_rtpmap,
    parse_sctpmap,
    parse_setup,
    parse_ssrc,
)
from .candidate import Candidate
from .errors import ParseError

_U64 = 2**64 - 1
DEFAULT_SCTP_PORT = 5000  # RFC 8841 §5: a=sctp-port absent
DEFAULT_MAX_MESSAGE_SIZE = 65536  # RFC 8841 §6: a=max-message-size absent
# RFC 8866 §5.10: typed-time = 1*DIGIT [fixed-len-time-unit]; z= offsets may be negative.
_TYPED_TIME = re.compile(r"[0-9]+[dhms]?")
_SIGNED_TYPED_TIME = re.compile(r"-?[0-9]+[dhms]?")


@dataclass(frozen=True, slots=True)
class Origin:
    """`o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (§5.2)."""

    username: str = "-"
    session_id: int = 0
    session_version: int = 0
    nettype: str = "IN"
    addrtype: str = "IP4"
    address: str = "127.0.0.1"

    @classmethod
    def parse(cls, text: str) -> Origin:
        user, sess_id, version, nettype, addrtype, address = fields(text, "o=", count=6)
        return cls(
            check(NON_WS, user, "o= username"),
            parse_int(sess_id, "o= sess-id", _U64),
            parse_int(version, "o= sess-version", _U64),
            check(TOKEN, nettype, "o= nettype"),
            check(TOKEN, addrtype, "o= addrtype"),
            check(NON_WS, address, "o= address"),
        )

    def __str__(self) -> str:
        return (
            f"{self.username} {self.session_id} {self.session_version} "
            f"{self.nettype} {self.addrtype} {self.address}"
        )


@dataclass(frozen=True, slots=True)
class Connection:
    """`c=<nettype> <addrtype> <connection-address>` (§5.7); TTL/count stay in `address`."""

    nettype: str = "IN"
    addrtype: str = "IP4"
    address: str = "0.0.0.0"

    @classmethod
    def parse(cls, text: str) -> Connection:
        nettype, addrtype, address = fields(text, "c=", count=3)
        return cls(
            check(TOKEN, nettype, "c= nettype"),
            check(TOKEN, addrtype, "c= addrtype"),
            check(NON_WS, address, "c= address"),
        )

    def __str__(self) -> str:
        return f"{self.nettype} {self.addrtype} {self.address}"


@dataclass(frozen=True, slots=True)
class Bandwidth:
    """`b=<bwtype>:<bandwidth>` (§5.8), e.g. `AS:30` or `TIAS:128000`."""

    type: str
    value: int

    @classmethod
    def parse(cls, text: str) -> Bandwidth:
        bwtype, sep, value = text.partition(":")
        if not sep:
            raise ParseError("b= needs <bwtype>:<bandwidth>")
        return cls(check(TOKEN, bwtype, "b= bwtype"), parse_int(value, "b= bandwidth", _U64))

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


@dataclass(frozen=True, slots=True)
class Timing:
    """A time description (§5.9-5.11): `t=<start> <stop>`, its `r=` lines and `z=` line.

    `repeats` and `zone` hold the raw `r=`/`z=` values (syntax-checked, rarely used by WebRTC).
    """

    start: int = 0
    stop: int = 0
    repeats: tuple[str, ...] = ()
    zone: str | None = None

    @classmethod
    def parse(cls, text: str) -> Timing:
        start, stop = fields(text, "t=", count=2)
        return cls(parse_int(start, "t= start-time", _U64), parse_int(stop, "t= stop-time", _U64))

    def lines(self) -> Iterator[str]:
        yield f"t={self.start} {self.stop}"
        for repeat in self.repeats:
            yield f"r={repeat}"
        if self.zone is not None:
            yield f"z={self.zone}"


def _check_repeat(text: str) -> str:
    # RFC 8866 §5.10: r=<repeat interval> <active duration> <offsets from start-time>
    for part in fields(text, "r=", minimum=3):
        check(_TYPED_TIME, part, "r= typed-time")
    return text


def _check_zone(text: str) -> str:
    # RFC 8866 §5.11: z=<adjustment time> <offset> [<adjustment time> <offset> ...]
    parts = fields(text, "z=", minimum=2)
    if len(parts) % 2:
        raise ParseError("z= needs <adjustment time> <offset> pairs")
    for i in range(0, len(parts), 2):
        parse_int(parts[i], "z= adjustment time", _U64)
        check(_SIGNED_TYPED_TIME, parts[i + 1], "z= offset")
    return text


@dataclass(frozen=True, slots=True)
class UnknownLine:
    """A line with a type letter RFC 8866 does not define, kept verbatim.

    `position` is the number of known lines of the same section that preceded it, so the writer
    puts it back where it was.
    """

    position: int
    type: str
    value: str

    def __str__(self) -> str:
        return f"{self.type}={self.value}"


def _validate_attribute(name: str, value: str | None) -> None:
    parser = VALUE_PARSERS.get(name)
    if parser is not None:
        parser(value)


class _Attributes:
    """Attribute access shared by the session and media levels."""

    attributes: list[Attribute]

    # -- generic access -------------------------------------------------------------------
    def get(self, name: str) -> Attribute | None:
        """The first attribute called `name`, or None."""
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        return None

    def get_all(self, name: str) -> list[Attribute]:
        """Every attribute called `name`, in order."""
        return [a for a in self.attributes if a.name == name]

    def has(self, name: str) -> bool:
        """True when at least one attribute called `name` is present."""
        return self.get(name) is not None

    def value(self, name: str) -> str | None:
        """The value of the first attribute called `name` (None if absent or a flag)."""
        attribute = self.get(name)
        return None if attribute is None else attribute.value

    def add_attribute(self, name: str, value: object = None) -> Attribute:
        """Append `a=<name>[:<value>]`; known attributes are validated (ParseError).

        `value` may be a str, an int, or a typed value whose `str()` is the attribute value
        (`Fingerprint`, `Candidate`, `Group`, `Setup`, ...). Returns the new Attribute.
        """
        check(TOKEN, name, "attribute name")
        if value is None:
            text = None
        elif isinstance(value, Candidate):
            text = value.value()
        elif name == "candidate" and isinstance(value, str):
            # Accept "a=candidate:..."/"candidate:..." too; the attribute holds the bare value.
            text = Candidate.parse(value).value()
        else:
            text = str(value)
        if text is not None and ("\r" in text or "\n" in text or "\x00" in text):
            raise ParseError(f"a={name} value contains CR, LF or NUL")
        _validate_attribute(name, text)
        attribute = Attribute(name, text)
        self.attributes.append(attribute)
        return attribute

    def set_attribute(self, name: str, value: object = None) -> Attribute:
        """Replace every `name` attribute by one `a=<name>[:<value>]` (first position kept)."""
        index = next((i for i, a in enumerate(self.attributes) if a.name == name), None)
        new = self.add_attribute(name, value)
        if index is not None:
            self.attributes.pop()
            self.attributes[index] = new
            self.attributes[index + 1 :] = [
                a for a in self.attributes[index + 1 :] if a.name != name
            ]
        return new

    def remove_attributes(self, name: str) -> int:
        """Remove every attribute called `name`; returns how many were removed."""
        before = len(self.attributes)
        self.attributes[:] = [a for a in self.attributes if a.name != name]
        return before - len(self.attributes)

    def add_candidate(self, candidate: Candidate) -> Attribute:
        """Append `a=candidate:<candidate value>`."""
        return self.add_attribute("candidate", candidate)

    # -- typed access (RFC 8839, 8122, 4145/8842, 5888, 8841, 8866 §6) ----------------------
    @property
    def ice_ufrag(self) -> str | None:
        attribute = self.get("ice-ufrag")
        return None if attribute is None else parse_ice_ufrag(attribute.value)

    @property
    def ice_pwd(self) -> str | None:
        attribute = self.get("ice-pwd")
        return None if attribute is None else parse_ice_pwd(attribute.value)

    @property
    def ice_options(self) -> tuple[str, ...]:
        """Tags of every `a=ice-options` line (e.g. `("trickle", "ice2")`)."""
        tags: list[str] = []
        for attribute in self.get_all("ice-options"):
            tags.extend(parse_ice_options(attribute.value))
        return tuple(tags)

    @property
    def ice_lite(self) -> bool:
        """`a=ice-lite` (RFC 8839 §5.3; session level)."""
        return self.has("ice-lite")

    @property
    def fingerprints(self) -> list[Fingerprint]:
        """Every `a=fingerprint` (RFC 8122 §5 allows several)."""
        return [parse_fingerprint(a.value) for a in self.get_all("fingerprint")]

    @property
    def setup(self) -> Setup | None:
        attribute = self.get("setup")
        return None if attribute is None else parse_setup(attribute.value)

    @property
    def mid(self) -> str | None:
        attribute = self.get("mid")
        return None if attribute is None else parse_mid(attribute.value)

    @property
    def groups(self) -> list[Group]:
        return [parse_group(a.value) for a in self.get_all("group")]

    @property
    def bundle_groups(self) -> list[tuple[str, ...]]:
        """The mids of every `a=group:BUNDLE` (RFC 8843 §7)."""
        return [g.mids for g in self.groups if g.semantics.upper() == "BUNDLE"]

    @property
    def msid_semantic(self) -> MsidSemantic | None:
        attribute = self.get("msid-semantic")
        return None if attribute is None else parse_msid_semantic(attribute.value)

    @property
    def sctp_port(self) -> int | None:
        """`a=sctp-port` (RFC 8841 §5); None when absent (the RFC default is 5000)."""
        attribute = self.get("sctp-port")
        return None if attribute is None else parse_port(attribute.value)

    @property
    def max_message_size(self) -> int | None:
        """`a=max-message-size` (RFC 8841 §6); None when absent (assume 65536), 0 = no limit."""
        attribute = self.get("max-message-size")
        return None if attribute is None else parse_max_message_size(attribute.value)

    @property
    def sctpmap(self) -> SctpMap | None:
        """Legacy `a=sctpmap` (pre-RFC 8841 data channel SDP)."""
        attribute = self.get("sctpmap")
        return None if attribute is None else parse_sctpmap(attribute.value)

    @property
    def candidates(self) -> list[Candidate]:
        return [parse_candidate(a.value) for a in self.get_all("candidate")]

    @property
    def end_of_candidates(self) -> bool:
        """`a=end-of-candidates` (RFC 8840 §8.2)."""
        return self.has("end-of-candidates")

    @property
    def rtcp_mux(self) -> bool:
        return self.has("rtcp-mux")

    @property
    def bundle_only(self) -> bool:
        """`a=bundle-only` (RFC 8843 §6)."""
        return self.has("bundle-only")

    @property
    def direction(self) -> Direction | None:
        """The last direction attribute present (sendrecv/sendonly/recvonly/inactive), or None."""
        result: Direction | None = None
        for attribute in self.attributes:
            if attribute.name in DIRECTIONS:
                result = Direction(attribute.name)
        return result

    @property
    def rtpmaps(self) -> list[RtpMap]:
        return [parse_rtpmap(a.value) for a in self.get_all("rtpmap")]

    @property
    def fmtps(self) -> list[Fmtp]:
        return [parse_fmtp(a.value) for a in self.get_all("fmtp")]

    @property
    def extmaps(self) -> list[ExtMap]:
        return [parse_extmap(a.value) for a in self.get_all("extmap")]

    @property
    def ssrcs(self) -> list[Ssrc]:
        return [parse_ssrc(a.value) for a in self.get_all("ssrc")]


@dataclass(eq=True)
class MediaDescription(_Attributes):
    """One media section: `m=<kind> <port>[/<count>] <protocol> <fmt> ...` and its lines.

    A WebRTC data channel section is
    `MediaDescription("application", 9, "UDP/DTLS/SCTP", ["webrtc-datachannel"])`.
    """

    kind: str = "application"
    port: int = 9
    protocol: str = "UDP/DTLS/SCTP"
    formats: list[str] = field(default_factory=lambda: ["webrtc-datachannel"])
    port_count: int | None = None
    information: str | None = None
    connections: list[Connection] = field(default_factory=list)
    bandwidths: list[Bandwidth] = field(default_factory=list)
    encryption_key: str | None = None
    attributes: list[Attribute] = field(default_factory=list)
    unknown_lines: list[UnknownLine] = field(default_factory=list)

    @property
    def connection(self) -> Connection | None:
        """The first `c=` line of this section, or None."""
        return self.connections[0] if self.connections else None

    @property
    def effective_sctp_port(self) -> int:
        """SCTP port of a data channel section: a=sctp-port, else the legacy a=sctpmap port,
        else 5000 (RFC 8841 §5)."""
        port = self.sctp_port
        if port is None:
            legacy = self.sctpmap
            port = DEFAULT_SCTP_PORT if legacy is None else legacy.port
        return port

    @property
    def effective_max_message_size(self) -> int:
        """a=max-message-size, else 65536 (RFC 8841 §6); 0 means no limit."""
        size = self.max_message_size
        return DEFAULT_MAX_MESSAGE_SIZE if size is None else size

    def media_line(self) -> str:
        port = str(self.port) if self.port_count is None else f"{self.port}/{self.port_count}"
        return " ".join((f"m={self.kind}", port, self.protocol, *self.formats))

    def lines(self) -> list[str]:
        known = [self.media_line()]
        if self.information is not None:
            known.append(f"i={self.information}")
        known.extend(f"c={c}" for c in self.connections)
        known.extend(f"b={b}" for b in self.bandwidths)
        if self.encryption_key is not None:
            known.append(f"k={self.encryption_key}")
        known.extend(str(a) for a in self.attributes)
        return _merge_unknown(known, self.unknown_lines)

    def to_sdp(self) -> str:
        """This media section as SDP text with CRLF line endings."""
        return "".join(line + "\r\n" for line in self.lines())

    def __str__(self) -> str:
        return self.to_sdp()


@dataclass(eq=True)
class SessionDescription(_Attributes):
    """A whole SDP: session-level lines, session attributes and `media` sections.

    Build one programmatically (every field has a usable default) and `str()` it, or get one
    from `sdp.parse`. Typed accessors read session-level attributes; the `*_for(media)`
    helpers apply media-over-session override semantics.
    """

    origin: Origin = field(default_factory=Origin)
    name: str = "-"
    version: int = 0
    information: str | None = None
    uri: str | None = None
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    connection: Connection | None = None
    bandwidths: list[Bandwidth] = field(default_factory=list)
    times: list[Timing] = field(default_factory=lambda: [Timing()])
    encryption_key: str | None = None
    attributes: list[Attribute] = field(default_factory=list)
    media: list[MediaDescription] = field(default_factory=list)
    unknown_lines: list[UnknownLine] = field(default_factory=list)

    def add_media(self, media: MediaDescription) -> MediaDescription:
        """Append a media section and return it."""
        self.media.append(media)
        return media

    def media_by_mid(self, mid: str) -> MediaDescription | None:
        """The media section whose `a=mid` is `mid`, or None."""
        for media in self.media:
            if media.value("mid") == mid:
                return media
        return None

    # -- media-over-session override semantics ----------------------------------------------
    def attributes_for(self, media: MediaDescription | int, name: str) -> list[Attribute]:
        """`name` attributes of `media` if it has any, else those at session level."""
        section = self.media[media] if isinstance(media, int) else media
        found = section.get_all(name)
        return found if found else self.get_all(name)

    def ice_ufrag_for(self, media: MediaDescription | int) -> str | None:
        """RFC 8839 §5.4: media-level ice-ufrag overrides the session-level one."""
        found = self.attributes_for(media, "ice-ufrag")
        return parse_ice_ufrag(found[0].value) if found else None

    def ice_pwd_for(self, media: MediaDescription | int) -> str | None:
        """RFC 8839 §5.4: media-level ice-pwd overrides the session-level one."""
        found = self.attributes_for(media, "ice-pwd")
        return parse_ice_pwd(found[0].value) if found else None

    def ice_options_for(self, media: MediaDescription | int) -> tuple[str, ...]:
        found = self.attributes_for(media, "ice-options")
        return tuple(tag for a in found for tag in parse_ice_options(a.value))

    def fingerprints_for(self, media: MediaDescription | int) -> list[Fingerprint]:
        """RFC 8122 §5: media-level fingerprints replace session-level ones."""
        return [parse_fingerprint(a.value) for a in self.attributes_for(media, "fingerprint")]

    def setup_for(self, media: MediaDescription | int) -> Setup | None:
        """RFC 4145 §4: media-level setup overrides session-level."""
        found = self.attributes_for(media, "setup")
        return parse_setup(found[0].value) if found else None

    def direction_for(self, media: MediaDescription | int) -> Direction:
        """RFC 8866 §6.7: media, then session direction; sendrecv when neither says."""
        section = self.media[media] if isinstance(media, int) else media
        return section.direction or self.direction or Direction.SENDRECV

    def connection_for(self, media: MediaDescription | int) -> Connection | None:
        """RFC 8866 §5.7: a media-level c= overrides the session-level one."""
        section = self.media[media] if isinstance(media, int) else media
        return section.connection or self.connection

    # -- writing ----------------------------------------------------------------------------
    def lines(self) -> list[str]:
        known = [f"v={self.version}", f"o={self.origin}", f"s={self.name}"]
        if self.information is not None:
            known.append(f"i={self.information}")
        if self.uri is not None:
            known.append(f"u={self.uri}")
        known.extend(f"e={e}" for e in self.emails)
        known.extend(f"p={p}" for p in self.phones)
        if self.connection is not None:
            known.append(f"c={self.connection}")
        known.extend(f"b={b}" for b in self.bandwidths)
        for timing in self.times:
            known.extend(timing.lines())
        if self.encryption_key is not None:
            known.append(f"k={self.encryption_key}")
        known.extend(str(a) for a in self.attributes)
        result = _merge_unknown(known, self.unknown_lines)
        for media in self.media:
            result.extend(media.lines())
        return result

    def to_sdp(self) -> str:
        """The description as SDP text with CRLF line endings."""
        return "".join(line + "\r\n" for line in self.lines())

    def __str__(self) -> str:
        return self.to_sdp()


def _merge_unknown(known: list[str], unknown: list[UnknownLine]) -> list[str]:
    if not unknown:
        return known
    result: list[str] = []
    pending = sorted(unknown, key=lambda u: u.position)
    index = 0
    for position, line in enumerate(known):
        while index < len(pending) and pending[index].position <= position:
            result.append(str(pending[index]))
            index += 1
        result.append(line)
    result.extend(str(u) for u in pending[index:])
    return result


# ---------------------------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------------------------

# RFC 8866 §5: order of session-level lines; t/r/z form repeated time descriptions.
_SESSION_RANK = {
    "v": 0, "o": 1, "s": 2, "i": 3, "u": 4, "e": 5, "p": 6, "c": 7, "b": 8,
    "t": 9, "r": 10, "z": 11, "k": 12, "a": 13,
}  # fmt: skip
_SESSION_REPEATABLE = frozenset("epbta")
_SESSION_ORDER = "v o s i u e p c b t r z k a"
# RFC 8866 §5: order of media-level lines after m=.
_MEDIA_RANK = {"i": 1, "c": 2, "b": 3, "k": 4, "a": 5}
_MEDIA_REPEATABLE = frozenset("cba")
_KNOWN_TYPES = frozenset("vosiuepcbtrzkam")
_NAMES = {
    "v": "v= (version)",
    "o": "o= (origin)",
    "s": "s= (session name)",
    "t": "t= (timing)",
}


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    # One trailing line ending (and any number of blank lines after it) ends the text.
    while lines and lines[-1] in ("", "\r"):
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _decode(data: str | bytes | bytearray | memoryview) -> str:
    if isinstance(data, str):
        return data
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ParseError(f"expected str or bytes, got {type(data).__name__}")
    raw = bytes(data)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_number = raw.count(b"\n", 0, exc.start) + 1
        start = raw.rfind(b"\n", 0, exc.start) + 1
        end = raw.find(b"\n", exc.start)
        line = raw[start : end if end >= 0 else len(raw)].decode("utf-8", "replace")
        raise ParseError("text is not valid UTF-8", line_number, line.rstrip("\r")) from None


def _parse_media_line(text: str) -> MediaDescription:
    # RFC 8866 §5.14: m=<media> <port>[/<number of ports>] <proto> 1*(SP <fmt>)
    parts = fields(text, "m=", minimum=4)
    kind = check(TOKEN, parts[0], "m= media type")
    port_text, slash, count_text = parts[1].partition("/")
    port = parse_int(port_text, "m= port", 65535)
    port_count = parse_int(count_text, "m= number of ports", 65535) if slash else None
    protocol = parts[2]
    for piece in protocol.split("/"):
        check(TOKEN, piece, "m= proto")
    formats = [check(TOKEN, fmt, "m= fmt") for fmt in parts[3:]]
    return MediaDescription(kind, port, protocol, formats, port_count)


class _Parser:
    """Single pass over the lines; enforces RFC 8866 §5 line order."""

    def __init__(self) -> None:
        self.session = SessionDescription(origin=Origin(), times=[])
        self.seen: set[str] = set()
        self.rank = -1
        self.last_type = ""
        self.media: MediaDescription | None = None
        self.known_in_section = 0

    def feed(self, kind: str, value: str) -> None:
        if self.media is None and kind != "m":
            self._session_line(kind, value)
        else:
            self._media_line(kind, value)
        self.known_in_section += 1
        self.last_type = kind

    def _require_before(self, kind: str) -> None:
        for required in ("v", "o", "s", "t"):
            if required not in self.seen and (kind == "m" or _SESSION_RANK[required] < _rank(kind)):
                raise ParseError(f"expected {_NAMES[required]} before this line")

    def _session_line(self, kind: str, value: str) -> None:
        rank = _SESSION_RANK[kind]
        self._require_before(kind)
        if kind == "t":
            if self.rank > _SESSION_RANK["z"]:
                raise ParseError("t= must come before z=, k= and a= lines")
        elif kind in "rz":
            if self.last_type not in ("t", "r"):
                raise ParseError(f"{kind}= must follow a t= or r= line")
        elif rank == self.rank and kind not in _SESSION_REPEATABLE:
            raise ParseError(f"duplicate {kind}= line")
        elif rank < self.rank:
            raise ParseError(f"{kind}= line out of order (RFC 8866 §5: {_SESSION_ORDER})")
        self.rank = rank
        self.seen.add(kind)
        session = self.session
        if kind == "v":
            # RFC 8866 §5.1: v=0
            if value != "0":
                raise ParseError("unsupported SDP version (expected v=0)")
        elif kind == "o":
            session.origin = Origin.parse(value)
        elif kind == "s":
            session.name = value
        elif kind == "i":
            session.information = value
        elif kind == "u":
            session.uri = value
        elif kind == "e":
            session.emails.append(value)
        elif kind == "p":
            session.phones.append(value)
        elif kind == "c":
            session.connection = Connection.parse(value)
        elif kind == "b":
            session.bandwidths.append(Bandwidth.parse(value))
        elif kind == "t":
            session.times.append(Timing.parse(value))
        elif kind == "r":
            last = session.times[-1]
            repeats = (*last.repeats, _check_repeat(value))
            session.times[-1] = Timing(last.start, last.stop, repeats, last.zone)
        elif kind == "z":
            last = session.times[-1]
            session.times[-1] = Timing(last.start, last.stop, last.repeats, _check_zone(value))
        elif kind == "k":
            session.encryption_key = value
        else:
            session.attributes.append(_parse_attribute(value))

    def _media_line(self, kind: str, value: str) -> None:
        if kind == "m":
            self._require_before("m")
            self.media = self.session.add_media(_parse_media_line(value))
            self.known_in_section = 0
            self.rank = 0
            return
        media = self.media
        assert media is not None
        rank = _MEDIA_RANK.get(kind)
        if rank is None:
            raise ParseError(f"{kind}= line not allowed in a media section (RFC 8866 §5)")
        if rank == self.rank and kind not in _MEDIA_REPEATABLE:
            raise ParseError(f"duplicate {kind}= line in media section")
        if rank < self.rank:
            raise ParseError(f"{kind}= line out of order (RFC 8866 §5: m i c b k a)")
        self.rank = rank
        if kind == "i":
            media.information = value
        elif kind == "c":
            media.connections.append(Connection.parse(value))
        elif kind == "b":
            media.bandwidths.append(Bandwidth.parse(value))
        elif kind == "k":
            media.encryption_key = value
        else:
            media.attributes.append(_parse_attribute(value))

    def unknown(self, kind: str, value: str) -> None:
        line = UnknownLine(self.known_in_section, kind, value)
        if self.media is None:
            self.session.unknown_lines.append(line)
        else:
            self.media.unknown_lines.append(line)

    def finish(self) -> SessionDescription:
        for required in ("v", "o", "s", "t"):
            if required not in self.seen:
                raise ParseError(f"missing {_NAMES[required]} line")
        return self.session


def _rank(kind: str) -> int:
    return _SESSION_RANK.get(kind, 99)


def _parse_attribute(value: str) -> Attribute:
    # RFC 8866 §5.13: a=<attribute-name> / a=<attribute-name>:<attribute-value>
    name, colon, attribute_value = value.partition(":")
    check(TOKEN, name, "attribute name")
    text = attribute_value if colon else None
    _validate_attribute(name, text)
    return Attribute(name, text)


def parse(text: str | bytes | bytearray | memoryview) -> SessionDescription:
    """Parse SDP text (str, or UTF-8 bytes) into a SessionDescription; raises ParseError.

    CRLF and LF line endings are both accepted; `str()` of the result writes CRLF. Well-formed
    CRLF input (with canonical numbers) is written back byte-identically.
    """
    lines = _split_lines(_decode(text))
    if not lines:
        raise ParseError("empty session description", 1, "")
    parser = _Parser()
    for number, line in enumerate(lines, start=1):
        try:
            if len(line) < 2 or line[1] != "=":
                raise ParseError("expected <type>=<value>")
            if "\r" in line or "\x00" in line:
                raise ParseError("line contains a CR or NUL character")
            kind, value = line[0], line[2:]
            if number == 1 and kind != "v":
                raise ParseError("the first line must be v=0 (RFC 8866 §5)")
            if kind in _KNOWN_TYPES:
                parser.feed(kind, value)
            elif "a" <= kind <= "z" or "A" <= kind <= "Z":
                # RFC 8866 §5: unknown type letters; we keep them verbatim.
                parser.unknown(kind, value)
            else:
                raise ParseError(f"invalid line type {kind!r}")
        except ParseError as exc:
            raise ParseError(exc.message, number, line) from None
    try:
        return parser.finish()
    except ParseError as exc:
        raise ParseError(exc.message, len(lines), lines[-1]) from None
