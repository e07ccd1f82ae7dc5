"""Codec tests: total decoder, Godot-compatible encodings."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webrtc.signaling.protocol import (
    MAX_PEER_ID,
    Message,
    MessageType,
    ProtocolError,
    close_reason,
    decode_candidate,
    decode_message,
    encode_candidate,
    encode_message,
)


def test_encode_is_compact_json_with_three_fields() -> None:
    text = encode_message(Message(MessageType.OFFER, 5, "v=0\r\n"))
    assert json.loads(text) == {"type": 4, "id": 5, "data": "v=0\r\n"}
    assert " " not in text


@pytest.mark.parametrize("mtype", list(MessageType))
def test_roundtrip_every_type(mtype: MessageType) -> None:
    msg = Message(mtype, 123, "hé\n")
    assert decode_message(encode_message(msg)) == msg


def test_type_values_match_godot_demo() -> None:
    assert [(m.name, m.value) for m in MessageType] == [
        ("JOIN", 0),
        ("ID", 1),
        ("PEER_CONNECT", 2),
        ("PEER_DISCONNECT", 3),
        ("OFFER", 4),
        ("ANSWER", 5),
        ("CANDIDATE", 6),
        ("SEAL", 7),
    ]


def test_integral_floats_accepted_as_godot_json_sends_them() -> None:
    assert decode_message('{"type": 4.0, "id": 1.0, "data": "x"}') == Message(
        MessageType.OFFER, 1, "x"
    )


def test_missing_data_means_empty_and_extra_keys_ignored() -> None:
    assert decode_message('{"type": 7, "id": 0, "x": [1]}') == Message(MessageType.SEAL, 0, "")


def test_bytes_input_decoded_as_utf8() -> None:
    assert decode_message(b'{"type":0,"id":0,"data":""}') == Message(MessageType.JOIN)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "not JSON"),
        ("{", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('"str"', "not a JSON object"),
        ('{"id": 0, "data": ""}', "missing 'type'"),
        ('{"type": 0, "data": ""}', "missing 'id'"),
        ('{"type": "0", "id": 0}', "'type' must be an integer"),
        ('{"type": true, "id": 0}', "'type' must be an integer"),
        ('{"type": 0, "id": 1.5}', "'id' must be an integer"),
        ('{"type": 0, "id": null}', "'id' must be an integer"),
        ('{"type": NaN, "id": 0}', "NaN is not JSON"),
        ('{"type": 0, "id": Infinity}', "Infinity is not JSON"),
        ('{"type": 0, "id": 1e400}', "'id' must be an integer"),
        ('{"type": 0, "id": 0, "data": 5}', "'data' must be a string"),
        ('{"type": 0, "id": -1}', "'id' out of range"),
        (f'{{"type": 0, "id": {MAX_PEER_ID + 1}}}', "'id' out of range"),
        ('{"type": 8, "id": 0}', "Invalid command: unknown type 8"),
        ('{"type": -1, "id": 0}', "unknown type -1"),
        ("[" * 100_000, "not JSON"),
        ('{"type": 0, "id": ' + "9" * 5000 + "}", "not JSON"),
    ],
)
def test_malformed_messages_raise_protocol_error(text: str, fragment: str) -> None:
    with pytest.raises(ProtocolError, match=fragment.replace("(", r"\(")):
        decode_message(text)


def test_invalid_utf8_bytes() -> None:
    with pytest.raises(ProtocolError, match="not UTF-8"):
        decode_message(b'{"type":0,"id":0,"data":"\xff"}')


@given(st.one_of(st.text(), st.binary()))
def test_decoder_is_total(data: str | bytes) -> None:
    try:
        msg = decode_message(data)
    except ProtocolError:
        return
    assert isinstance(msg.type, MessageType)
    assert 0 <= msg.id <= MAX_PEER_ID


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.sampled_from(["type", "id", "data", "other"]), _json_values, max_size=4))
def test_decoder_is_total_on_json_objects(obj: dict[str, object]) -> None:
    try:
        decode_message(json.dumps(obj))
    except ProtocolError:
        pass


@given(
    st.sampled_from(list(MessageType)),
    st.integers(0, MAX_PEER_ID),
    st.text(),
)
def test_roundtrip_property(mtype: MessageType, peer_id: int, data: str) -> None:
    msg = Message(mtype, peer_id, data)
    assert decode_message(encode_message(msg)) == msg


def test_candidate_format_matches_godot_demo() -> None:
    data = encode_candidate("0", 0, "candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host")
    assert data == "\n0\n0\ncandidate:1 1 udp 2130706431 10.0.0.1 5000 typ host"
    assert decode_candidate(data) == (
        "0",
        0,
        "candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host",
    )


def test_candidate_decode_skips_empty_lines_like_godot() -> None:
    assert decode_candidate("\n\ndata\n\n3\ncand\n") == ("data", 3, "cand")


@pytest.mark.parametrize(
    "data",
    ["", "\n0\n0", "\n0\nx\ncand", "\n0\n-1\ncand", "\n0\n1\ncand\nextra", "\n0\n٣\ncand"],
)
def test_candidate_decode_errors(data: str) -> None:
    with pytest.raises(ProtocolError):
        decode_candidate(data)


@pytest.mark.parametrize(
    ("mid", "index", "cand"),
    [("", 0, "c"), ("a\nb", 0, "c"), ("0", 0, ""), ("0", 0, "c\n"), ("0", -1, "c")],
)
def test_candidate_encode_rejects_unrepresentable(mid: str, index: int, cand: str) -> None:
    with pytest.raises(ProtocolError):
        encode_candidate(mid, index, cand)


@given(st.text())
def test_candidate_decoder_is_total(data: str) -> None:
    try:
        mid, index, cand = decode_candidate(data)
    except ProtocolError:
        return
    assert decode_candidate(encode_candidate(mid, index, cand)) == (mid, index, cand)


def test_close_reason_fits_a_close_frame() -> None:
    assert close_reason("short") == "short"
    long = close_reason("é" * 200)
    assert len(long.encode()) <= 123
    assert long == "é" * 61
