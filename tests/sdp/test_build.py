"""Building descriptions programmatically, override semantics, RFC 8866 edge cases."""

from __future__ import annotations

import pytest

import sdp

DIGEST = bytes(range(32))

# The minimal data-only offer of /work/shared/vectors/dcep_datachannel_sdp.txt §4.
MINIMAL_OFFER = (
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Xk3q\r\n"
    "a=ice-pwd:qE2bH8vM4nL0sR6tY1uW9zAo\r\n"
    "a=ice-options:trickle\r\n"
    f"a=fingerprint:sha-256 {DIGEST.hex(':').upper()}\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=sctp-port:5000\r\n"
    "a=max-message-size:262144\r\n"
)


def _build_offer() -> sdp.SessionDescription:
    offer = sdp.SessionDescription(
        origin=sdp.Origin(session_id=4611731400430051336, session_version=2)
    )
    offer.add_attribute("group", sdp.Group("BUNDLE", ("0",)))
    offer.add_attribute("msid-semantic", " WMS")
    media = offer.add_media(sdp.MediaDescription(connections=[sdp.Connection()]))
    media.add_attribute("ice-ufrag", "Xk3q")
    media.add_attribute("ice-pwd", "qE2bH8vM4nL0sR6tY1uW9zAo")
    media.add_attribute("ice-options", "trickle")
    media.add_attribute("fingerprint", sdp.Fingerprint("sha-256", DIGEST))
    media.add_attribute("setup", sdp.Setup.ACTPASS)
    media.add_attribute("mid", "0")
    media.add_attribute("sctp-port", 5000)
    media.add_attribute("max-message-size", 262144)
    return offer


def test_builder_writes_the_minimal_offer() -> None:
    offer = _build_offer()
    assert str(offer) == MINIMAL_OFFER
    assert sdp.parse(MINIMAL_OFFER) == offer


def test_minimal_offer_facts() -> None:
    # RFC 8841: data channel m-line, sctp-port 5000, max-message-size from the sender.
    description = sdp.parse(MINIMAL_OFFER)
    media = description.media[0]
    assert media.media_line() == "m=application 9 UDP/DTLS/SCTP webrtc-datachannel"
    assert media.port == 9 and media.connection == sdp.Connection("IN", "IP4", "0.0.0.0")
    assert media.sctp_port == 5000 and media.max_message_size == 262144
    assert media.ice_options == ("trickle",)
    assert description.groups == [sdp.Group("BUNDLE", ("0",))]


def test_defaults() -> None:
    assert str(sdp.SessionDescription()) == "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    media = sdp.MediaDescription()
    assert str(media) == "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    assert sdp.Media is sdp.MediaDescription
    # Absent attributes: None / empty / False, RFC defaults are the caller's to apply.
    assert media.sctp_port is None and media.max_message_size is None
    assert media.fingerprints == [] and media.candidates == [] and media.ice_options == ()
    assert not media.end_of_candidates and not media.rtcp_mux and not media.bundle_only
    assert media.direction is None and media.setup is None and media.mid is None


def test_add_candidate_and_end_of_candidates() -> None:
    offer = _build_offer()
    media = offer.media[0]
    candidate = sdp.Candidate("1", 1, "udp", 2130706431, "192.0.2.1", 50000, "host")
    attribute = media.add_candidate(candidate)
    assert attribute == sdp.Attribute("candidate", "1 1 udp 2130706431 192.0.2.1 50000 typ host")
    media.add_attribute("end-of-candidates")
    again = sdp.parse(str(offer))
    assert again.media[0].candidates == [candidate]
    assert again.media[0].end_of_candidates
    assert str(offer).endswith(
        "a=candidate:1 1 udp 2130706431 192.0.2.1 50000 typ host\r\na=end-of-candidates\r\n"
    )


def test_add_attribute_validates_known_attributes() -> None:
    media = sdp.MediaDescription()
    for name, value in [
        ("sctp-port", "abc"),
        ("setup", "bogus"),
        ("ice-ufrag", "abc"),
        ("fingerprint", "sha-256 AB"),
        ("candidate", None),
        ("mid", "two words"),
        ("bad name", None),
        ("x-note", "line\r\nbreak"),
    ]:
        with pytest.raises(sdp.ParseError):
            media.add_attribute(name, value)
    assert media.attributes == []
    media.add_attribute("x-anything", "goes here")  # unknown attributes are not checked
    assert media.value("x-anything") == "goes here"


