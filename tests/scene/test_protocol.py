"""SceneMultiplayer packets byte for byte: every example of MULTIPLAYER.md §5, and more.

Layouts (Godot 4.6-dev): SM = scene_multiplayer.cpp, RPC = scene_rpc_interface.cpp,
CACHE = scene_cache_interface.cpp, MAPI = multiplayer_api.cpp; little-endian integers.
"""

from __future__ import annotations

import hashlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webrtc.godot_types import NodePath, TypedArray, VariantType, Vector2
from webrtc.multiplayer import TransferMode
from webrtc.scene import protocol as p
from webrtc.scene.rpc import RPCConfig, RPCMode, RPCNode, parse_rpc_options, resolve_path

X = bytes.fromhex


# -- SYS (SM _process_sys, send_auth, complete_auth, _admit_peer, _del_peer, send_command) ---------


@pytest.mark.parametrize(
    ("packet", "wire"),
    [
        (p.Auth(b"\xab\xcd"), X("0700abcd")),  # authentication payload
        (p.Auth(b""), X("0700")),  # "auth complete"
        (p.AddPeer(5), X("070105000000")),
        (p.DelPeer(5), X("070205000000")),
        (p.Relay(0, X("03ff")), X("07030000000003ff")),  # to all
        (p.Relay(-3, X("03ff")), X("0703fdffffff03ff")),  # to all but 3
        (p.Relay(2147483647, X("03")), X("0703ffffff7f03")),
        (p.Raw(b"hello"), X("03") + b"hello"),
    ],
)
def test_sys_and_raw(packet: p.Packet, wire: bytes) -> None:
    assert p.decode_packet(wire) == packet
    if isinstance(packet, p.Auth):
        assert p.encode_auth(packet.data) == wire
    elif isinstance(packet, p.AddPeer):
        assert p.encode_sys(p.SysCommand.ADD_PEER, packet.peer_id) == wire
    elif isinstance(packet, p.DelPeer):
        assert p.encode_sys(p.SysCommand.DEL_PEER, packet.peer_id) == wire
    elif isinstance(packet, p.Relay):
        assert p.encode_sys(p.SysCommand.RELAY, packet.peer_id, packet.packet) == wire
    else:
        assert p.encode_raw(b"hello") == wire


def test_add_peer_ignores_trailing_bytes_as_godot() -> None:
    assert p.decode_packet(X("07010500000099")) == p.AddPeer(5)


# -- compressed arguments (MAPI encode_and_compress_variant) ---------------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (False, X("01")),
        (True, X("81")),
        (5, X("0205")),
        (-1, X("02ff")),
        (127, X("027f")),
        (-128, X("0280")),
        (128, X("428000")),
        (1000, X("42e803")),
        (-32768, X("420080")),
        (32768, X("8200800000")),
        (100000, X("82a0860100")),
        (2**31, X("c20000008000000000")),
        (-(2**63), X("c20000000000000080")),
        (0.5, X("030000000000003f")),  # 32-bit when exact
        (0.1, X("03000100") + struct.pack("<d", 0.1)),
        ("hi", X("04000000020000006869 0000".replace(" ", ""))),
        (Vector2(1, 2), X("05000000") + struct.pack("<2f", 1, 2)),
        # Array[int]: header 1c 00 01 00, element type 2, count, elements (Godot >= 4.4)
        (
            TypedArray(VariantType.INT, [7]),
            X("1c000100 02000000 01000000 02000000 07000000".replace(" ", "")),
        ),
        ([1, True], X("1c000000 02000000 02000000 01000000 01000000 01000000".replace(" ", ""))),
    ],
)
def test_compressed_argument(value: object, wire: bytes) -> None:
    assert p.encode_compressed(value) == wire
    assert p.decode_compressed(wire, 0) == (value, len(wire))


def test_compressed_int_uses_the_mode_bits_not_the_type() -> None:
    # meta byte = mode << 6 | INT; the decoder reads the width from the mode bits
    assert p.decode_compressed(X("c2") + struct.pack("<q", 5), 0) == (5, 9)
    with pytest.raises(p.ProtocolError):
        p.decode_compressed(X("42e8"), 0)


