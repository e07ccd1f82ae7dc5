"""`SceneMultiplayer` packets: what a Godot game puts inside each multiplayer packet.

Godot 4.6-dev `modules/multiplayer` (SM = scene_multiplayer.cpp, RPC = scene_rpc_interface.cpp,
CACHE = scene_cache_interface.cpp) and MAPI = scene/main/multiplayer_api.cpp, as written down in
MULTIPLAYER.md §5. Byte 0: low 3 bits = command, high bits = per-command flags; integers are
little-endian. `decode_packet` is total: a packet value or `ProtocolError`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from .. import variant
from ..godot_types import VariantType

CMD_MASK = 0x07
SYS_CMD_SIZE = 6  # SM: byte, sys byte, int32 id
SIMPLIFY_PATH_MIN_SIZE = 38  # CACHE process_simplify_path: 1 + 33 + 4
CONFIRM_PATH_SIZE = 6
MD5_HEX_SIZE = 32
PATH_FLAG = 0x80000000  # RPC: node id with bit 31 = offset of a trailing node path
NATIVE_METHOD_FLAG = 1 << 15  # RPC _parse_rpc_config: methods of Node.rpc_config
MAX_ARGS = 255  # RPC _send_rpc: one count byte

# REMOTE_CALL meta byte (RPC: CMD_FLAG_0/2/3_SHIFT = 4/6/7)
NODE_ID_COMPRESSION_SHIFT = 4
NAME_ID_COMPRESSION_SHIFT = 6
BYTE_ONLY_OR_NO_ARGS_FLAG = 1 << 7
NODE_ID_8, NODE_ID_16, NODE_ID_32 = 0, 1, 2
NAME_ID_8, NAME_ID_16 = 0, 1

# Compressed variant meta byte (MAPI encode_and_compress_variant)
VARIANT_META_TYPE_MASK = 0x3F
VARIANT_META_EMODE_SHIFT = 6
VARIANT_META_BOOL_FLAG = 0x80
ENCODE_8, ENCODE_16, ENCODE_32, ENCODE_64 = 0, 1, 2, 3

_I32 = struct.Struct("<i")
_U32 = struct.Struct("<I")
_U16 = struct.Struct("<H")
_INT_FORMATS = {ENCODE_8: "<b", ENCODE_16: "<h", ENCODE_32: "<i", ENCODE_64: "<q"}


class ProtocolError(ValueError):
    """A packet that is not a valid SceneMultiplayer packet; it is dropped."""


class NetworkCommand(IntEnum):
    """SM `NetworkCommands`."""

    REMOTE_CALL = 0
    SIMPLIFY_PATH = 1
    CONFIRM_PATH = 2
    RAW = 3
    SPAWN = 4
    DESPAWN = 5
    SYNC = 6
    SYS = 7


class SysCommand(IntEnum):
    """SM `SysCommands`."""

    AUTH = 0
    ADD_PEER = 1
    DEL_PEER = 2
    RELAY = 3


# -- packet values --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Auth:
    """`07 00` + data; empty data = "authentication complete" (SM send_auth/complete_auth)."""

    data: bytes


@dataclass(frozen=True)
class AddPeer:
    peer_id: int


@dataclass(frozen=True)
class DelPeer:
    peer_id: int


@dataclass(frozen=True)
class Relay:
    """Client → server: `peer_id` = destination (0 all, -n all but n); server → client: source."""

    peer_id: int
    packet: bytes


@dataclass(frozen=True)
class Raw:
    data: bytes


@dataclass(frozen=True)
class SimplifyPath:
    md5: str
    cache_id: int
    path: str


@dataclass(frozen=True)
class ConfirmPath:
    valid: bool
    cache_id: int


@dataclass(frozen=True)
class RemoteCall:
    """A call of method `method_id` on the node the sender cached as `cache_id`, or on `path`."""

    method_id: int
    args: tuple[Any, ...]
    cache_id: int | None = None
    path: str | None = None


@dataclass(frozen=True)
class Replication:
    """SPAWN / DESPAWN / SYNC: replication, which this port does not implement."""

    command: NetworkCommand
    data: bytes


Packet = (
    Auth | AddPeer | DelPeer | Relay | Raw | SimplifyPath | ConfirmPath | RemoteCall | Replication
)


# -- compressed arguments (MAPI) ------------------------------------------------------------------


def encode_compressed(value: Any) -> bytes:
    """MAPI `encode_and_compress_variant`: bools and ints compressed, the rest `encode_variant`."""
    if isinstance(value, bool):
        return bytes([VariantType.BOOL | (VARIANT_META_BOOL_FLAG if value else 0)])
    if isinstance(value, int):
        for mode, fmt in _INT_FORMATS.items():
            try:
                packed = struct.pack(fmt, value)
            except struct.error:
                continue
            return bytes([mode << VARIANT_META_EMODE_SHIFT | VariantType.INT]) + packed
        raise variant.VariantError("int out of 64-bit range")
    return variant.encode(value)  # byte 0 of the header is already the type


def decode_compressed(data: bytes, pos: int) -> tuple[Any, int]:
    """MAPI `decode_and_decompress_variant` at `pos`; the value and the offset past it."""
    if pos >= len(data):
        raise ProtocolError("argument missing")
    meta = data[pos]
    kind = meta & VARIANT_META_TYPE_MASK
    if kind == VariantType.BOOL:
        return bool(meta & VARIANT_META_BOOL_FLAG), pos + 1
    if kind == VariantType.INT:
        fmt = _INT_FORMATS[meta >> VARIANT_META_EMODE_SHIFT]
        end = pos + 1 + struct.calcsize(fmt)
        if end > len(data):
            raise ProtocolError("truncated int argument")
        return struct.unpack_from(fmt, data, pos + 1)[0], end
    try:
        return variant.decode_prefix(data, pos)
    except variant.VariantError as exc:
        raise ProtocolError(f"bad argument: {exc}") from exc


def encode_args(args: Sequence[Any]) -> tuple[bool, bytes]:
    """MAPI `encode_and_compress_variants`: (raw flag, bytes). No argument, or exactly one
    PackedByteArray (bytes), is the raw form: no count, the bytes as they are."""
    if not args:
        return True, b""
    if len(args) == 1 and isinstance(args[0], bytes | bytearray | memoryview):
        return True, bytes(args[0])
    if len(args) > MAX_ARGS:
        raise variant.VariantError("too many arguments (>255)")
    return False, b"".join(encode_compressed(a) for a in args)


def decode_args(data: bytes, pos: int, end: int, raw: bool) -> tuple[Any, ...]:
    """RPC `_process_rpc` + MAPI `decode_and_decompress_variants` over `data[pos:end]`.
    Bytes after the last argument are ignored, as Godot does."""
    if raw:  # one PackedByteArray if any bytes follow, else no argument
        return (data[pos:end],) if pos < end else ()
    if pos >= end:
        raise ProtocolError("argument count missing")
    argc = data[pos]
    pos += 1
    body = data[:end]
    args = []
    for _ in range(argc):
        if pos >= end:
            raise ProtocolError("fewer arguments than counted")
        value, pos = decode_compressed(body, pos)
        args.append(value)
    return tuple(args)


# -- encoding -------------------------------------------------------------------------------------


def encode_auth(data: bytes = b"") -> bytes:
    return bytes([NetworkCommand.SYS, SysCommand.AUTH]) + bytes(data)


def encode_sys(command: SysCommand, peer_id: int, packet: bytes = b"") -> bytes:
    """ADD_PEER / DEL_PEER / RELAY: `07 <sys> <i32 id>` (+ the relayed packet)."""
    return bytes([NetworkCommand.SYS, command]) + _I32.pack(peer_id) + bytes(packet)


def encode_raw(data: bytes) -> bytes:
    return bytes([NetworkCommand.RAW]) + bytes(data)


def encode_simplify_path(md5: str, cache_id: int, path: str) -> bytes:
    """CACHE `_send_confirm_path`: `01` md5-hex NUL u32-id path NUL."""
    return (
        bytes([NetworkCommand.SIMPLIFY_PATH])
        + md5.encode("ascii")
        + b"\0"
        + _U32.pack(cache_id)
        + path.encode("utf-8")
        + b"\0"
    )


def encode_confirm_path(valid: bool, cache_id: int) -> bytes:
    return bytes([NetworkCommand.CONFIRM_PATH, 1 if valid else 0]) + _U32.pack(cache_id)


def encode_remote_call(
    method_id: int,
    args: Sequence[Any],
    *,
    cache_id: int | None = None,
    path: str | None = None,
    wide: bool = False,
) -> bytes:
    """RPC `_send_rpc` for one target: by `path` (a 4-byte `0x80000000 | offset` of the
    NUL-terminated path appended at the end), or by a confirmed `cache_id` in the smallest
    width that fits — or always 4 bytes with `wide`, as Godot writes it when some other target
    of the same call has not confirmed the node yet."""
    raw, body = encode_args(args)
    if path is not None:
        node_mode, node = NODE_ID_32, b""
    elif cache_id is None:
        raise ValueError("a cache id or a path is needed")
    elif wide or cache_id > 0xFFFF:
        node_mode, node = NODE_ID_32, _U32.pack(cache_id)
    elif cache_id <= 0xFF:
        node_mode, node = NODE_ID_8, bytes([cache_id])
    else:
        node_mode, node = NODE_ID_16, _U16.pack(cache_id)
    if method_id <= 0xFF:
        name = bytes([method_id])
        name_mode = NAME_ID_8
    else:
        name = _U16.pack(method_id)
        name_mode = NAME_ID_16
    meta = (
        NetworkCommand.REMOTE_CALL
        | node_mode << NODE_ID_COMPRESSION_SHIFT
        | name_mode << NAME_ID_COMPRESSION_SHIFT
        | (BYTE_ONLY_OR_NO_ARGS_FLAG if raw else 0)
    )
    tail = name + (body if raw else bytes([len(args)]) + body)
    if path is None:
        return bytes([meta]) + node + tail
    offset = 1 + 4 + len(tail)  # where the path starts
    return bytes([meta]) + _U32.pack(PATH_FLAG | offset) + tail + path.encode("utf-8") + b"\0"


# -- decoding -------------------------------------------------------------------------------------


def _utf8_until_nul(raw: bytes) -> str:
    """Godot's `String::utf8(ptr, len)`: stops at the first NUL; invalid UTF-8 is refused."""
    nul = raw.find(b"\0")
    if nul >= 0:
        raw = raw[:nul]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError("text is not UTF-8") from exc


