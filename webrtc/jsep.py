"""JSEP for one data-channel m-section: write offers/answers, read and validate remote ones.

RFC 8829 (JSEP) §5.2/§5.3 (offer/answer generation), RFC 8841 (SCTP over DTLS in SDP:
`UDP/DTLS/SCTP webrtc-datachannel`, a=sctp-port, a=max-message-size), RFC 8842 (a=setup for
DTLS), RFC 8839 (ICE in SDP: ice-ufrag/pwd/options, candidates), RFC 8843 (BUNDLE),
RFC 8122 (a=fingerprint). The remote text is first checked by `sdp.parse`; the fields WebRTC
needs are then read from the m-section (media-level attributes override session-level ones).
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field

import sdp

DEFAULT_SCTP_PORT = 5000  # RFC 8841 §5.2: a=sctp-port absent -> 5000
DEFAULT_REMOTE_MAX_MESSAGE_SIZE = 65536  # RFC 8841 §6.1: a=max-message-size absent -> 64 KiB
LOCAL_MAX_MESSAGE_SIZE = 262144
# Our own extension attribute: the largest DTLS record plaintext (= SCTP packet, RFC 8261) this
# end accepts in one datagram. Third-party stacks accept less than TLS's 2^14 default in practice
# (aiortc reads 1500 bytes per datagram, libwebrtc 2048), so bigger packets are sent only to peers
# that declare it, and then only after RFC 8899 PLPMTUD has proven the path.
RECORD_SIZE_LIMIT_ATTRIBUTE = "x-dtls-record-size-limit"
LOCAL_RECORD_SIZE_LIMIT = 16384  # RFC 6347 §4.1 / RFC 5246 §6.2.1: 2^14, our receive limit
HASH_SIZES = {"sha-1": 20, "sha-224": 28, "sha-256": 32, "sha-384": 48, "sha-512": 64}


class JsepError(ValueError):
    """A remote description that does not parse or lacks what WebRTC needs."""


@dataclass
class RemoteDescription:
    """What `webrtc` uses from a remote offer/answer."""

    sdp_type: str
    mid: str
    mline_index: int
    ice_ufrag: str
    ice_pwd: str
    fingerprints: list[tuple[str, bytes]]
    setup: str  # "actpass" | "active" | "passive" | "holdconn"
    sctp_port: int
    max_message_size: int  # 0 = unlimited (RFC 8841 §6.1)
    legacy_sctpmap: bool  # old "DTLS/SCTP 5000" + a=sctpmap format (draft-ietf-mmusic-sctp-sdp-05)
    candidates: list[str] = field(default_factory=list)  # "candidate:..." values
    end_of_candidates: bool = False
    ice_lite: bool = False
    ice_options: tuple[str, ...] = ()
    record_size_limit: int = 0  # a=x-dtls-record-size-limit; 0 = not declared
    # Other m-sections (media, proto, fmt, mid) that an answer must reject (port 0). RFC 8829 §5.3.1
    other_sections: list[tuple[int, str, str, str, str]] = field(default_factory=list)


@dataclass
class LocalParameters:
    """What we put into our own description."""

    session_id: int
    session_version: int
    ice_ufrag: str
    ice_pwd: str
    fingerprint: str  # "sha-256 AB:CD:..."
    setup: str
    mid: str = "0"
    sctp_port: int = DEFAULT_SCTP_PORT
    max_message_size: int = LOCAL_MAX_MESSAGE_SIZE
    legacy_sctpmap: bool = False
    record_size_limit: int = 0  # 0 = do not declare a=x-dtls-record-size-limit
    mline_index: int = 0  # position of the data section (an answer mirrors the offer's)
    other_sections: list[tuple[int, str, str, str, str]] = field(default_factory=list)


def write_description(params: LocalParameters) -> str:
    """An offer (setup:actpass) or answer for one application m-section, CRLF text."""
    sections: list[tuple[int, list[str]]] = []
    data_lines = []
    if params.legacy_sctpmap:
        data_lines.append(f"m=application 9 DTLS/SCTP {params.sctp_port}")
    else:
        data_lines.append("m=application 9 UDP/DTLS/SCTP webrtc-datachannel")
    data_lines += [
        "c=IN IP4 0.0.0.0",
        f"a=ice-ufrag:{params.ice_ufrag}",
        f"a=ice-pwd:{params.ice_pwd}",
        "a=ice-options:trickle",
        f"a=fingerprint:{params.fingerprint}",
        f"a=setup:{params.setup}",
        f"a=mid:{params.mid}",
    ]
    if params.legacy_sctpmap:
        data_lines.append(f"a=sctpmap:{params.sctp_port} webrtc-datachannel 1024")
    else:
        data_lines.append(f"a=sctp-port:{params.sctp_port}")
    data_lines.append(f"a=max-message-size:{params.max_message_size}")
    if params.record_size_limit:
        data_lines.append(f"a={RECORD_SIZE_LIMIT_ATTRIBUTE}:{params.record_size_limit}")
    for index, media, proto, fmt, mid in params.other_sections:
        # RFC 8829 §5.3.1: a rejected m-section keeps its place with port 0.
        lines = [f"m={media} 0 {proto} {fmt}", "c=IN IP4 0.0.0.0"]
        if mid:
            lines.append(f"a=mid:{mid}")
        sections.append((index, lines))
    sections.append((params.mline_index, data_lines))
    sections.sort(key=lambda s: s[0])
    lines = [
        "v=0",
        f"o=- {params.session_id} {params.session_version} IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        f"a=group:BUNDLE {params.mid}",
        "a=msid-semantic: WMS",
    ]
    for _, section in sections:
        lines += section
    return "\r\n".join(lines) + "\r\n"


def parse_fingerprint(value: str) -> tuple[str, bytes]:
    """`sha-256 AB:CD:...` -> ("sha-256", bytes); RFC 8122 §5."""
    parts = value.split()
    if len(parts) != 2:
        raise JsepError(f"bad fingerprint: {value!r}")
    algorithm = parts[0].lower()
    try:
        digest = binascii.unhexlify(parts[1].replace(":", ""))
    except (binascii.Error, ValueError) as exc:
        raise JsepError(f"bad fingerprint: {value!r}") from exc
    expected = HASH_SIZES.get(algorithm)
    if expected is not None and len(digest) != expected:
        raise JsepError(f"fingerprint has {len(digest)} bytes, {algorithm} needs {expected}")
    return algorithm, digest


def _attribute(line: str) -> tuple[str, str]:
    body = line[2:]
    name, _, value = body.partition(":")
    return name.strip().lower(), value.strip()


def parse_description(sdp_type: str, text: str) -> RemoteDescription:
    """Validate a remote description and extract the data-channel m-section. Raises JsepError."""
    try:
        sdp.parse(text)
    except sdp.ParseError as exc:
        raise JsepError(f"SDP does not parse: {exc}") from exc
    session: list[tuple[str, str]] = []
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        if line[0] == "m":
            sections.append((line[2:], []))
        elif line[0] == "a":
            (sections[-1][1] if sections else session).append(_attribute(line))
    data: tuple[int, list[str], list[tuple[str, str]]] | None = None
    others: list[tuple[int, str, str, str, str]] = []
    for index, (mline, attrs) in enumerate(sections):
        words = mline.split()
        if len(words) < 4:
            raise JsepError(f"bad m= line: {mline!r}")
        media, port, proto = words[0], words[1], words[2]
        mid = next((v for k, v in attrs if k == "mid"), "")
        is_data = media == "application" and "SCTP" in proto.upper() and "DTLS" in proto.upper()
        if is_data and data is None and port != "0":
            data = (index, words, attrs)
        else:
            others.append((index, media, proto, " ".join(words[3:]), mid))
    if data is None:
        raise JsepError("no usable m=application DTLS/SCTP section")
    index, words, attrs = data

    def get(name: str) -> str | None:
        for k, v in attrs:
            if k == name:
                return v
        for k, v in session:
            if k == name:
                return v
        return None

    ufrag, pwd = get("ice-ufrag"), get("ice-pwd")
    if not ufrag or not pwd:
        raise JsepError("missing a=ice-ufrag or a=ice-pwd")  # RFC 8839 §5.4
    fingerprints = [parse_fingerprint(v) for k, v in attrs if k == "fingerprint"]
    if not fingerprints:
        fingerprints = [parse_fingerprint(v) for k, v in session if k == "fingerprint"]
    if not fingerprints:
        raise JsepError("missing a=fingerprint")  # RFC 8842 §5.1
    setup = (get("setup") or ("actpass" if sdp_type == "offer" else "active")).lower()
    if setup not in ("actpass", "active", "passive", "holdconn"):
        raise JsepError(f"bad a=setup:{setup}")
    legacy = words[2].upper() == "DTLS/SCTP"
    sctp_port = DEFAULT_SCTP_PORT
    try:
        if legacy:
            sctp_port = int(words[3])
            sctpmap = get("sctpmap")
            if sctpmap:
                sctp_port = int(sctpmap.split()[0])
        elif get("sctp-port") is not None:
            sctp_port = int(get("sctp-port") or "")
        mms_text = get("max-message-size")
        max_message_size = (
            int(mms_text) if mms_text is not None else DEFAULT_REMOTE_MAX_MESSAGE_SIZE
        )
    except (ValueError, IndexError) as exc:
        raise JsepError("bad sctp-port/sctpmap/max-message-size") from exc
    if not 0 < sctp_port < 65536 or max_message_size < 0:
        raise JsepError("sctp-port or max-message-size out of range")
    candidates = ["candidate:" + v for k, v in attrs if k == "candidate"]
    limit_text = get(RECORD_SIZE_LIMIT_ATTRIBUTE) or ""
    # An unreadable or out-of-range extension value is ignored, never fatal: it is only a hint.
    record_size_limit = (
        int(limit_text)
        if limit_text.isascii() and limit_text.isdigit() and len(limit_text) < 7
        else 0
    )
    options = tuple((get("ice-options") or "").split())
    return RemoteDescription(
        sdp_type=sdp_type,
        mid=next((v for k, v in attrs if k == "mid"), ""),
        mline_index=index,
        ice_ufrag=ufrag,
        ice_pwd=pwd,
        fingerprints=fingerprints,
        setup=setup,
        sctp_port=sctp_port,
        max_message_size=max_message_size,
        legacy_sctpmap=legacy,
        candidates=candidates,
        end_of_candidates=any(k == "end-of-candidates" for k, _ in attrs),
        ice_lite=any(k == "ice-lite" for k, _ in session),
        ice_options=options,
        record_size_limit=record_size_limit,
        other_sections=others,
    )


def local_ufrag(text: str) -> str | None:
    """The a=ice-ufrag of a description (to recognise our own when it is applied back)."""
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if line.startswith("a=ice-ufrag:"):
            return line[len("a=ice-ufrag:") :].strip()
    return None


def dtls_is_client(*, we_offered: bool, remote_setup: str) -> bool:
    """Our DTLS role from the negotiated a=setup (RFC 8842 §5.2/§5.3; active = client)."""
    if we_offered:
        # Our offer said actpass; the answer picks. actpass in an answer is invalid: take client.
        return remote_setup in ("passive", "actpass")
    # Answering: actpass -> we are active (RFC 8842 §5.3: answerer SHOULD choose active).
    return remote_setup != "active"