# -- REMOTE_CALL (RPC _send_rpc / process_rpc) ----------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "method_id", "args", "wire"),
    [
        # MULTIPLAYER.md §5.2 examples
        ({"cache_id": 1}, 0, (5,), X("000100010205")),
        ({"cache_id": 1}, 0, (), X("800100")),
        ({"path": "Node2D"}, 0, (), X("a006000080004e6f64653244") + b"\0"),
        # raw form: exactly one PackedByteArray, no count
        ({"cache_id": 1}, 0, (b"\xde\xad",), X("800100dead")),
        # 16-bit node id, 16-bit (native, bit 15) method id
        ({"cache_id": 300}, 0x8001, (True,), X("502c0101800181")),
        # 4-byte node id for a confirmed peer among unconfirmed ones (wide)
        (
            {"cache_id": 2, "wide": True},
            3,
            (1.5, "a"),
            X("20 02000000 03 02 030000000000c03f 04000000 01000000 61000000".replace(" ", "")),
        ),
        # path form with arguments: the offset points past the arguments
        (
            {"path": "Main/Player"},
            1,
            (7,),
            X("20 09000080 01 01 0207".replace(" ", "")) + b"Main/Player\0",
        ),
        # a 4-byte cache id above 65535
        ({"cache_id": 70000}, 0, (), X("a0 70110100 00".replace(" ", ""))),
    ],
)
def test_remote_call(
    kwargs: dict[str, object], method_id: int, args: tuple[object, ...], wire: bytes
) -> None:
    assert p.encode_remote_call(method_id, args, **kwargs) == wire  # type: ignore[arg-type]
    decoded = p.decode_packet(wire)
    assert decoded == p.RemoteCall(method_id, args, kwargs.get("cache_id"), kwargs.get("path"))  # type: ignore[arg-type]


def test_remote_call_raw_empty_byte_array_is_no_argument() -> None:
    # MAPI: an empty PackedByteArray goes raw with no bytes, which the receiver reads as no argument
    wire = p.encode_remote_call(0, (b"",), cache_id=1)
    assert wire == X("800100")
    assert p.decode_packet(wire) == p.RemoteCall(0, (), 1, None)


def test_remote_call_ignores_bytes_after_the_arguments() -> None:
    assert p.decode_packet(X("000100010205ffff")) == p.RemoteCall(0, (5,), 1, None)


# -- path cache (CACHE _send_confirm_path / process_simplify_path / process_confirm_path) ----------


def test_simplify_and_confirm_path() -> None:
    md5 = hashlib.md5(b"ping").hexdigest()
    wire = X("01") + md5.encode() + X("00") + X("01000000") + b".\0"
    assert p.encode_simplify_path(md5, 1, ".") == wire
    assert p.decode_packet(wire) == p.SimplifyPath(md5, 1, ".")
    assert len(p.encode_simplify_path(md5, 1, "")) == 39
    assert p.decode_packet(wire[:38]) == p.SimplifyPath(md5, 1, "")  # minimum length 38
    assert p.encode_confirm_path(True, 1) == X("020101000000")
    assert p.decode_packet(X("020101000000")) == p.ConfirmPath(True, 1)
    assert p.decode_packet(X("020007000000")) == p.ConfirmPath(False, 7)


def test_replication_commands_are_recognised() -> None:
    for command in (p.NetworkCommand.SPAWN, p.NetworkCommand.DESPAWN, p.NetworkCommand.SYNC):
        assert p.decode_packet(bytes([command, 1, 2])) == p.Replication(
            command, bytes([command, 1, 2])
        )


