"""Real SDP from Chromium and aiortc: byte-identical round trip and typed values."""

from __future__ import annotations

from pathlib import Path

import pytest

import sdp

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sdp"
SAMPLES = sorted(FIXTURES.glob("*.sdp"))


def _load(name: str) -> sdp.SessionDescription:
    return sdp.parse((FIXTURES / name).read_bytes())


def test_all_shared_samples_copied() -> None:
    shared = Path("/work/shared/samples/sdp")
    if shared.is_dir():
        for sample in shared.glob("*.sdp"):
            assert (FIXTURES / sample.name).read_bytes() == sample.read_bytes()
    assert len(SAMPLES) >= 4


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_round_trip_bytes_identical(path: Path) -> None:
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n")
    assert str(sdp.parse(raw)).encode() == raw
    assert sdp.parse(raw.decode()).to_sdp() == raw.decode()


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_lf_only_input_written_as_crlf(path: Path) -> None:
    raw = path.read_bytes().decode()
    lf_only = raw.replace("\r\n", "\n")
    assert str(sdp.parse(lf_only)) == raw
    assert sdp.parse(lf_only) == sdp.parse(raw)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_common_data_channel_shape(path: Path) -> None:
    description = sdp.parse(path.read_bytes())
    assert description.version == 0
    assert description.name == "-"
    assert description.times == [sdp.Timing(0, 0)]
    assert description.bundle_groups == [("0",)]
    assert len(description.media) == 1
    media = description.media[0]
    assert (media.kind, media.protocol, media.formats) == (
        "application",
        "UDP/DTLS/SCTP",
        ["webrtc-datachannel"],
    )
    assert media.mid == "0"
    assert media.sctp_port == 5000
    assert media.max_message_size == 262144
    assert description.media_by_mid("0") is media
    assert media.sctpmap is None
    for candidate in media.candidates:
        assert candidate.component == 1 and candidate.transport == "udp"
        assert candidate.type == "host"


def test_chromium_offer_typed_values() -> None:
    description = _load("chromium_offer.sdp")
    assert description.origin == sdp.Origin("-", 1276225121399333390, 2, "IN", "IP4", "127.0.0.1")
    assert description.has("extmap-allow-mixed")
    assert description.msid_semantic == sdp.MsidSemantic("WMS")
    assert description.value("msid-semantic") == " WMS"
    media = description.media[0]
    assert media.port == 9
    assert media.connection == sdp.Connection("IN", "IP4", "0.0.0.0")
    assert media.ice_ufrag == "vtP4"
    assert media.ice_pwd == "KH+FhpW+M3nBmqk22pg/mHFe"
    assert media.ice_options == ("trickle",)
    assert media.setup is sdp.Setup.ACTPASS
    assert media.fingerprints == [
        sdp.Fingerprint(
            "sha-256",
            bytes.fromhex("31E86753880447491EF10A2C2D2C168B010CA5B718BE9C8CC75A7EA082410C14"),
        )
    ]
    assert media.candidates == [
        sdp.Candidate(
            "1549179194",
            1,
            "udp",
            2113937151,
            "c48ce8d0-039c-4f1b-a521-bc308680c230.local",
            37176,
            "host",
            extensions=(("generation", "0"), ("network-cost", "999")),
        ),
        sdp.Candidate(
            "1529148810",
            1,
            "udp",
            2113942271,
            "d20aa29f-210c-4822-9e1b-ea0eab241502.local",
            49503,
            "host",
            extensions=(("generation", "0"), ("network-cost", "999")),
        ),
    ]
    assert all(c.is_mdns for c in media.candidates)
    assert not media.end_of_candidates
    # Session level has none of these: the *_for helpers fall back to nothing.
    assert description.ice_ufrag is None and description.fingerprints == []
    assert description.ice_ufrag_for(0) == "vtP4"
    assert description.setup_for(media) is sdp.Setup.ACTPASS
    assert description.direction_for(media) is sdp.Direction.SENDRECV


def test_chromium_answer_typed_values() -> None:
    description = _load("chromium_answer.sdp")
    media = description.media[0]
    assert media.ice_ufrag == "jDLw"
    assert media.ice_pwd == "A8P00GavVFhxGdApF3c/xmom"
    assert media.setup is sdp.Setup.ACTIVE
    assert media.fingerprints[0].value == bytes.fromhex(
        "A11B36A6E95E8324EF2AD9F95D56F32A9ACC10A2F7B475CDCEAC9E7BB6BCA728"
    )
    assert [c.port for c in media.candidates] == [49519, 35830]
    assert [c.extension("network-cost") for c in media.candidates] == ["999", "999"]
    assert not description.has("extmap-allow-mixed")


@pytest.mark.parametrize(
    ("name", "ufrag", "pwd", "setup", "port", "sha256"),
    [
        (
            "aiortc_offer.sdp",
            "RHC8",
            "gj909ukTdA7Z5rkpedn6V8",
            sdp.Setup.ACTPASS,
            41646,
            "64425F79611B0D46A73B3D1879F0D489A38EFEBD8337CB8BD29B80F23D687A1F",
        ),
        (
            "aiortc_answer.sdp",
            "8ZS1",
            "HCqgzjZGniiSEMx7C1xeTD",
            sdp.Setup.ACTIVE,
            46305,
            "C853BBECD12F766CF0D173ED4196EE378FA9E3CF6535CBC849139AF18257EE28",
        ),
    ],
)
def test_aiortc_typed_values(
    name: str, ufrag: str, pwd: str, setup: sdp.Setup, port: int, sha256: str
) -> None:
    description = _load(name)
    assert description.msid_semantic == sdp.MsidSemantic("WMS", ("*",))
    media = description.media[0]
    assert media.port == port
    assert media.connection == sdp.Connection("IN", "IP4", "192.0.2.2")
    assert media.ice_ufrag == ufrag and media.ice_pwd == pwd
    assert media.ice_options == ()
    assert media.setup is setup
    fingerprints = media.fingerprints
    assert [f.algorithm for f in fingerprints] == ["sha-256", "sha-384", "sha-512"]
    assert [len(f.value) for f in fingerprints] == [32, 48, 64]
    assert fingerprints[0].value == bytes.fromhex(sha256)
    candidates = media.candidates
    assert [c.address for c in candidates] == ["192.0.2.2", "fd00::2"]
    assert candidates[0].port == port
    assert candidates[0].priority == 2130706431
    assert len(candidates[0].foundation) == 32
    assert all(not c.is_mdns for c in candidates)
    assert media.end_of_candidates
    # The candidate lines come before ice-ufrag: attribute order is preserved.
    names = [a.name for a in media.attributes]
    assert names.index("candidate") < names.index("ice-ufrag")
