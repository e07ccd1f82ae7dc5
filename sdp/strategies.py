"""Hypothesis strategies for WebRTC session descriptions (needs `pip install '.[testing]'`).

Valid by default, in the shapes the common stacks write (`FLAVORS`: Chromium, Firefox, aiortc,
libdatachannel; the samples in shared/samples/sdp): `candidates()`, `candidate_lines()`,
`attributes()`, `description_texts()`, `descriptions()`. Near-valid mutations, each of which
`sdp.parse` / `sdp.Candidate.parse` must reject with `sdp.ParseError`:
`mutated_description_texts()` and `mutated_candidate_lines()` (one field out of range, a line
truncated, a wrong-length digest). Everything shrinks towards short, readable values (small
numbers, short ufrags, the first flavor).

Not imported by `sdp/__init__`: the package works without hypothesis.
"""

from __future__ import annotations

import string

from hypothesis import strategies as st

from .attributes import Attribute, Fingerprint
from .candidate import Candidate
from .description import SessionDescription, parse

__all__ = [
    "FLAVORS",
    "MUTATIONS",
    "attributes",
    "candidate_lines",
    "candidates",
    "description_texts",
    "descriptions",
    "fingerprints",
    "ice_pwds",
    "ice_ufrags",
    "mutated_candidate_lines",
    "mutated_description_texts",
]

FLAVORS = ("chromium", "firefox", "aiortc", "libdatachannel")
# RFC 8839 §5.4 ice-char = ALPHA / DIGIT / "+" / "/"
_ICE_CHARS = string.ascii_letters + string.digits + "+/"
_DIGESTS = {"sha-1": 20, "sha-256": 32, "sha-384": 48, "sha-512": 64}
_EXTENSIONS = ("generation", "network-id", "network-cost", "ufrag")
MUTATIONS = (
    "m-port",
    "sctp-port",
    "max-message-size",
    "candidate-port",
    "candidate-priority",
    "candidate-truncated",
    "fingerprint-length",
    "timing-truncated",
    "version",
    "setup",
)


def ice_ufrags() -> st.SearchStrategy[str]:
    """ice-ufrag values (RFC 8839 §5.4: 4-256 ice-chars)."""
    return st.text(_ICE_CHARS, min_size=4, max_size=32)


def ice_pwds() -> st.SearchStrategy[str]:
    """ice-pwd values (RFC 8839 §5.4: 22-256 ice-chars)."""
    return st.text(_ICE_CHARS, min_size=22, max_size=64)


def fingerprints(algorithms: tuple[str, ...] = ("sha-256",)) -> st.SearchStrategy[Fingerprint]:
    """Certificate fingerprints (RFC 8122 §5) with the right digest length per algorithm."""
    return st.sampled_from(algorithms).flatmap(
        lambda alg: st.binary(min_size=_DIGESTS[alg], max_size=_DIGESTS[alg]).map(
            lambda digest: Fingerprint(alg, digest)
        )
    )


def _ipv4() -> st.SearchStrategy[str]:
    return st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))


def _ipv6() -> st.SearchStrategy[str]:
    return st.lists(st.integers(0, 0xFFFF), min_size=8, max_size=8).map(
        lambda g: ":".join(f"{x:x}" for x in g)
    )


def _uuid4_text(n: int) -> str:
    time_low, time_mid = n >> 90, (n >> 74) & 0xFFFF
    hi, var, seq, node = (n >> 62) & 0xFFF, 8 | ((n >> 60) & 3), (n >> 48) & 0xFFF, n & (2**48 - 1)
    return f"{time_low:08x}-{time_mid:04x}-4{hi:03x}-{var:x}{seq:03x}-{node:012x}"


def _mdns() -> st.SearchStrategy[str]:
    """`<uuid>.local` names as browsers write them (version 4 UUIDs; shrink to all zeros)."""
    return st.integers(0, 2**122 - 1).map(lambda n: f"{_uuid4_text(n)}.local")


def _addresses() -> st.SearchStrategy[str]:
    return st.sampled_from((_ipv4, _ipv6, _mdns)).flatmap(lambda make: make())


@st.composite
def candidates(draw: st.DrawFn, flavor: str | None = None) -> Candidate:
    """ICE candidates (RFC 8839 §5.1): host/srflx/prflx/relay, UDP or TCP, IPv4/IPv6/mDNS,
    with the extensions browsers add (generation, network-id, network-cost, ufrag)."""
    ctype = draw(st.sampled_from(("host", "srflx", "prflx", "relay")))
    tcp = draw(st.booleans()) if flavor != "aiortc" else False
    related = ctype != "host"
    ext_names = draw(st.lists(st.sampled_from(_EXTENSIONS), unique=True, max_size=3))
    extensions = []
    for name in ext_names:
        if name == "ufrag":
            extensions.append((name, draw(ice_ufrags())))
        else:
            extensions.append((name, str(draw(st.integers(0, 999)))))
    return Candidate(
        foundation=draw(st.text(_ICE_CHARS, min_size=1, max_size=32)),
        component=draw(st.sampled_from((1, 2))),
        transport="tcp" if tcp else "udp",
        priority=draw(st.integers(0, 2**32 - 1)),
        address=draw(_addresses()),
        port=draw(st.integers(0 if tcp else 1, 65535)),
        type=ctype,
        related_address=draw(_ipv4()) if related else None,
        related_port=draw(st.integers(0, 65535)) if related else None,
        tcptype=draw(st.sampled_from(("active", "passive", "so"))) if tcp else None,
        extensions=tuple(extensions),
    )


