"""ICE candidate attribute (RFC 8839 §5.1, RFC 6544 §4.5 tcptype)."""

from __future__ import annotations

from dataclasses import dataclass

from ._grammar import ICE_CHARS, NON_WS, TOKEN, VCHARS, check, fields, parse_int
from .errors import ParseError

_PREFIX = "candidate:"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One `a=candidate` value.

    `address` is an IP literal or a host name (e.g. an mDNS `<uuid>.local` name). Extension
    pairs after `typ`/`raddr`/`rport`/`tcptype` are kept in order in `extensions`
    (e.g. `("generation", "0"), ("network-cost", "999")`).
    """

    foundation: str
    component: int
    transport: str
    priority: int
    address: str
    port: int
    type: str
    related_address: str | None = None
    related_port: int | None = None
    tcptype: str | None = None
    extensions: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> Candidate:
        """Parse `a=candidate:...`, `candidate:...` or the bare value; raises ParseError."""
        if not isinstance(text, str):
            raise ParseError("candidate must be a str")
        if text.startswith("a="):
            text = text[2:]
        if text.startswith(_PREFIX):
            text = text[len(_PREFIX) :]
        return cls.parse_value(text)

    @classmethod
    def parse_value(cls, text: str) -> Candidate:
        """Parse exactly the attribute value (no `candidate:` prefix); raises ParseError."""
        parts = fields(text, "candidate", minimum=8)
        foundation, component, transport, priority, address, port, typ, cand_type = parts[:8]
        # RFC 8839 §5.1: foundation = 1*32ice-char, component-id = 1*3DIGIT
        if len(foundation) > 32:
            raise ParseError(f"candidate foundation longer than 32 characters: {foundation!r}")
        check(ICE_CHARS, foundation, "candidate foundation")
        if len(component) > 3:
            raise ParseError(f"candidate component-id longer than 3 digits: {component!r}")
        component_id = parse_int(component, "candidate component-id", 999)
        check(TOKEN, transport, "candidate transport")
        # RFC 8839 §5.1: priority = 1*10DIGIT (a 32-bit value, RFC 8445 §5.1.2)
        priority_value = parse_int(priority, "candidate priority", 0xFFFFFFFF)
        check(NON_WS, address, "candidate connection-address")
        port_value = parse_int(port, "candidate port", 65535)
        if typ != "typ":
            raise ParseError(f"candidate: expected 'typ', got {typ!r}")
        check(TOKEN, cand_type, "candidate type")
        rest = parts[8:]
        index = 0
        related_address: str | None = None
        related_port: int | None = None
        tcptype: str | None = None
        if rest[index : index + 1] == ["raddr"]:
            if len(rest) < index + 2:
                raise ParseError("candidate: 'raddr' without an address")
            related_address = check(NON_WS, rest[index + 1], "candidate raddr")
            index += 2
        if rest[index : index + 1] == ["rport"]:
            if len(rest) < index + 2:
                raise ParseError("candidate: 'rport' without a port")
            related_port = parse_int(rest[index + 1], "candidate rport", 65535)
            index += 2
        # RFC 6544 §4.5: tcp-type-ext = "tcptype" SP tcp-type
        if rest[index : index + 1] == ["tcptype"]:
            if len(rest) < index + 2:
                raise ParseError("candidate: 'tcptype' without a value")
            tcptype = check(TOKEN, rest[index + 1], "candidate tcptype")
            index += 2
        rest = rest[index:]
        if len(rest) % 2:
            raise ParseError(f"candidate: extension {rest[-1]!r} has no value")
        extensions = tuple(
            (
                check(TOKEN, rest[i], "candidate extension name"),
                check(VCHARS, rest[i + 1], "candidate extension value"),
            )
            for i in range(0, len(rest), 2)
        )
        return cls(
            foundation=foundation,
            component=component_id,
            transport=transport,
            priority=priority_value,
            address=address,
            port=port_value,
            type=cand_type,
            related_address=related_address,
            related_port=related_port,
            tcptype=tcptype,
            extensions=extensions,
        )

    def value(self) -> str:
        """The attribute value (what follows `a=candidate:`)."""
        parts = [
            self.foundation,
            str(self.component),
            self.transport,
            str(self.priority),
            self.address,
            str(self.port),
            "typ",
            self.type,
        ]
        if self.related_address is not None:
            parts += ("raddr", self.related_address)
        if self.related_port is not None:
            parts += ("rport", str(self.related_port))
        if self.tcptype is not None:
            parts += ("tcptype", self.tcptype)
        for name, value in self.extensions:
            parts += (name, value)
        return " ".join(parts)

    def to_sdp(self) -> str:
        """`candidate:<value>` (no `a=`), the form used for trickled candidates."""
        return _PREFIX + self.value()

    def __str__(self) -> str:
        return self.to_sdp()

    def extension(self, name: str) -> str | None:
        """Value of the first extension pair called `name` (e.g. "ufrag"), or None."""
        for key, value in self.extensions:
            if key == name:
                return value
        return None

    @property
    def is_mdns(self) -> bool:
        """True when the address is an mDNS `.local` host name rather than an IP literal."""
        return self.address.lower().endswith(".local")
