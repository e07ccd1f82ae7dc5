"""Typed values of the SDP attributes WebRTC uses.

Every parser here takes the raw attribute value (`None` for a flag attribute such as
`a=rtcp-mux`) and returns a typed value or raises `ParseError`. `sdp.parse` runs the parser of
every known attribute so a malformed value is reported with its line number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from ._grammar import ICE_CHARS, NON_WS, TOKEN, check, fields, parse_int
from .candidate import Candidate
from .errors import ParseError


@dataclass(frozen=True, slots=True)
class Attribute:
    """One `a=` line: `a=<name>` (flag, `value is None`) or `a=<name>:<value>`.

    The value is kept verbatim (e.g. `msid-semantic` keeps its leading space) so that
    parse -> write is byte-identical.
    """

    name: str
    value: str | None = None

    def __str__(self) -> str:
        if self.value is None:
            return f"a={self.name}"
        return f"a={self.name}:{self.value}"


class Setup(StrEnum):
    """`a=setup` roles (RFC 4145 §4, RFC 8842 §5)."""

    ACTIVE = "active"
    PASSIVE = "passive"
    ACTPASS = "actpass"
    HOLDCONN = "holdconn"


class Direction(StrEnum):
    """Media direction attributes (RFC 8866 §6.7)."""

    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"


# RFC 8122 §5: hash function names and their digest sizes in bytes.
_DIGEST_SIZES = {
    "sha-1": 20,
    "sha-224": 28,
    "sha-256": 32,
    "sha-384": 48,
    "sha-512": 64,
    "md5": 16,
    "md2": 16,
}
_HEX_PAIRS = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*")


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """`a=fingerprint` (RFC 8122 §5): hash function name (lower case) and digest bytes."""

    algorithm: str
    value: bytes

    @classmethod
    def parse(cls, text: str) -> Fingerprint:
        """Parse `"sha-256 AB:CD:..."`; hex digits of either case are accepted."""
        if not isinstance(text, str):
            raise ParseError("fingerprint must be a str")
        algorithm, digest = fields(text, "fingerprint", count=2)
        check(TOKEN, algorithm, "fingerprint hash function")
        # RFC 8122 §5: hash function names are case-insensitive
        algorithm = algorithm.lower()
        check(_HEX_PAIRS, digest, "fingerprint digest")
        value = bytes.fromhex(digest.replace(":", ""))
        size = _DIGEST_SIZES.get(algorithm)
        if size is not None and len(value) != size:
            raise ParseError(f"{algorithm} fingerprint has {len(value)} bytes, expected {size}")
        return cls(algorithm, value)

    def __str__(self) -> str:
        return f"{self.algorithm} {self.value.hex(':').upper()}"


@dataclass(frozen=True, slots=True)
class Group:
    """`a=group` (RFC 5888 §5): semantics (e.g. "BUNDLE") and identification tags (mids)."""

    semantics: str
    mids: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Group:
        # Lenient about extra spaces (the value is kept verbatim in the description anyway).
        parts = text.split()
        if not parts:
            raise ParseError("group without semantics")
        for part in parts:
            check(TOKEN, part, "group token")
        return cls(parts[0], tuple(parts[1:]))

    def __str__(self) -> str:
        return " ".join((self.semantics, *self.mids))


@dataclass(frozen=True, slots=True)
class MsidSemantic:
    """`a=msid-semantic` (legacy, draft-ietf-mmusic-msid): e.g. `WMS` with stream ids."""

    semantic: str
    identifiers: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> MsidSemantic:
        # Chrome writes "a=msid-semantic: WMS" (note the space); aiortc "a=msid-semantic:WMS *".
        parts = text.split()
        if not parts:
            raise ParseError("msid-semantic without a semantic token")
        for part in parts:
            check(NON_WS, part, "msid-semantic token")
        return cls(parts[0], tuple(parts[1:]))


@dataclass(frozen=True, slots=True)
class SctpMap:
    """Legacy `a=sctpmap:<port> <app> [<streams>]` (draft-ietf-mmusic-sctp-sdp-05)."""

    port: int
    app: str
    streams: int | None = None

    @classmethod
    def parse(cls, text: str) -> SctpMap:
        parts = fields(text, "sctpmap", minimum=2)
        if len(parts) > 3:
            raise ParseError(f"sctpmap: expected 2 or 3 fields, got {len(parts)}")
        port = parse_int(parts[0], "sctpmap port", 65535)
        app = check(TOKEN, parts[1], "sctpmap app")
        streams = parse_int(parts[2], "sctpmap streams", 65535) if len(parts) == 3 else None
        return cls(port, app, streams)

    def __str__(self) -> str:
        tail = "" if self.streams is None else f" {self.streams}"
        return f"{self.port} {self.app}{tail}"


@dataclass(frozen=True, slots=True)
class RtpMap:
    """`a=rtpmap:<pt> <encoding>/<clock rate>[/<parameters>]` (RFC 8866 §6.6)."""

    payload_type: int
    encoding_name: str
    clock_rate: int
    encoding_parameters: str | None = None

    @classmethod
    def parse(cls, text: str) -> RtpMap:
        pt, encoding = fields(text, "rtpmap", count=2)
        payload_type = parse_int(pt, "rtpmap payload type", 127)
        parts = encoding.split("/")
        if len(parts) not in (2, 3):
            raise ParseError(f"rtpmap: expected <encoding>/<clock rate>, got {encoding!r}")
        name = check(TOKEN, parts[0], "rtpmap encoding name")
        clock_rate = parse_int(parts[1], "rtpmap clock rate", 0xFFFFFFFF)
        params = check(TOKEN, parts[2], "rtpmap encoding parameters") if len(parts) == 3 else None
        return cls(payload_type, name, clock_rate, params)

    def __str__(self) -> str:
        tail = "" if self.encoding_parameters is None else f"/{self.encoding_parameters}"
        return f"{self.payload_type} {self.encoding_name}/{self.clock_rate}{tail}"


@dataclass(frozen=True, slots=True)
class Fmtp:
    """`a=fmtp:<format> <parameters>` (RFC 8866 §6.15); parameters kept as text."""

    format: str
    parameters: str

    @classmethod
    def parse(cls, text: str) -> Fmtp:
        fmt, sep, parameters = text.partition(" ")
        check(TOKEN, fmt, "fmtp format")
        if not sep:
            raise ParseError("fmtp without parameters")
        return cls(fmt, parameters)

    def params(self) -> dict[str, str | None]:
        """`key=value;key2` parameters as a dict (a key without `=` maps to None)."""
        result: dict[str, str | None] = {}
        for item in self.parameters.split(";"):
            item = item.strip()
            if item:
                key, sep, value = item.partition("=")
                result[key] = value if sep else None
        return result

    def __str__(self) -> str:
        return f"{self.format} {self.parameters}"


@dataclass(frozen=True, slots=True)
class ExtMap:
    """`a=extmap:<id>[/<direction>] <uri> [<attributes>]` (RFC 8285 §7)."""

    id: int
    uri: str
    direction: Direction | None = None
    attributes: str | None = None

    @classmethod
    def parse(cls, text: str) -> ExtMap:
        head, sep, rest = text.partition(" ")
        if not sep:
            raise ParseError("extmap without a URI")
        ident, slash, direction_text = head.partition("/")
        ext_id = parse_int(ident, "extmap id", 65535)
        direction = None
        if slash:
            try:
                direction = Direction(direction_text)
            except ValueError:
                raise ParseError(f"extmap: invalid direction {direction_text!r}") from None
        uri, sep, attributes = rest.partition(" ")
        check(NON_WS, uri, "extmap URI")
        return cls(ext_id, uri, direction, attributes if sep else None)

    def __str__(self) -> str:
        head = str(self.id) if self.direction is None else f"{self.id}/{self.direction}"
        tail = "" if self.attributes is None else f" {self.attributes}"
        return f"{head} {self.uri}{tail}"


@dataclass(frozen=True, slots=True)
class Ssrc:
    """`a=ssrc:<ssrc-id> <attribute>[:<value>]` (RFC 5576 §4.1)."""

    ssrc: int
    attribute: str
    value: str | None = None

    @classmethod
    def parse(cls, text: str) -> Ssrc:
        ident, sep, rest = text.partition(" ")
        if not sep:
            raise ParseError("ssrc without an attribute")
        ssrc = parse_int(ident, "ssrc id", 0xFFFFFFFF)
        name, colon, value = rest.partition(":")
        check(TOKEN, name, "ssrc attribute name")
        return cls(ssrc, name, value if colon else None)

    def __str__(self) -> str:
        tail = "" if self.value is None else f":{self.value}"
        return f"{self.ssrc} {self.attribute}{tail}"


def _require(value: str | None, name: str) -> str:
    if value is None:
        raise ParseError(f"a={name} needs a value")
    return value


def parse_ice_ufrag(value: str | None) -> str:
    """RFC 8839 §5.4: ice-ufrag = 4*256ice-char."""
    text = check(ICE_CHARS, _require(value, "ice-ufrag"), "ice-ufrag")
    if not 4 <= len(text) <= 256:
        raise ParseError(f"ice-ufrag must be 4..256 characters, got {len(text)}")
    return text


def parse_ice_pwd(value: str | None) -> str:
    """RFC 8839 §5.4: ice-pwd = 22*256ice-char."""
    text = check(ICE_CHARS, _require(value, "ice-pwd"), "ice-pwd")
    if not 22 <= len(text) <= 256:
        raise ParseError(f"ice-pwd must be 22..256 characters, got {len(text)}")
    return text


def parse_ice_options(value: str | None) -> tuple[str, ...]:
    """RFC 8839 §5.6: ice-options = ice-option-tag *(SP ice-option-tag).

    Commas are accepted as separators too: libdatachannel (used by Godot's native WebRTC
    plugin) writes `a=ice-options:ice2,trickle`.
    """
    tags: list[str] = []
    parts = _require(value, "ice-options").split()
    if not parts:
        raise ParseError("ice-options without a tag")
    for part in parts:
        for tag in part.split(","):
            tags.append(check(TOKEN, tag, "ice-option tag"))
    return tuple(tags)


def parse_setup(value: str | None) -> Setup:
    text = _require(value, "setup")
    try:
        return Setup(text)
    except ValueError:
        raise ParseError(f"invalid setup role: {text!r}") from None


def parse_mid(value: str | None) -> str:
    """RFC 5888 §4: identification-tag = token."""
    return check(TOKEN, _require(value, "mid"), "mid")


def parse_port(value: str | None) -> int:
    """RFC 8841 §5: sctp-port = 1*5DIGIT (0..65535)."""
    return parse_int(_require(value, "sctp-port"), "sctp-port", 65535)


def parse_max_message_size(value: str | None) -> int:
    """RFC 8841 §6: max-message-size = 1*DIGIT (0 = no limit)."""
    return parse_int(_require(value, "max-message-size"), "max-message-size", 2**64 - 1)


def parse_candidate(value: str | None) -> Candidate:
    return Candidate.parse_value(_require(value, "candidate"))


def parse_fingerprint(value: str | None) -> Fingerprint:
    return Fingerprint.parse(_require(value, "fingerprint"))


def parse_group(value: str | None) -> Group:
    return Group.parse(_require(value, "group"))


def parse_msid_semantic(value: str | None) -> MsidSemantic:
    return MsidSemantic.parse(_require(value, "msid-semantic"))


def parse_sctpmap(value: str | None) -> SctpMap:
    return SctpMap.parse(_require(value, "sctpmap"))


def parse_rtpmap(value: str | None) -> RtpMap:
    return RtpMap.parse(_require(value, "rtpmap"))


def parse_fmtp(value: str | None) -> Fmtp:
    return Fmtp.parse(_require(value, "fmtp"))


def parse_extmap(value: str | None) -> ExtMap:
    return ExtMap.parse(_require(value, "extmap"))


def parse_ssrc(value: str | None) -> Ssrc:
    return Ssrc.parse(_require(value, "ssrc"))


# Attributes validated by sdp.parse and add_attribute; any other attribute is kept verbatim.
VALUE_PARSERS: Mapping[str, Callable[[str | None], object]] = MappingProxyType(
    {
        "ice-ufrag": parse_ice_ufrag,
        "ice-pwd": parse_ice_pwd,
        "ice-options": parse_ice_options,
        "fingerprint": parse_fingerprint,
        "setup": parse_setup,
        "mid": parse_mid,
        "group": parse_group,
        "msid-semantic": parse_msid_semantic,
        "sctp-port": parse_port,
        "max-message-size": parse_max_message_size,
        "sctpmap": parse_sctpmap,
        "candidate": parse_candidate,
        "rtpmap": parse_rtpmap,
        "fmtp": parse_fmtp,
        "extmap": parse_extmap,
        "ssrc": parse_ssrc,
    }
)

DIRECTIONS = frozenset(d.value for d in Direction)