def candidate_lines(flavor: str | None = None) -> st.SearchStrategy[str]:
    """`candidate:...` strings as written in SDP and in trickled candidates."""
    return candidates(flavor).map(str)


def attributes() -> st.SearchStrategy[Attribute]:
    """The attributes of a WebRTC data-channel media section, each valid on its own."""
    return st.one_of(
        ice_ufrags().map(lambda v: Attribute("ice-ufrag", v)),
        ice_pwds().map(lambda v: Attribute("ice-pwd", v)),
        st.sampled_from(("trickle", "ice2", "trickle ice2")).map(
            lambda v: Attribute("ice-options", v)
        ),
        fingerprints(tuple(_DIGESTS)).map(lambda f: Attribute("fingerprint", str(f))),
        st.sampled_from(("actpass", "active", "passive")).map(lambda v: Attribute("setup", v)),
        st.text(string.ascii_letters + string.digits, min_size=1, max_size=8).map(
            lambda v: Attribute("mid", v)
        ),
        st.integers(1, 65535).map(lambda v: Attribute("sctp-port", str(v))),
        st.integers(0, 2**31 - 1).map(lambda v: Attribute("max-message-size", str(v))),
        candidate_lines().map(lambda v: Attribute("candidate", v.removeprefix("candidate:"))),
        st.just(Attribute("end-of-candidates", None)),
    )


def _fp_lines(draw: st.DrawFn, algorithms: tuple[str, ...]) -> list[str]:
    return [f"a=fingerprint:{draw(fingerprints((alg,)))}" for alg in algorithms]


@st.composite
def description_texts(draw: st.DrawFn, flavor: str | None = None, kind: str | None = None) -> str:
    """A whole data-channel offer or answer (CRLF text) as `flavor` writes it (drawn if None)."""
    flavor = flavor or draw(st.sampled_from(FLAVORS))
    kind = kind or draw(st.sampled_from(("offer", "answer")))
    setup = "actpass" if kind == "offer" else draw(st.sampled_from(("active", "passive")))
    ufrag, pwd = draw(ice_ufrags()), draw(ice_pwds())
    sess_id = draw(st.integers(0, 2**62))
    mid = draw(st.sampled_from(("0", "data", "1")))
    mms = draw(st.sampled_from((262144, 65536, 1073741823, 0)))
    cands = [str(c) for c in draw(st.lists(candidates(flavor), max_size=3))]
    eoc = draw(st.booleans())
    app = "m=application 9 UDP/DTLS/SCTP webrtc-datachannel"
    lines: list[str]
    if flavor == "chromium":
        lines = [
            "v=0",
            f"o=- {sess_id} 2 IN IP4 127.0.0.1",
            "s=-",
            "t=0 0",
            f"a=group:BUNDLE {mid}",
            "a=extmap-allow-mixed",
            "a=msid-semantic: WMS",
            app,
            "c=IN IP4 0.0.0.0",
            *(f"a={c}" for c in cands),
            f"a=ice-ufrag:{ufrag}",
            f"a=ice-pwd:{pwd}",
            "a=ice-options:trickle",
            *_fp_lines(draw, ("sha-256",)),
            f"a=setup:{setup}",
            f"a=mid:{mid}",
            "a=sctp-port:5000",
            f"a=max-message-size:{mms}",
        ]
    elif flavor == "firefox":
        lines = [
            "v=0",
            f"o=mozilla...THIS_IS_SDPARTA-99.0 {sess_id} 0 IN IP4 0.0.0.0",
            "s=-",
            "t=0 0",
            *_fp_lines(draw, ("sha-256",)),
            f"a=group:BUNDLE {mid}",
            "a=ice-options:trickle",
            "a=msid-semantic:WMS *",
            app,
            "c=IN IP4 0.0.0.0",
            *(f"a={c}" for c in cands),
            *(["a=end-of-candidates"] if eoc else []),
            "a=sendrecv",
            f"a=ice-pwd:{pwd}",
            f"a=ice-ufrag:{ufrag}",
            f"a=mid:{mid}",
            f"a=setup:{setup}",
            "a=sctp-port:5000",
            f"a=max-message-size:{mms}",
        ]
    elif flavor == "aiortc":
        port = draw(st.integers(1, 65535))
        lines = [
            "v=0",
            f"o=- {sess_id} {sess_id} IN IP4 0.0.0.0",
            "s=-",
            "t=0 0",
            f"a=group:BUNDLE {mid}",
            "a=msid-semantic:WMS *",
            f"m=application {port} UDP/DTLS/SCTP webrtc-datachannel",
            f"c=IN IP4 {draw(_ipv4())}",
            f"a=mid:{mid}",
            "a=sctp-port:5000",
            f"a=max-message-size:{mms}",
            *(f"a={c}" for c in cands),
            *(["a=end-of-candidates"] if eoc else []),
            f"a=ice-ufrag:{ufrag}",
            f"a=ice-pwd:{pwd}",
            *_fp_lines(draw, ("sha-256", "sha-384", "sha-512")),
            f"a=setup:{setup}",
        ]
    elif flavor == "libdatachannel":
        lines = [
            "v=0",
            f"o=rtc {sess_id} 0 IN IP4 127.0.0.1",
            "s=-",
            "t=0 0",
            f"a=group:BUNDLE {mid}",
            "a=msid-semantic:WMS *",
            f"a=setup:{setup}",
            f"a=ice-ufrag:{ufrag}",
            f"a=ice-pwd:{pwd}",
            "a=ice-options:ice2,trickle",
            *_fp_lines(draw, ("sha-256",)),
            app,
            "c=IN IP4 0.0.0.0",
            f"a=mid:{mid}",
            "a=sendrecv",
            "a=sctp-port:5000",
            f"a=max-message-size:{mms}",
            *(f"a={c}" for c in cands),
            *(["a=end-of-candidates"] if eoc else []),
        ]
    else:
        raise ValueError(f"unknown flavor {flavor!r} (one of {FLAVORS})")
    return "\r\n".join(lines) + "\r\n"


