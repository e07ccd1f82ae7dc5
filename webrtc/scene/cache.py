"""The node path cache, both directions (Godot's scene_cache_interface.cpp).

Sending: the first RPC on a node gives it a cache id (from 1) and announces `id -> path` to each
target with SIMPLIFY_PATH; once a target answers CONFIRM_PATH the node goes by its id to that
target, until then by its path. Receiving: what each peer announced, `id -> path`, for calls
that name a node by id. A peer can announce at most `max_received` ids (a Godot game announces
one per node it calls RPCs on), all peers together `max_total`; more are refused and counted
by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_RECEIVED_PER_PEER = 4096
MAX_RECEIVED_TOTAL = 65536


@dataclass
class _SentNode:
    cache_id: int
    confirmed: dict[int, bool] = field(default_factory=dict)  # peer -> confirmed?


class PathCache:
    def __init__(
        self, max_received: int = MAX_RECEIVED_PER_PEER, max_total: int = MAX_RECEIVED_TOTAL
    ) -> None:
        self.max_received = max_received
        self.max_total = max_total
        self._total = 0  # entries in _received
        self._sent: dict[str, _SentNode] = {}  # node key -> its cache id and peers told
        self._by_id: dict[int, str] = {}  # our cache id -> node key
        self._received: dict[int, dict[int, str]] = {}  # peer -> their cache id -> node key
        self._next_id = 1

    def clear(self) -> None:
        """CACHE clear(): ids restart at 1."""
        self._sent.clear()
        self._by_id.clear()
        self._received.clear()
        self._total = 0
        self._next_id = 1

    # -- peers ----------------------------------------------------------------------------

    def add_peer(self, peer: int) -> None:
        self._received.setdefault(peer, {})

    def remove_peer(self, peer: int) -> None:
        """CACHE on_peer_change(false): forget what it announced and what it confirmed."""
        self._total -= len(self._received.pop(peer, {}))
        for node in self._sent.values():
            node.confirmed.pop(peer, None)

    # -- sending side -----------------------------------------------------------------------

    def cache_id(self, key: str) -> int:
        """CACHE make_object_cache: the node's id, assigned on first use."""
        node = self._sent.get(key)
        if node is None:
            node = self._sent[key] = _SentNode(self._next_id)
            self._by_id[self._next_id] = key
            self._next_id += 1
        return node.cache_id

    def to_announce(self, key: str, targets: list[int]) -> list[int]:
        """CACHE send_object_cache: the targets never told about the node; they are recorded
        as told-but-unconfirmed (the caller sends them SIMPLIFY_PATH)."""
        node = self._sent[key]
        new = [p for p in targets if p not in node.confirmed]
        for peer in new:
            node.confirmed[peer] = False
        return new

    def forget(self, key: str) -> None:
        """CACHE _remove_node_cache: the node left; its id is no longer ours to send."""
        node = self._sent.pop(key, None)
        if node is not None:
            del self._by_id[node.cache_id]

    def is_confirmed(self, key: str, peer: int) -> bool:
        node = self._sent.get(key)
        return node is not None and node.confirmed.get(peer, False)

    def confirm(self, peer: int, cache_id: int) -> bool:
        """CACHE process_confirm_path; False if the id is unknown or was never sent to `peer`."""
        key = self._by_id.get(cache_id)
        if key is None:
            return False
        node = self._sent[key]
        if peer not in node.confirmed:
            return False
        node.confirmed[peer] = True
        return True

    # -- receiving side ---------------------------------------------------------------------

    def receive(self, peer: int, cache_id: int, key: str) -> bool:
        """CACHE process_simplify_path: record `peer`'s id for a node. False (refused) for an
        unknown peer, a duplicate id, or past `max_received` / `max_total`."""
        table = self._received.get(peer)
        if table is None or cache_id in table or len(table) >= self.max_received:
            return False
        if self._total >= self.max_total:
            return False
        table[cache_id] = key
        self._total += 1
        return True

    def lookup(self, peer: int, cache_id: int) -> str | None:
        """CACHE get_cached_object: the node `peer` announced under `cache_id`."""
        return self._received.get(peer, {}).get(cache_id)
