"""`WebRTCPeerConnectionExtension`: Godot's virtual-method base class for custom backends.

Every public method calls the matching `_xxx` virtual. The defaults run this package's own stack,
so a subclass overrides only what it changes (e.g. to log or rewrite SDP, or to replace the whole
backend). `WebRTCPeerConnection.set_default_extension(cls)` makes `WebRTCPeerConnection()` build
`cls` (via `WebRTCPeerConnection.__new__`), with the same constructor arguments.
"""

from __future__ import annotations

from typing import Any

from .data_channel import WebRTCDataChannel
from .errors import Error
from .peer_connection import WebRTCPeerConnection
from .states import ConnectionState, GatheringState, SignalingState

_Base = WebRTCPeerConnection


class WebRTCPeerConnectionExtension(WebRTCPeerConnection):
    """Subclass and override `_initialize`, `_create_offer`, `_poll`, ... (Godot's virtuals)."""

    def initialize(self, configuration: dict[str, Any] | None = None) -> Error:
        return self._initialize({} if configuration is None else configuration)

    def create_data_channel(
        self, label: str, options: dict[str, Any] | None = None
    ) -> WebRTCDataChannel | None:
        return self._create_data_channel(label, {} if options is None else options)

    def create_offer(self) -> Error:
        return self._create_offer()

    def set_local_description(self, type: str, sdp: str) -> Error:
        return self._set_local_description(type, sdp)

    def set_remote_description(self, type: str, sdp: str) -> Error:
        return self._set_remote_description(type, sdp)

    def add_ice_candidate(self, media: str, index: int, name: str) -> Error:
        return self._add_ice_candidate(media, index, name)

    def poll(self) -> Error:
        return self._poll()

    def close(self) -> None:
        self._close()

    def get_connection_state(self) -> ConnectionState:
        return self._get_connection_state()

    def get_gathering_state(self) -> GatheringState:
        return self._get_gathering_state()

    def get_signaling_state(self) -> SignalingState:
        return self._get_signaling_state()

    # -- virtuals (Godot's names and argument order) --------------------------------------------

    def _initialize(self, p_config: dict[str, Any]) -> Error:
        return _Base.initialize(self, p_config)

    def _create_data_channel(
        self, p_label: str, p_config: dict[str, Any]
    ) -> WebRTCDataChannel | None:
        return _Base.create_data_channel(self, p_label, p_config)

    def _create_offer(self) -> Error:
        return _Base.create_offer(self)

    def _set_local_description(self, p_type: str, p_sdp: str) -> Error:
        return _Base.set_local_description(self, p_type, p_sdp)

    def _set_remote_description(self, p_type: str, p_sdp: str) -> Error:
        return _Base.set_remote_description(self, p_type, p_sdp)

    def _add_ice_candidate(
        self, p_sdp_mid_name: str, p_sdp_mline_index: int, p_sdp_name: str
    ) -> Error:
        return _Base.add_ice_candidate(self, p_sdp_mid_name, p_sdp_mline_index, p_sdp_name)

    def _poll(self) -> Error:
        return _Base.poll(self)

    def _close(self) -> None:
        _Base.close(self)

    def _get_connection_state(self) -> ConnectionState:
        return _Base.get_connection_state(self)

    def _get_gathering_state(self) -> GatheringState:
        return _Base.get_gathering_state(self)

    def _get_signaling_state(self) -> SignalingState:
        return _Base.get_signaling_state(self)


def find_extension_class(name: str) -> type[WebRTCPeerConnectionExtension] | None:
    """The extension subclass called `name` (Godot passes a class name), or None."""
    pending: list[type[WebRTCPeerConnectionExtension]] = [WebRTCPeerConnectionExtension]
    while pending:
        cls = pending.pop()
        if cls.__name__ == name or cls.__qualname__ == name:
            return cls
        pending.extend(cls.__subclasses__())
    return None
