"""Godot's `PacketPeer` base (core/io/packet_peer.cpp): `put_var`/`get_var` over a transport's
packets and the encode buffer limit. `WebRTCDataChannel` and `MultiplayerPeer` build on it."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from . import variant
from .errors import Error
from .logs import clip

DEFAULT_ENCODE_BUFFER_MAX_SIZE = 8 * 1024 * 1024  # PacketPeer default
MIN_ENCODE_BUFFER_MAX_SIZE = 1024  # PacketPeer::set_encode_buffer_max_size bounds
MAX_ENCODE_BUFFER_MAX_SIZE = 256 * 1024 * 1024

logger = logging.getLogger(__name__)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class PacketPeer(ABC):
    """Variants over packets. Subclasses implement the packet methods; every failure returns
    Godot's `Error` and is logged as Godot prints it."""

    _encode_buffer_max_size: int  # set by the subclass (DEFAULT_ENCODE_BUFFER_MAX_SIZE)

    @abstractmethod
    def put_packet(self, buffer: bytes) -> Error: ...

    @abstractmethod
    def get_packet(self) -> bytes: ...

    @abstractmethod
    def get_packet_error(self) -> Error: ...

    @abstractmethod
    def _set_packet_error(self, err: Error) -> None:
        """What `get_packet_error` reports from now on (get_var's ERR_INVALID_DATA)."""

    def get_encode_buffer_max_size(self) -> int:
        return self._encode_buffer_max_size

    def set_encode_buffer_max_size(self, max_size: int) -> None:
        """At least 1 KiB, at most 256 MiB, rounded up to a power of two; a value outside is
        refused with an error log and the size stays as it was."""
        if not _is_int(max_size):
            logger.error("set_encode_buffer_max_size: not an int: %s", clip(max_size))
        elif max_size < MIN_ENCODE_BUFFER_MAX_SIZE:
            logger.error("Max encode buffer must be at least 1024 bytes")
        elif max_size > MAX_ENCODE_BUFFER_MAX_SIZE:
            logger.error("Max encode buffer cannot exceed 256 MiB")
        else:
            self._encode_buffer_max_size = 1 << (max_size - 1).bit_length()  # next_power_of_2

    encode_buffer_max_size = property(get_encode_buffer_max_size, set_encode_buffer_max_size)

    def put_var(self, var: Any, full_objects: bool = False) -> Error:
        """Send `var` as Godot's `encode_variant` bytes (see `webrtc.variant`); never pickle."""
        try:
            payload = variant.encode(var)
        except (variant.VariantError, UnicodeError) as exc:  # e.g. a str with a lone surrogate
            logger.error("Error when trying to encode Variant: %s", clip(exc))
            return Error.ERR_INVALID_PARAMETER
        if len(payload) > self._encode_buffer_max_size:
            logger.error(
                "Failed to encode variant, encode size is bigger then encode_buffer_max_size."
            )
            return Error.ERR_OUT_OF_MEMORY
        return self.put_packet(payload)  # an empty encoding cannot happen: a header is 4 bytes

    def get_var(self, allow_objects: bool = False) -> Any:
        """Decode the next packet as a Variant; None if there is none or it does not decode
        (then `get_packet_error()` is ERR_INVALID_DATA)."""
        data = self.get_packet()
        if self.get_packet_error() is not Error.OK:
            logger.error("Error while fetching var")
            return None
        try:
            return variant.decode(data)
        except variant.VariantError as exc:
            self._set_packet_error(Error.ERR_INVALID_DATA)
            logger.error("Error while fetching var: %s", clip(exc))
            return None