@pytest.mark.parametrize(
    "wire",
    [
        b"",
        X("07"),  # SYS without a sys command
        X("0701050000"),  # ADD_PEER shorter than SYS_CMD_SIZE
        X("070300000000"),  # RELAY with no packet
        X("070905000000"),  # unknown sys command
        X("03"),  # RAW without payload
        X("01") + b"0" * 36,  # SIMPLIFY_PATH < 38
        X("0201010000"),  # CONFIRM_PATH != 6
        X("02010100000000"),
        X("30"),  # REMOTE_CALL node id compression 3
        X("00"),  # no node id
        X("0001"),  # no method id
        X("000100"),  # neither raw flag nor argument count
        X("00010001"),  # 1 argument announced, none present
        X("0001000142e8"),  # truncated int argument
        X("000100011c000000"),  # truncated Array argument
        X("000100011800000000"),  # OBJECT argument (objects refused)
        X("20ffffffff00"),  # path offset beyond the packet
        X("200000008000"),  # path offset inside the header
        X("200500008000") + b"\xff\xfe\0",  # path that is not UTF-8
        X("000100010400000003000000ffff0000"),  # string argument that is not UTF-8
    ],
)
def test_malformed_packets_raise_protocol_error(wire: bytes) -> None:
    with pytest.raises(p.ProtocolError):
        p.decode_packet(wire)


# -- RPC ids and checksums (RPC _parse_rpc_config, get_rpc_md5) -----------------------------------


def test_method_ids_sorted_by_name_bit_15_for_native() -> None:
    node = RPCNode()
    for name in ("b", "a", "C", "é"):
        node.add(name, print, RPCConfig())
    node.add("z_native", print, RPCConfig(), native=True)
    node.add("a_native", print, RPCConfig(), native=True)
    # code point order: "C" < "a" < "b" < "é"
    assert [node.by_name(n).method_id for n in ("C", "a", "b", "é")] == [0, 1, 2, 3]  # type: ignore[union-attr]
    assert node.by_name("a_native").method_id == 0x8000  # type: ignore[union-attr]
    assert node.by_name("z_native").method_id == 0x8001  # type: ignore[union-attr]
    assert node.by_id(2).name == "b"  # type: ignore[union-attr]
    expected = hashlib.md5("a_nativez_nativeCabé".encode()).hexdigest()
    assert node.md5() == expected


def test_rpc_options_as_gdscript() -> None:
    assert parse_rpc_options() == RPCConfig(
        RPCMode.RPC_MODE_AUTHORITY, False, TransferMode.TRANSFER_MODE_RELIABLE, 0
    )
    assert parse_rpc_options("call_local", "any_peer", "unreliable_ordered", 2) == RPCConfig(
        RPCMode.RPC_MODE_ANY_PEER, True, TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED, 2
    )
    for bad in (("bogus",), ("any_peer", "authority"), (1, 2)):
        with pytest.raises(ValueError):
            parse_rpc_options(*bad)


def test_resolve_path() -> None:
    root = NodePath.from_string("/root")
    assert resolve_path("Main/Player", root) == "Main/Player"
    assert resolve_path("./Main/../Main/Player:position", root) == "Main/Player"
    assert resolve_path(".", root) == "."
    assert resolve_path("/root/Main", root) == "Main"
    assert resolve_path("/root", root) == "."
    assert resolve_path("/other/Main", root) is None
    assert resolve_path("..", root) is None


# -- properties ---------------------------------------------------------------------------------

arguments = st.lists(
    st.one_of(
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False),
        st.text(max_size=5).filter(lambda t: "\0" not in t and not t.startswith("\ufeff")),
        st.binary(max_size=5),
        st.lists(st.integers(-5, 5), max_size=3),
    ),
    max_size=5,
)


@settings(max_examples=300)
@given(
    arguments,
    st.integers(0, 0xFFFF),
    st.one_of(st.integers(0, 2**31 - 1).map(lambda i: {"cache_id": i}), st.just({"path": "A/B"})),
)
def test_remote_call_roundtrip(
    args: list[object], method_id: int, target: dict[str, object]
) -> None:
    wire = p.encode_remote_call(method_id, args, **target)  # type: ignore[arg-type]
    decoded = p.decode_packet(wire)
    assert isinstance(decoded, p.RemoteCall)
    expected = () if len(args) == 1 and args[0] == b"" else tuple(args)
    assert (decoded.method_id, decoded.args) == (method_id, expected)
    assert (decoded.cache_id, decoded.path) == (target.get("cache_id"), target.get("path"))


@settings(max_examples=500)
@given(st.binary(max_size=64))
def test_decode_packet_is_total(data: bytes) -> None:
    try:
        p.decode_packet(data)
    except p.ProtocolError:
        pass
