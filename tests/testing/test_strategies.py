"""The hypothesis strategies of sdp, ice, dtls and sctp: every generated message decodes with
our decoders (and round-trips), every mutation is rejected with the package's own error type and
never another exception, and the simplest examples are small."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import dtls
import ice
import sctp
import sdp
from dtls import strategies as dtls_st
from dtls.messages import ClientHello, HelloVerifyRequest, ServerHello, parse_fragments
from dtls.record import HEADER, HEADER_LEN
from ice import strategies as ice_st
from ice.channeldata import decode_channel_data
from ice.stun import Message
from sctp import strategies as sctp_st
from sctp.chunks import decode_packet
from sdp import strategies as sdp_st
from webrtc.testing.properties import check_rejects, rejects, round_trip
from webrtc.trace import decode_datagram

KEY = ice_st.short_term_key("qE2bH8vM4nL0sR6tY1uW9zAo")
CERT = dtls.Certificate.generate()

# -- sdp ---

test_sdp_candidates_round_trip = round_trip(sdp_st.candidates(), str, sdp.Candidate.parse)
test_sdp_candidate_mutations_rejected = rejects(
    sdp_st.mutated_candidate_lines(), sdp.Candidate.parse, sdp.ParseError
)
test_sdp_description_mutations_rejected = rejects(
    sdp_st.mutated_description_texts(), sdp.parse, sdp.ParseError
)


@pytest.mark.parametrize("flavor", sdp_st.FLAVORS)
def test_sdp_descriptions_parse_and_write_back(flavor: str) -> None:
    @settings(max_examples=50)
    @given(sdp_st.description_texts(flavor))
    def prop(text: str) -> None:
        description = sdp.parse(text)
        assert str(description) == text
        media = description.media[0]
        assert media.kind == "application" and description.ice_ufrag_for(media)
        assert description.fingerprints_for(media)

    prop()


@pytest.mark.parametrize("mutation", sdp_st.MUTATIONS)
def test_sdp_each_mutation_kind_is_rejected(mutation: str) -> None:
    rejects(sdp_st.mutated_description_texts(mutation=mutation), sdp.parse, sdp.ParseError)()


@given(sdp_st.attributes())
def test_sdp_attributes_are_accepted_by_the_builder(attr: sdp.Attribute) -> None:
    media = sdp.MediaDescription()
    media.add_attribute(attr.name, attr.value)
    assert media.get(attr.name) is not None


# -- ice ---


@given(ice_st.messages())
def test_stun_messages_round_trip_with_integrity_and_fingerprint(msg: Message) -> None:
    decoded = Message.parse(msg.encode(integrity_key=KEY))
    assert decoded.check_integrity(KEY) and decoded.check_fingerprint()
    assert (decoded.method, decoded.message_class, decoded.transaction_id) == (
        msg.method,
        msg.message_class,
        msg.transaction_id,
    )
    assert ice_st.without_integrity(decoded) == msg.attributes


test_stun_mutations_rejected = rejects(ice_st.mutated_messages(KEY), Message.parse, ice.StunError)
test_channel_data_mutations_rejected = rejects(
    ice_st.mutated_channel_data(), decode_channel_data, ice.StunError
)


@given(ice_st.wrong_integrity(KEY))
def test_wrong_integrity_parses_but_fails_the_check(raw: bytes) -> None:
    assert not Message.parse(raw).check_integrity(KEY)


@given(st.integers(0x4000, 0x4FFF), st.binary(max_size=64))
def test_channel_data_decodes(channel: int, payload: bytes) -> None:
    raw = ice.channeldata.encode_channel_data(channel, payload)
    assert decode_channel_data(raw) == (channel, payload)


@pytest.mark.parametrize("mutation", ice_st.MUTATIONS)
def test_stun_each_mutation_kind_is_rejected(mutation: str) -> None:
    rejects(ice_st.mutated_messages(KEY, mutation), Message.parse, ice.StunError)()


# -- dtls ---

test_client_hello_round_trip = round_trip(
    dtls_st.client_hellos(), ClientHello.encode, ClientHello.parse
)
test_server_hello_round_trip = round_trip(
    dtls_st.server_hellos(), ServerHello.encode, ServerHello.parse
)
test_hello_verify_round_trip = round_trip(
    dtls_st.hello_verify_requests(), HelloVerifyRequest.encode, HelloVerifyRequest.parse
)
test_handshake_mutations_rejected = rejects(
    dtls_st.mutated_handshake(), parse_fragments, dtls.DecodeError
)
test_client_hello_mutations_rejected = rejects(
    dtls_st.mutated_client_hellos(), ClientHello.parse, dtls.DecodeError
)


@given(dtls_st.fragmented())
def test_fragments_reassemble(message_and_fragments: tuple[bytes, list[bytes]]) -> None:
    message, fragments = message_and_fragments
    body = b""
    for raw in fragments:
        (frag,) = parse_fragments(raw)
        assert frag.offset == len(body) and frag.length == len(message) - 12
        body += frag.body
    assert body == message[12:]


@given(st.lists(dtls_st.records(), min_size=1, max_size=3))
def test_records_split_back_and_decode(records: list[bytes]) -> None:
    datagram = b"".join(records)
    pos, seen = 0, []
    while pos < len(datagram):  # RFC 6347 §4.1: records back to back, each with its length
        _, version, _, length = HEADER.unpack_from(datagram, pos)
        assert version == 0xFEFD
        seen.append(datagram[pos : pos + HEADER_LEN + length])
        pos += HEADER_LEN + length
    assert seen == records and pos == len(datagram)
    events = decode_datagram(datagram)
    assert events and all(e.layer == "DTLS" and e.kind != "undecodable" for e in events)
    for record in records:
        if record[0] == 22:  # handshake fragments parse with the package's own decoder
            assert parse_fragments(record[HEADER_LEN:])


@given(dtls_st.mutated_records())
def test_malformed_records_are_dropped_and_counted(datagram: bytes) -> None:
    conn = dtls.Connection(is_client=False, certificate=CERT)
    conn.receive(datagram, 0.0)
    assert conn.stats.malformed >= 1


# -- sctp ---


@given(sctp_st.packets())
def test_sctp_packets_decode_to_their_chunks(packet_and_chunks: tuple[bytes, list[Any]]) -> None:
    packet, chunks = packet_and_chunks
    assert decode_packet(packet).chunks == chunks


test_sctp_packet_mutations_rejected = rejects(
    sctp_st.mutated_packets(), decode_packet, sctp.ParseError
)
test_dcep_round_trip = round_trip(sctp_st.dcep_messages(), lambda m: m.encode(), sctp.decode_dcep)
test_dcep_mutations_rejected = rejects(sctp_st.mutated_dcep(), sctp.decode_dcep, sctp.ParseError)


@pytest.mark.parametrize("mutation", sctp_st.PACKET_MUTATIONS)
def test_sctp_each_mutation_kind_is_rejected(mutation: str) -> None:
    rejects(sctp_st.mutated_packets(mutation), decode_packet, sctp.ParseError)()


def test_checksum_mutation_raises_checksum_error() -> None:
    raw = find(sctp_st.mutated_packets("checksum"), lambda _: True)
    with pytest.raises(sctp.ChecksumError):
        decode_packet(raw)


# -- shrinking and the helpers themselves ---


class _Found(Exception):
    pass


def _shrunk(strategy: st.SearchStrategy[Any]) -> Any:
    """The example hypothesis shrinks a failure to, when every example fails."""
    seen: list[Any] = []

    @settings(database=None, max_examples=50)
    @given(strategy)
    def prop(value: Any) -> None:
        seen.append(value)
        raise _Found

    with pytest.raises(_Found):
        prop()
    return seen[-1]


def test_failures_shrink_to_small_readable_examples() -> None:
    cand = _shrunk(sdp_st.candidates())
    assert len(str(cand)) <= 100 and not cand.extensions, str(cand)
    text = _shrunk(sdp_st.description_texts())
    assert len(text.splitlines()) <= 20 and "candidate" not in text, text
    assert "a=ice-ufrag:0000\r\n" in text  # shortest ufrag, simplest characters
    assert len(_shrunk(ice_st.signed())) <= 48
    assert len(_shrunk(dtls_st.records())) <= 20
    packet, chunks = _shrunk(sctp_st.packets())
    assert len(chunks) == 1 and len(packet) <= 20


def test_a_failing_round_trip_reports_the_smallest_example() -> None:
    def lossy_decode(text: str) -> sdp.Candidate:
        return sdp.Candidate.parse(text.replace(" generation ", " gen "))

    with pytest.raises(AssertionError) as info:
        round_trip(sdp_st.candidates(), str, lossy_decode)()
    assert "gen" in str(info.value)


def test_rejects_flags_a_foreign_exception() -> None:
    def buggy(data: bytes) -> object:
        return data[100]  # IndexError: not the package's error type

    with pytest.raises(AssertionError, match="IndexError"):
        check_rejects(b"\x00", buggy, sctp.ParseError)
