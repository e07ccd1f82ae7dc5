"""Fuzz target for the sdp package: parse, write, re-parse; candidate and fingerprint parsers.

Only `sdp.ParseError` is allowed out of the parsers; a description that parses must write text
that parses back to an equal description (and the same text), and every typed accessor must
work on it.
"""

from __future__ import annotations

import sdp


def _touch_typed(section: sdp.SessionDescription | sdp.MediaDescription) -> tuple[object, ...]:
    return (
        section.ice_ufrag,
        section.ice_pwd,
        section.ice_options,
        section.ice_lite,
        section.fingerprints,
        section.setup,
        section.mid,
        section.groups,
        section.bundle_groups,
        section.msid_semantic,
        section.sctp_port,
        section.max_message_size,
        section.sctpmap,
        section.candidates,
        section.end_of_candidates,
        section.rtcp_mux,
        section.bundle_only,
        section.direction,
        section.rtpmaps,
        section.fmtps,
        section.extmaps,
        section.ssrcs,
    )


def test_one_input(data: bytes) -> None:
    try:
        description = sdp.parse(data)
    except sdp.ParseError:
        description = None
    if description is not None:
        text = str(description)
        again = sdp.parse(text)
        assert again == description, "write -> parse changed the description"
        assert str(again) == text, "write -> parse -> write is not stable"
        _touch_typed(description)
        for media in description.media:
            _touch_typed(media)
            effective = (
                description.ice_ufrag_for(media),
                description.ice_pwd_for(media),
                description.ice_options_for(media),
                description.fingerprints_for(media),
                description.setup_for(media),
                description.direction_for(media),
                description.connection_for(media),
            )
            assert len(effective) == 7
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        candidate = sdp.Candidate.parse(text)
    except sdp.ParseError:
        pass
    else:
        assert sdp.Candidate.parse(str(candidate)) == candidate
    try:
        fingerprint = sdp.Fingerprint.parse(text)
    except sdp.ParseError:
        pass
    else:
        assert sdp.Fingerprint.parse(str(fingerprint)) == fingerprint
