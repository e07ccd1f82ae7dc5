"""SDP scenarios: the peer's offer and answer parse with our `sdp` package and carry what a
data-channel m-section needs (RFC 8866, 8841, 8839, 8842, 8122, JSEP RFC 8829)."""

from __future__ import annotations

import sdp

from ..context import Context
from ..model import Outcome, Scenario, clip

STRONG_HASHES = ("sha-256", "sha-384", "sha-512")  # RFC 8827 §6.5: at least SHA-256


def _description(ctx: Context, kind: str) -> str:
    """The peer's offer (it offers a channel) or its answer to our offer."""
    s = ctx.session()
    if kind == "offer":
        if s.scriptable:
            s.peer.create_channel("sdp", {})
        return s.peer.create_offer()
    s.tester.create_channel("sdp", {})
    offer = s.tester.create_offer()
    from ..session import rewrite_candidates

    return s.peer.accept_offer(rewrite_candidates(offer, s.proxy.address_for_b))


def _parses(ctx: Context, kind: str) -> Outcome:
    text = _description(ctx, kind)
    try:
        d = sdp.parse(text)
    except sdp.ParseError as exc:
        return Outcome.check(
            False,
            f"the peer's {kind} is valid RFC 8866 SDP",
            f"line {exc.line_number}: {exc} ({exc.line!r})",
            notes=[clip(text, 3000)],
        )
    return Outcome.check(
        True, f"the peer's {kind} is valid RFC 8866 SDP", f"{len(d.media)} media section(s)"
    )


def _attributes(ctx: Context, kind: str) -> Outcome:
    text = _description(ctx, kind)
    try:
        d = sdp.parse(text)
    except sdp.ParseError as exc:
        return Outcome.not_applicable(f"the {kind} does not parse ({exc}): see sdp.{kind}.parses")
    apps = [m for m in d.media if m.kind == "application"]
    if not apps:
        return Outcome.check(False, "an m=application section", "none", notes=[clip(text, 3000)])
    m = apps[0]
    missing = []
    if m.protocol != "UDP/DTLS/SCTP" or "webrtc-datachannel" not in m.formats:  # RFC 8841 §4
        missing.append(f"m= protocol/format ({m.protocol} {' '.join(m.formats)})")
    ufrag, pwd = d.ice_ufrag_for(m), d.ice_pwd_for(m)
    if ufrag is None or not 4 <= len(ufrag) <= 256:  # RFC 8839 §5.4
        missing.append(f"a=ice-ufrag of 4-256 characters ({ufrag!r})")
    if pwd is None or not 22 <= len(pwd) <= 256:
        missing.append("a=ice-pwd of 22-256 characters")
    fps = d.fingerprints_for(m)
    if not any(fp.algorithm in STRONG_HASHES for fp in fps):  # RFC 8122 §5, RFC 8827 §6.5
        missing.append(f"a=fingerprint with SHA-256 or stronger ({[f.algorithm for f in fps]})")
    setup = d.setup_for(m)
    allowed = ("actpass",) if kind == "offer" else ("active", "passive")  # RFC 8842 §5.2, §5.3
    if setup is None or setup.value not in allowed:
        missing.append(f"a=setup in {allowed} ({None if setup is None else setup.value})")
    if m.mid is None:  # RFC 8829 §5.2.1
        missing.append("a=mid")
    if m.sctp_port is None and m.sctpmap is None:  # RFC 8841 §5.1 (RFC 8829 §5.2.1)
        missing.append("a=sctp-port")
    notes = []
    if m.max_message_size is None:  # RFC 8841 §6.1: SHOULD
        notes.append("no a=max-message-size (SHOULD; 64 KiB is then assumed)")
    return Outcome.check(
        not missing,
        "m=application UDP/DTLS/SCTP webrtc-datachannel with ice-ufrag, ice-pwd, a SHA-256 "
        f"fingerprint, setup {'actpass' if kind == 'offer' else 'active/passive'}, mid and "
        "sctp-port",
        f"missing or wrong: {'; '.join(missing)}" if missing else "all present",
        notes=notes + ([clip(text, 3000)] if missing else []),
    )


def offer_parses(ctx: Context) -> Outcome:
    return _parses(ctx, "offer")


def answer_parses(ctx: Context) -> Outcome:
    return _parses(ctx, "answer")


def offer_attributes(ctx: Context) -> Outcome:
    return _attributes(ctx, "offer")


def answer_attributes(ctx: Context) -> Outcome:
    return _attributes(ctx, "answer")


_REQUIRED = (
    "m=application ... UDP/DTLS/SCTP webrtc-datachannel (RFC 8841 §4), a=ice-ufrag/a=ice-pwd "
    "(RFC 8839 §5.4), a=fingerprint (RFC 8122 §5), a=setup (RFC 8842 §5), a=mid (RFC 8829 "
    "§5.2.1), a=sctp-port (RFC 8841 §5.1)."
)

CATALOG = [
    Scenario(
        "sdp.offer.parses",
        "RFC 8866 §5",
        "An SDP description consists of lines of text of the form <type>=<value>, in the order "
        "the grammar gives.",
        "the peer's offer parses with our RFC 8866 parser",
        "the peer offers one data channel; pass if sdp.parse accepts it",
        offer_parses,
    ),
    Scenario(
        "sdp.answer.parses",
        "RFC 8866 §5",
        "An SDP description consists of lines of text of the form <type>=<value>.",
        "the peer's answer parses with our RFC 8866 parser",
        "we offer one data channel; pass if sdp.parse accepts the peer's answer",
        answer_parses,
    ),
    Scenario(
        "sdp.offer.attributes",
        "RFC 8841 §4-§6",
        _REQUIRED,
        "every attribute a data-channel offer needs, setup:actpass",
        "read the peer's offer's first m=application section",
        offer_attributes,
    ),
    Scenario(
        "sdp.answer.attributes",
        "RFC 8841 §4-§6",
        _REQUIRED,
        "every attribute a data-channel answer needs, setup:active or passive",
        "read the peer's answer's first m=application section",
        answer_attributes,
    ),
]