def test_set_and_remove_attributes() -> None:
    media = sdp.MediaDescription()
    media.add_attribute("mid", "0")
    media.add_attribute("setup", "actpass")
    media.add_attribute("fingerprint", sdp.Fingerprint("sha-256", DIGEST))
    media.add_attribute("fingerprint", sdp.Fingerprint("sha-1", bytes(20)))
    media.set_attribute("setup", sdp.Setup.ACTIVE)
    assert [a.name for a in media.attributes] == ["mid", "setup", "fingerprint", "fingerprint"]
    assert media.setup is sdp.Setup.ACTIVE
    media.set_attribute("fingerprint", sdp.Fingerprint("sha-512", bytes(64)))
    assert [f.algorithm for f in media.fingerprints] == ["sha-512"]
    media.set_attribute("rtcp-mux")
    assert media.rtcp_mux and media.attributes[-1] == sdp.Attribute("rtcp-mux")
    assert media.remove_attributes("fingerprint") == 1
    assert media.remove_attributes("fingerprint") == 0
    assert media.fingerprints == []


def test_session_level_values_with_media_override() -> None:
    text = (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
        "a=ice-lite\r\n"
        "a=ice-ufrag:SESS\r\na=ice-pwd:sessionpasswordsession\r\n"
        "a=ice-options:trickle ice2\r\n"
        f"a=fingerprint:sha-256 {DIGEST.hex(':')}\r\n"
        "a=setup:passive\r\na=recvonly\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:a\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP6 ::1\r\na=mid:b\r\n"
        "a=ice-ufrag:MED1\r\na=ice-pwd:mediapasswordmediapass\r\n"
        f"a=fingerprint:sha-1 {bytes(20).hex(':')}\r\n"
        "a=ice-options:ice2\r\na=setup:active\r\na=inactive\r\n"
    )
    description = sdp.parse(text)
    assert str(description) == text
    assert description.ice_lite
    a, b = description.media
    assert description.ice_ufrag_for(a) == "SESS" and description.ice_pwd_for(0) == (
        "sessionpasswordsession"
    )
    assert description.ice_ufrag_for(b) == "MED1" and description.ice_pwd_for(1) == (
        "mediapasswordmediapass"
    )
    assert description.ice_options_for(a) == ("trickle", "ice2")
    assert description.ice_options_for(b) == ("ice2",)
    assert description.fingerprints_for(a) == [sdp.Fingerprint("sha-256", DIGEST)]
    assert description.fingerprints_for(b) == [sdp.Fingerprint("sha-1", bytes(20))]
    assert description.setup_for(a) is sdp.Setup.PASSIVE
    assert description.setup_for(b) is sdp.Setup.ACTIVE
    assert description.direction_for(a) is sdp.Direction.RECVONLY
    assert description.direction_for(b) is sdp.Direction.INACTIVE
    assert description.connection_for(a) == sdp.Connection("IN", "IP4", "192.0.2.1")
    assert description.connection_for(b) == sdp.Connection("IN", "IP6", "::1")
    assert description.attributes_for(a, "mid") == [sdp.Attribute("mid", "a")]
    assert description.media_by_mid("b") is b and description.media_by_mid("c") is None


RFC8866_FULL = (
    "v=0\r\n"
    "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1\r\n"
    "s=Call to John Smith\r\n"
    "i=SDP Offer #1\r\n"
    "u=http://www.jdoe.example.com/home.html\r\n"
    "e=Jane Doe <jane@jdoe.example.com>\r\n"
    "e=john@example.com\r\n"
    "p=+1 617 555-6011\r\n"
    "c=IN IP4 233.252.0.1/127\r\n"
    "b=AS:2000\r\n"
    "b=CT:128\r\n"
    "t=0 0\r\n"
    "t=3034423619 3042462419\r\n"
    "r=604800 3600 0 90000\r\n"
    "r=7d 1h 0 25h\r\n"
    "z=2882844526 -1h 2898848070 0\r\n"
    "t=3042462419 3042462420\r\n"
    "k=prompt\r\n"
    "a=recvonly\r\n"
    "a=tool:\r\n"
    "m=audio 49170 RTP/AVP 0 111\r\n"
    "i=audio stream\r\n"
    "c=IN IP4 203.0.113.1\r\n"
    "c=IN IP4 203.0.113.2\r\n"
    "b=TIAS:64000\r\n"
    "k=clear:secret\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1; stereo\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2/sendonly urn:x-ext attr1 attr2\r\n"
    "a=ssrc:1001 cname:abc\r\n"
    "a=ssrc:1001 x-flag\r\n"
    "a=rtcp-mux\r\n"
    "a=bundle-only\r\n"
    "a=sendonly\r\n"
    "m=video 51372/2 RTP/AVP 99\r\n"
    "a=rtpmap:99 h263-1998/90000\r\n"
)


