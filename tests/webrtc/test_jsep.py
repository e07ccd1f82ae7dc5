"""JSEP writer and remote-description reader (RFC 8829, RFC 8841, RFC 8842, RFC 8839)."""

from __future__ import annotations

import pathlib

import pytest

import sdp
from webrtc import jsep

SAMPLES = pathlib.Path("/work/shared/samples/sdp")
FP = "sha-256 " + ":".join(["AB"] * 32)


def params(**kw: object) -> jsep.LocalParameters:
    base: dict[str, object] = dict(
        session_id=123, session_version=2, ice_ufrag="uf12", ice_pwd="p" * 24,
        fingerprint=FP, setup="actpass",
    )  # fmt: skip
    base.update(kw)
    return jsep.LocalParameters(**base)  # type: ignore[arg-type]


def test_offer_parses_with_sdp_package_and_roundtrips() -> None:
    text = jsep.write_description(params())
    desc = sdp.parse(text)
    assert str(desc) == text
    remote = jsep.parse_description("offer", text)
    assert remote.ice_ufrag == "uf12" and remote.ice_pwd == "p" * 24
    assert remote.fingerprints == [("sha-256", bytes([0xAB]) * 32)]
    assert remote.setup == "actpass" and remote.mid == "0" and remote.mline_index == 0
    assert remote.sctp_port == 5000 and remote.max_message_size == 262144
    assert not remote.legacy_sctpmap and "trickle" in remote.ice_options


def test_legacy_sctpmap_format() -> None:
    text = jsep.write_description(params(legacy_sctpmap=True, sctp_port=5001))
    assert "m=application 9 DTLS/SCTP 5001" in text and "a=sctpmap:5001 webrtc-datachannel" in text
    remote = jsep.parse_description("offer", text)
    assert remote.legacy_sctpmap and remote.sctp_port == 5001


def test_defaults_when_absent() -> None:
    text = jsep.write_description(params())
    text = text.replace("a=sctp-port:5000\r\n", "").replace("a=max-message-size:262144\r\n", "")
    remote = jsep.parse_description("answer", text.replace("a=setup:actpass\r\n", ""))
    assert remote.sctp_port == 5000  # RFC 8841 §5.2
    assert remote.max_message_size == 65536  # RFC 8841 §6.1
    assert remote.setup == "active"  # an answer without a=setup


def test_session_level_attributes_are_inherited() -> None:
    text = jsep.write_description(params())
    lines = text.split("\r\n")
    moved = [x for x in lines if x.startswith(("a=ice-ufrag", "a=ice-pwd", "a=fingerprint"))]
    rest = [x for x in lines if x not in moved]
    at = rest.index("t=0 0") + 1
    text = "\r\n".join(rest[:at] + moved + rest[at:])
    remote = jsep.parse_description("offer", text)
    assert remote.ice_ufrag == "uf12" and remote.fingerprints[0][0] == "sha-256"


@pytest.mark.parametrize("name", ["chromium_offer.sdp", "aiortc_offer.sdp"])
def test_real_offers(name: str) -> None:
    remote = jsep.parse_description("offer", (SAMPLES / name).read_text())
    assert remote.setup == "actpass" and remote.mid == "0"
    assert remote.fingerprints and remote.fingerprints[0][0] == "sha-256"
    assert remote.candidates and all(c.startswith("candidate:") for c in remote.candidates)


@pytest.mark.parametrize("name", ["chromium_answer.sdp", "aiortc_answer.sdp"])
def test_real_answers(name: str) -> None:
    remote = jsep.parse_description("answer", (SAMPLES / name).read_text())
    assert remote.setup == "active"
    assert jsep.dtls_is_client(we_offered=True, remote_setup=remote.setup) is False


def test_aiortc_answer_has_several_fingerprints_and_end_of_candidates() -> None:
    remote = jsep.parse_description("answer", (SAMPLES / "aiortc_answer.sdp").read_text())
    assert [a for a, _ in remote.fingerprints] == ["sha-256", "sha-384", "sha-512"]
    assert remote.end_of_candidates


@pytest.mark.parametrize(
    ("we_offered", "remote_setup", "client"),
    [
        (True, "active", False),
        (True, "passive", True),
        (True, "actpass", True),  # invalid in an answer; we take the client role
        (False, "actpass", True),  # RFC 8842 §5.3: the answerer SHOULD be active
        (False, "active", False),
        (False, "passive", True),
    ],
)
def test_dtls_roles(we_offered: bool, remote_setup: str, client: bool) -> None:
    assert jsep.dtls_is_client(we_offered=we_offered, remote_setup=remote_setup) is client


def test_answer_rejects_other_media_in_place() -> None:
    offer = (
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a d\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\n"
        "a=rtpmap:111 opus/48000/2\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
        "a=ice-ufrag:abcd\r\na=ice-pwd:" + "x" * 22 + "\r\na=fingerprint:" + FP + "\r\n"
        "a=setup:actpass\r\na=mid:d\r\na=sctp-port:5000\r\n"
    )
    remote = jsep.parse_description("offer", offer)
    assert remote.mid == "d" and remote.mline_index == 1
    answer = jsep.write_description(
        params(setup="active", mid="d", mline_index=1, other_sections=remote.other_sections)
    )
    media = [x for x in answer.split("\r\n") if x.startswith("m=")]
    assert media == [
        "m=audio 0 UDP/TLS/RTP/SAVPF 111",
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    ]
    assert "a=group:BUNDLE d" in answer
    sdp.parse(answer)


@pytest.mark.parametrize(
    "bad",
    [
        "sha-256 AB:CD",  # wrong length
        "sha-256",
        "sha-256 ZZ:" + ":".join(["AB"] * 31),
    ],
)
def test_bad_fingerprints(bad: str) -> None:
    with pytest.raises(jsep.JsepError):
        jsep.parse_fingerprint(bad)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.replace("a=setup:actpass", "a=setup:sideways"),
        lambda s: s.replace("a=sctp-port:5000", "a=sctp-port:0"),
        lambda s: s.replace("a=max-message-size:262144", "a=max-message-size:-1"),
        lambda s: s.replace("a=sctp-port:5000", "a=sctp-port:x"),
        lambda s: s.replace("m=application 9", "m=application 0"),  # rejected section
        lambda s: s.replace("UDP/DTLS/SCTP", "RTP/AVP"),
    ],
)
def test_invalid_remote(mutate: object) -> None:
    text = mutate(jsep.write_description(params()))  # type: ignore[operator]
    with pytest.raises(jsep.JsepError):
        jsep.parse_description("offer", text)