def decode_packet(data: bytes) -> Packet:
    """Parse one packet as SceneMultiplayer's receiving code does; `ProtocolError` if it would
    drop it."""
    data = bytes(data)
    if not data:
        raise ProtocolError("empty packet")
    command = NetworkCommand(data[0] & CMD_MASK)
    if command == NetworkCommand.SYS:
        return _decode_sys(data)
    if command == NetworkCommand.RAW:
        if len(data) < 2:  # SM _process_raw
            raise ProtocolError("empty raw packet")
        return Raw(data[1:])
    if command == NetworkCommand.SIMPLIFY_PATH:
        if len(data) < SIMPLIFY_PATH_MIN_SIZE:
            raise ProtocolError("short SIMPLIFY_PATH")
        md5 = _utf8_until_nul(data[1 : 1 + MD5_HEX_SIZE])
        cache_id = _U32.unpack_from(data, 34)[0]
        return SimplifyPath(md5, cache_id, _utf8_until_nul(data[38:]))
    if command == NetworkCommand.CONFIRM_PATH:
        if len(data) != CONFIRM_PATH_SIZE:
            raise ProtocolError("CONFIRM_PATH is not 6 bytes")
        return ConfirmPath(data[1] != 0, _U32.unpack_from(data, 2)[0])
    if command == NetworkCommand.REMOTE_CALL:
        return _decode_remote_call(data)
    return Replication(command, data)