def descriptions(
    flavor: str | None = None, kind: str | None = None
) -> st.SearchStrategy[SessionDescription]:
    """`description_texts()` parsed into `sdp.SessionDescription`s."""
    return description_texts(flavor, kind).map(parse)


@st.composite
def mutated_description_texts(
    draw: st.DrawFn, flavor: str | None = None, mutation: str | None = None
) -> str:
    """A valid description with one near-valid defect (`MUTATIONS`); `sdp.parse` must raise
    `sdp.ParseError` for every one."""
    text = draw(description_texts(flavor))
    kinds = [mutation] if mutation else list(MUTATIONS)
    if "candidate:" not in text:
        kinds = [k for k in kinds if not k.startswith("candidate")] or ["m-port"]
    kind = draw(st.sampled_from(kinds))
    big = draw(st.integers(65536, 99999))
    lines = text.split("\r\n")

    def edit(prefix: str, fn: object) -> str:
        for i, line in enumerate(lines):
            if line.startswith(prefix):
                lines[i] = fn(line)  # type: ignore[operator]
                return "\r\n".join(lines)
        raise AssertionError(f"no {prefix} line")  # the flavors above always have these

    if kind == "m-port":
        return edit("m=application ", lambda ln: f"m=application {big} " + ln.split(" ", 2)[2])
    if kind == "sctp-port":
        return edit("a=sctp-port:", lambda ln: f"a=sctp-port:{big}")
    if kind == "max-message-size":
        neg = draw(st.integers(-999, -1))
        return edit("a=max-message-size:", lambda ln: f"a=max-message-size:{neg}")
    if kind == "candidate-port":
        return edit(
            "a=candidate:",
            lambda ln: " ".join((f if i != 5 else str(big)) for i, f in enumerate(ln.split(" "))),
        )
    if kind == "candidate-priority":
        prio = draw(st.integers(2**32, 2**40))
        return edit(
            "a=candidate:",
            lambda ln: " ".join((f if i != 3 else str(prio)) for i, f in enumerate(ln.split(" "))),
        )
    if kind == "candidate-truncated":
        keep = draw(st.integers(1, 7))
        return edit("a=candidate:", lambda ln: " ".join(ln.split(" ")[:keep]))
    if kind == "fingerprint-length":
        return edit("a=fingerprint:", lambda ln: ln[:-3])  # one digest byte short
    if kind == "timing-truncated":
        return edit("t=", lambda ln: "t=0")
    if kind == "version":
        v = draw(st.integers(1, 9))
        return edit("v=", lambda ln: f"v={v}")
    if kind == "setup":
        bogus = draw(st.sampled_from(("bogus", "act pass", "ACTIVE!", "")))
        return edit("a=setup:", lambda ln: f"a=setup:{bogus}")
    raise ValueError(f"unknown mutation {kind!r} (one of {MUTATIONS})")


@st.composite
def mutated_candidate_lines(draw: st.DrawFn) -> str:
    """A valid `candidate:` line with one defect; `sdp.Candidate.parse` must raise ParseError."""
    fields = draw(candidate_lines()).split(" ")
    kind = draw(st.sampled_from(("port", "priority", "truncated", "typ", "rport")))
    if kind == "port":
        fields[5] = str(draw(st.integers(65536, 99999)))
    elif kind == "priority":
        fields[3] = str(draw(st.integers(2**32, 2**40)))
    elif kind == "truncated":
        fields = fields[: draw(st.integers(1, 7))]
    elif kind == "typ":
        fields[6] = draw(st.sampled_from(("type", "ty", "TYP?")))
    else:
        fields[6:] = [
            "typ",
            "srflx",
            "raddr",
            "192.0.2.1",
            "rport",
            str(draw(st.integers(65536, 99999))),
        ]
    return " ".join(fields)
