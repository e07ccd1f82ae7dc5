"""RPC declarations: which methods of a node may be called remotely, and their ids on the wire.

Godot's rules (scene_rpc_interface.cpp `_parse_rpc_config`, `get_rpc_md5`): a node has two RPC
lists, the native one (`Node.rpc_config`) and the script's (`@rpc`). Each is sorted by method
name (`StringLikeVariantOrder`: code point order) and a method's id is its index in its list,
with bit 15 set for the native list. The node's checksum, sent in SIMPLIFY_PATH, is the md5 hex
of the concatenated names, native list first. Both sides of a game must declare the same
methods for the ids to agree.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from ..godot_types import NodePath
from ..multiplayer import TransferMode
from .protocol import NATIVE_METHOD_FLAG

RPC_ATTRIBUTE = "__godot_rpc__"


class RPCMode(IntEnum):
    """`MultiplayerAPI.RPCMode`."""

    RPC_MODE_DISABLED = 0
    RPC_MODE_ANY_PEER = 1
    RPC_MODE_AUTHORITY = 2


@dataclass(frozen=True)
class RPCConfig:
    """One method's `@rpc` settings (defaults as GDScript's bare `@rpc`)."""

    rpc_mode: RPCMode = RPCMode.RPC_MODE_AUTHORITY
    call_local: bool = False
    transfer_mode: TransferMode = TransferMode.TRANSFER_MODE_RELIABLE
    channel: int = 0


_MODES = {"any_peer": RPCMode.RPC_MODE_ANY_PEER, "authority": RPCMode.RPC_MODE_AUTHORITY}
_SYNC = {"call_local": True, "call_remote": False}
_TRANSFER = {
    "reliable": TransferMode.TRANSFER_MODE_RELIABLE,
    "unreliable": TransferMode.TRANSFER_MODE_UNRELIABLE,
    "unreliable_ordered": TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED,
}


def parse_rpc_options(*options: str | int) -> RPCConfig:
    """GDScript's `@rpc(...)` arguments, in any order: "any_peer"/"authority",
    "call_local"/"call_remote", "reliable"/"unreliable"/"unreliable_ordered", and an int
    channel. `ValueError` for anything else or a repeated kind."""
    values: dict[str, Any] = {}
    for option in options:
        if isinstance(option, int) and not isinstance(option, bool):
            key, value = "channel", option
        elif option in _MODES:
            key, value = "rpc_mode", _MODES[str(option)]
        elif option in _SYNC:
            key, value = "call_local", _SYNC[str(option)]
        elif option in _TRANSFER:
            key, value = "transfer_mode", _TRANSFER[str(option)]
        else:
            raise ValueError(f"unknown @rpc option {option!r}")
        if key in values:
            raise ValueError(f"@rpc option {key} given twice")
        values[key] = value
    return RPCConfig(**values)


def rpc(*options: str | int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator declaring a method an RPC, with GDScript's `@rpc` arguments:

    @rpc("any_peer", "call_local")
    def ping(self, argument: float) -> None: ...
    """
    config = parse_rpc_options(*options)

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        setattr(fn, RPC_ATTRIBUTE, config)
        return fn

    return mark


def _signature(function: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(function)
    except (TypeError, ValueError):  # no signature available (some builtins)
        return None


@dataclass(frozen=True)
class RPCMethod:
    name: str
    method_id: int
    config: RPCConfig
    function: Callable[..., Any]
    signature: inspect.Signature | None = None

    def accepts(self, argc: int) -> bool:
        """Whether the Python callable takes `argc` positional arguments (unknown: yes, and
        the call decides)."""
        if self.signature is None:
            return True
        try:
            self.signature.bind(*([None] * argc))
        except TypeError:
            return False
        return True


@dataclass
class RPCNode:
    """One node's RPC methods, its multiplayer authority (1 = the server, Godot's default)."""

    authority: int = 1
    script: dict[str, tuple[RPCConfig, Callable[..., Any]]] = field(default_factory=dict)
    native: dict[str, tuple[RPCConfig, Callable[..., Any]]] = field(default_factory=dict)
    _by_id: dict[int, RPCMethod] | None = field(default=None, repr=False)
    _by_name: dict[str, RPCMethod] | None = field(default=None, repr=False)

    def add(
        self, name: str, function: Callable[..., Any], config: RPCConfig, native: bool = False
    ) -> None:
        (self.native if native else self.script)[name] = (config, function)
        self._by_id = self._by_name = None

    def _build(self) -> tuple[dict[int, RPCMethod], dict[str, RPCMethod]]:
        if self._by_id is None or self._by_name is None:
            by_id: dict[int, RPCMethod] = {}
            by_name: dict[str, RPCMethod] = {}
            for table, flag in ((self.native, NATIVE_METHOD_FLAG), (self.script, 0)):
                for index, name in enumerate(sorted(table)):
                    config, function = table[name]
                    method = RPCMethod(name, index | flag, config, function, _signature(function))
                    by_id[method.method_id] = method
                    by_name[name] = method  # a script method shadows a native one
            self._by_id, self._by_name = by_id, by_name
        return self._by_id, self._by_name

    def by_id(self, method_id: int) -> RPCMethod | None:
        return self._build()[0].get(method_id)

    def by_name(self, name: str) -> RPCMethod | None:
        return self._build()[1].get(name)

    def md5(self) -> str:
        """CACHE checksum: md5 hex of every name in id order (native list, then script list)."""
        names = "".join(sorted(self.native)) + "".join(sorted(self.script))
        return hashlib.md5(names.encode("utf-8"), usedforsecurity=False).hexdigest()


def resolve_path(path: str | NodePath, root_path: NodePath) -> str | None:
    """A node path as the key SceneMultiplayer uses: relative to the multiplayer root, "."
    and ".." resolved, "." for the root itself; None if it leaves the root. Subnames are
    ignored (Node.get_node does the same)."""
    node_path = path if isinstance(path, NodePath) else NodePath.from_string(path)
    names = list(node_path.names)
    if node_path.absolute:
        root = list(root_path.names)
        if names[: len(root)] != root:
            return None
        names = names[len(root) :]
    out: list[str] = []
    for name in names:
        if name == ".":
            continue
        if name == "..":
            if not out:
                return None
            out.pop()
        else:
            out.append(name)
    return "/".join(out) or "."


def methods_of(obj: Any) -> dict[str, tuple[RPCConfig, Callable[..., Any]]]:
    """Every `@rpc`-decorated method of `obj` (bound), by name."""
    found = {}
    for name in dir(obj):
        try:
            attr = getattr(obj, name)
        except AttributeError:
            continue
        config = getattr(attr, RPC_ATTRIBUTE, None)
        if isinstance(config, RPCConfig) and callable(attr):
            found[name] = (config, attr)
    return found