def _decode_sys(data: bytes) -> Packet:
    if len(data) < 2:
        raise ProtocolError("short SYS packet")
    if data[1] == SysCommand.AUTH:
        return Auth(data[2:])
    if len(data) < SYS_CMD_SIZE:  # SM _process_sys
        raise ProtocolError("short SYS packet")
    peer_id = _I32.unpack_from(data, 2)[0]
    if data[1] == SysCommand.ADD_PEER:
        return AddPeer(peer_id)
    if data[1] == SysCommand.DEL_PEER:
        return DelPeer(peer_id)
    if data[1] == SysCommand.RELAY:
        if len(data) < SYS_CMD_SIZE + 1:
            raise ProtocolError("empty RELAY")
        return Relay(peer_id, data[SYS_CMD_SIZE:])
    raise ProtocolError(f"unknown SYS command {data[1]}")


def _decode_remote_call(data: bytes) -> RemoteCall:
    meta = data[0]
    node_mode = meta >> NODE_ID_COMPRESSION_SHIFT & 3
    name_mode = meta >> NAME_ID_COMPRESSION_SHIFT & 1
    node_size = {NODE_ID_8: 1, NODE_ID_16: 2, NODE_ID_32: 4}.get(node_mode)
    if node_size is None:
        raise ProtocolError("invalid node id compression")
    name_size = 1 if name_mode == NAME_ID_8 else 2
    offset = 1 + node_size + name_size  # RPC process_rpc: packet_min_size
    if len(data) < offset:
        raise ProtocolError("short REMOTE_CALL")
    node_target = int.from_bytes(data[1 : 1 + node_size], "little")
    method_id = int.from_bytes(data[1 + node_size : offset], "little")
    end, cache_id, path = len(data), None, None
    if node_target & PATH_FLAG:  # RPC _process_get_node: path form
        end = node_target & ~PATH_FLAG
        if end >= len(data):
            raise ProtocolError("node path offset beyond the packet")
        if end < offset:  # RPC _process_rpc: p_offset > p_packet_len
            raise ProtocolError("node path offset inside the header")
        path = _utf8_until_nul(data[end:])
    else:
        cache_id = node_target
    args = decode_args(data, offset, end, bool(meta & BYTE_ONLY_OR_NO_ARGS_FLAG))
    return RemoteCall(method_id, args, cache_id, path)