def test_rfc8866_lines_round_trip_and_typed() -> None:
    description = sdp.parse(RFC8866_FULL)
    assert str(description) == RFC8866_FULL
    assert description.origin == sdp.Origin(
        "jdoe", 3724394400, 3724394405, "IN", "IP4", "198.51.100.1"
    )
    assert description.name == "Call to John Smith"
    assert description.information == "SDP Offer #1"
    assert description.uri == "http://www.jdoe.example.com/home.html"
    assert description.emails == ["Jane Doe <jane@jdoe.example.com>", "john@example.com"]
    assert description.phones == ["+1 617 555-6011"]
    assert description.connection == sdp.Connection("IN", "IP4", "233.252.0.1/127")
    assert description.bandwidths == [sdp.Bandwidth("AS", 2000), sdp.Bandwidth("CT", 128)]
    assert description.times == [
        sdp.Timing(0, 0),
        sdp.Timing(
            3034423619,
            3042462419,
            ("604800 3600 0 90000", "7d 1h 0 25h"),
            "2882844526 -1h 2898848070 0",
        ),
        sdp.Timing(3042462419, 3042462420),
    ]
    assert description.encryption_key == "prompt"
    assert description.direction is sdp.Direction.RECVONLY
    assert description.get("tool") == sdp.Attribute("tool", "")
    audio, video = description.media
    assert audio.information == "audio stream"
    assert [c.address for c in audio.connections] == ["203.0.113.1", "203.0.113.2"]
    assert audio.bandwidths == [sdp.Bandwidth("TIAS", 64000)]
    assert audio.encryption_key == "clear:secret"
    assert audio.rtpmaps == [
        sdp.RtpMap(0, "PCMU", 8000),
        sdp.RtpMap(111, "opus", 48000, "2"),
    ]
    (fmtp,) = audio.fmtps
    assert fmtp.format == "111"
    assert fmtp.params() == {"minptime": "10", "useinbandfec": "1", "stereo": None}
    assert audio.extmaps == [
        sdp.ExtMap(1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
        sdp.ExtMap(2, "urn:x-ext", sdp.Direction.SENDONLY, "attr1 attr2"),
    ]
    assert audio.ssrcs == [sdp.Ssrc(1001, "cname", "abc"), sdp.Ssrc(1001, "x-flag")]
    assert audio.rtcp_mux and audio.bundle_only
    assert audio.direction is sdp.Direction.SENDONLY
    assert description.direction_for(video) is sdp.Direction.RECVONLY
    assert (video.port, video.port_count, video.formats) == (51372, 2, ["99"])
    for rtpmap in audio.rtpmaps:
        assert sdp.RtpMap.parse(str(rtpmap)) == rtpmap
    for extmap in audio.extmaps:
        assert sdp.ExtMap.parse(str(extmap)) == extmap
    for ssrc in audio.ssrcs:
        assert sdp.Ssrc.parse(str(ssrc)) == ssrc
    assert sdp.Fmtp.parse(str(fmtp)) == fmtp


def test_z_directly_after_t_and_multiple_time_descriptions() -> None:
    # RFC 4566 allowed z= without r=; accepted and attached to the last time description.
    text = "v=0\r\no=- 1 1 IN IP4 ::1\r\ns= \r\nt=1 2\r\nz=0 -1h\r\nt=3 4\r\nr=1 2 3\r\n"
    description = sdp.parse(text)
    assert str(description) == text
    assert description.name == " "
    assert description.times == [sdp.Timing(1, 2, (), "0 -1h"), sdp.Timing(3, 4, ("1 2 3",))]


def test_unknown_lines_kept_in_place() -> None:
    text = (
        "v=0\r\no=- 1 1 IN IP4 ::1\r\nx=before s\r\ns=-\r\nt=0 0\r\nY=upper\r\na=tool:t\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nq=in media\r\na=mid:0\r\n"
        "w=last\r\n"
    )
    description = sdp.parse(text)
    assert str(description) == text
    assert [(u.type, u.value, u.position) for u in description.unknown_lines] == [
        ("x", "before s", 2),
        ("Y", "upper", 4),
    ]
    assert [(u.type, u.position) for u in description.media[0].unknown_lines] == [
        ("q", 1),
        ("w", 2),
    ]
    # Unknown lines do not take part in the order check.
    assert sdp.parse("v=0\r\nx=1\r\no=- 1 1 IN IP4 ::1\r\ns=-\r\nt=0 0\r\n").name == "-"


def test_legacy_sctpmap_data_channel() -> None:
    text = (
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        "m=application 5000 DTLS/SCTP 5000\r\nc=IN IP4 0.0.0.0\r\n"
        "a=sctpmap:5000 webrtc-datachannel 1024\r\n"
    )
    media = sdp.parse(text).media[0]
    assert media.protocol == "DTLS/SCTP" and media.formats == ["5000"]
    assert media.sctpmap == sdp.SctpMap(5000, "webrtc-datachannel", 1024)
    assert str(media.sctpmap) == "5000 webrtc-datachannel 1024"
    assert media.sctp_port is None


def test_leading_zero_numbers_are_normalised() -> None:
    text = "v=0\r\no=- 007 01 IN IP4 ::1\r\ns=-\r\nt=00 0\r\na=max-message-size:0\r\n"
    description = sdp.parse(text)
    assert description.origin.session_id == 7 and description.origin.session_version == 1
    assert str(description) == text.replace(" 007 01 ", " 7 1 ").replace("t=00", "t=0")
    # Attribute values stay verbatim; 0 = no limit (RFC 8841 §6).
    assert description.max_message_size == 0


def test_no_trailing_line_ending_and_trailing_blank_lines() -> None:
    base = "v=0\r\no=- 1 1 IN IP4 ::1\r\ns=-\r\nt=0 0"
    assert str(sdp.parse(base)) == base + "\r\n"
    assert str(sdp.parse(base + "\r\n\r\n\n")) == base + "\r\n"
    assert str(sdp.parse(base.replace("\r\n", "\n") + "\n")) == base + "\r\n"


def test_typed_accessor_on_built_bad_value_raises_parse_error() -> None:
    media = sdp.MediaDescription(attributes=[sdp.Attribute("sctp-port", "nope")])
    with pytest.raises(sdp.ParseError) as info:
        _ = media.sctp_port
    assert info.value.line_number == 0


def test_print_writes_sdp_text() -> None:
    assert str(sdp.parse(MINIMAL_OFFER)) == MINIMAL_OFFER
    assert repr(sdp.parse(MINIMAL_OFFER)).startswith("SessionDescription(")


def test_add_candidate_from_text_normalises_prefix() -> None:
    media = sdp.MediaDescription()
    bare = "1 1 udp 2130706431 192.0.2.1 50000 typ host"
    for text in (bare, "candidate:" + bare, "a=candidate:" + bare):
        assert media.add_attribute("candidate", text) == sdp.Attribute("candidate", bare)
    # Inside an SDP the value must be bare.
    head = "v=0\r\no=- 1 1 IN IP4 ::1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP x\r\n"
    with pytest.raises(sdp.ParseError) as info:
        sdp.parse(head + "a=candidate:candidate:" + bare + "\r\n")
    assert info.value.line_number == 6


def test_libdatachannel_comma_separated_ice_options() -> None:
    head = "v=0\r\no=- 1 1 IN IP4 ::1\r\ns=-\r\nt=0 0\r\n"
    description = sdp.parse(head + "a=ice-options:ice2,trickle\r\n")
    assert description.ice_options == ("ice2", "trickle")
    assert str(description) == head + "a=ice-options:ice2,trickle\r\n"
    with pytest.raises(sdp.ParseError):
        sdp.parse(head + "a=ice-options:ice2,,trickle\r\n")


def test_extra_spaces_tolerated_in_group_and_ice_options() -> None:
    head = "v=0\r\no=- 1 1 IN IP4 ::1\r\ns=-\r\nt=0 0\r\n"
    text = head + "a=group:BUNDLE 0  1 \r\na=ice-options:trickle \r\n"
    description = sdp.parse(text)
    assert description.bundle_groups == [("0", "1")]
    assert description.ice_options == ("trickle",)
    assert str(description) == text


def test_effective_data_channel_parameters() -> None:
    # RFC 8841 §5/§6 defaults; legacy sctpmap port; 0 = no limit.
    media = sdp.MediaDescription()
    assert media.effective_sctp_port == sdp.DEFAULT_SCTP_PORT == 5000
    assert media.effective_max_message_size == sdp.DEFAULT_MAX_MESSAGE_SIZE == 65536
    media.add_attribute("sctpmap", "5001 webrtc-datachannel 1024")
    assert media.effective_sctp_port == 5001
    media.add_attribute("sctp-port", 5002)
    media.add_attribute("max-message-size", 0)
    assert media.effective_sctp_port == 5002
    assert media.effective_max_message_size == 0


# Constructed in the shape Firefox and libdatachannel (Godot's native plugin) write: ICE
# credentials, fingerprint and setup at session level, applying to every media section.
FIREFOX_SHAPE = (
    "v=0\r\n"
    "o=mozilla...THIS_IS_SDPARTA-99.0 4917382054393453829 0 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=sendrecv\r\n"
    f"a=fingerprint:sha-256 {DIGEST.hex(':').upper()}\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=ice-options:trickle\r\n"
    "a=msid-semantic:WMS *\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=sendrecv\r\n"
    "a=ice-pwd:3ba5ac2e0c1e0f3b8d5e2e4a2a5e9d1c\r\n"
    "a=ice-ufrag:7d3a2b1c\r\n"
    "a=mid:0\r\n"
    "a=setup:actpass\r\n"
    "a=sctp-port:5000\r\n"
    "a=max-message-size:1073741823\r\n"
)
LIBDATACHANNEL_SHAPE = (
    "v=0\r\n"
    "o=rtc 2966436580 0 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=group:LS 0\r\n"
    "a=msid-semantic:WMS *\r\n"
    "a=setup:actpass\r\n"
    "a=ice-ufrag:Gk1H\r\n"
    "a=ice-pwd:1ZsP0kQhW7nZJbu4a0Cg0j\r\n"
    "a=ice-options:ice2,trickle\r\n"
    f"a=fingerprint:sha-256 {DIGEST.hex(':').upper()}\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=mid:0\r\n"
    "a=sendrecv\r\n"
    "a=sctp-port:5000\r\n"
    "a=max-message-size:262144\r\n"
)


def test_firefox_shape_session_level_fingerprint() -> None:
    description = sdp.parse(FIREFOX_SHAPE)
    assert str(description) == FIREFOX_SHAPE
    media = description.media[0]
    assert media.fingerprints == []
    assert description.fingerprints_for(media) == [sdp.Fingerprint("sha-256", DIGEST)]
    assert description.ice_options_for(media) == ("trickle",)
    assert description.ice_ufrag_for(media) == "7d3a2b1c"
    assert media.effective_max_message_size == 1073741823
    assert description.origin.username == "mozilla...THIS_IS_SDPARTA-99.0"


def test_libdatachannel_shape_session_level_credentials() -> None:
    description = sdp.parse(LIBDATACHANNEL_SHAPE)
    assert str(description) == LIBDATACHANNEL_SHAPE
    media = description.media[0]
    assert media.ice_ufrag is None and media.setup is None
    assert description.ice_ufrag_for(media) == "Gk1H"
    assert description.ice_pwd_for(media) == "1ZsP0kQhW7nZJbu4a0Cg0j"
    assert description.setup_for(media) is sdp.Setup.ACTPASS
    assert "trickle" in description.ice_options_for(media)
    assert description.bundle_groups == [("0",)]
    assert [g.semantics for g in description.groups] == ["BUNDLE", "LS"]
