"""Candidate pairs and the check list (RFC 8445 §6.1.2, §6.1.4)."""

from __future__ import annotations

import bisect
import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import sdp

from .candidates import pair_priority

Address = tuple[str, int]
PairKey = tuple[Address, Address | None, Address]

# RFC 8445 §6.1.2.5: the check-list size limit MUST be configurable; 100 by default.
DEFAULT_MAX_PAIRS = 100


class PairState(enum.Enum):
    """RFC 8445 §6.1.2.6 candidate-pair states."""

    FROZEN = "frozen"
    WAITING = "waiting"
    IN_PROGRESS = "in-progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(eq=False)
class LocalCandidate:
    """A local candidate and where its traffic leaves from.

    `base` is the driver's socket address (RFC 8445 §5.1.1.1 base) that sends for this candidate;
    for a relayed candidate `relay_server` names the TURN server whose allocation owns it.
    """

    candidate: sdp.Candidate
    base: Address
    relay_server: Address | None = None

    @property
    def address(self) -> Address:
        return (self.candidate.address, self.candidate.port)

    @property
    def type(self) -> str:
        return self.candidate.type


@dataclass(eq=False)
class CandidatePair:
    """A local/remote pair with its check state (RFC 8445 §6.1.2)."""

    local: LocalCandidate
    remote: sdp.Candidate
    remote_address: Address
    priority: int = 0
    state: PairState = PairState.FROZEN
    # RFC 8445 §7.2.5.3.2: the valid pair's local candidate (the mapped address), once succeeded.
    valid_local: sdp.Candidate | None = None
    nominated: bool = False
    # Controlled side: USE-CANDIDATE seen before our own check on the pair succeeded (§7.3.1.5).
    nominate_on_success: bool = False
    # Controlling side: the next check on this pair carries USE-CANDIDATE (§8.1.1).
    use_candidate: bool = False
    # The peer sent a check without USE-CANDIDATE on this pair: a later USE-CANDIDATE is regular
    # nomination (RFC 8445 §8.1.1), not aggressive nomination (RFC 5245 §8.1.1.2).
    peer_checked: bool = False
    # When an authenticated check from the peer last arrived on this pair (RFC 8445 §7.3): the
    # peer is reachable at `remote_address` now (used to follow a NAT rebinding).
    peer_seen_at: float | None = None
    # RFC 7675 §5.1: when our last check on this pair got an authenticated success response.
    consent_at: float = 0.0
    # Monotonic insertion counter, a stable tie-break for equal priorities.
    order: int = field(default=0)

    @property
    def foundation(self) -> tuple[str, str]:
        """Pair foundation: local and remote foundations (RFC 8445 §6.1.2.6)."""
        return (self.local.candidate.foundation, self.remote.foundation)

    @property
    def valid(self) -> bool:
        return self.valid_local is not None

    def compute_priority(self, controlling: bool) -> None:
        """Pair priority from the controlling (G) and controlled (D) agents' candidates."""
        local = self.local.candidate.priority
        remote = self.remote.priority
        if controlling:
            self.priority = pair_priority(local, remote)
        else:
            self.priority = pair_priority(remote, local)

    def __repr__(self) -> str:
        lc = self.local.candidate
        return (
            f"<CandidatePair {lc.type} {lc.address}:{lc.port} -> {self.remote.type} "
            f"{self.remote_address[0]}:{self.remote_address[1]} {self.state.value}"
            f"{' nominated' if self.nominated else ''}>"
        )


def pair_key(local: LocalCandidate, remote_address: Address) -> PairKey:
    """Redundancy key (RFC 8445 §6.1.2.4): same local base (and relay) and same remote address."""
    return (local.base, local.relay_server, remote_address)


class CheckList:
    """The (single data stream, single component) check list of an agent.

    Pairs are kept sorted by descending priority; `triggered` is the FIFO triggered-check queue
    (RFC 8445 §6.1.4.1). `on_remove` is called with every pair `remove()` drops (pruning
    included), not on `clear()`.
    """

    def __init__(self, max_pairs: int = DEFAULT_MAX_PAIRS) -> None:
        self.max_pairs = max_pairs
        self.pairs: list[CandidatePair] = []
        self.triggered: deque[CandidatePair] = deque()
        self.on_remove: Callable[[CandidatePair], None] | None = None
        self._by_key: dict[PairKey, CandidatePair] = {}
        self._counter = 0

    def __len__(self) -> int:
        return len(self.pairs)

    def find(self, local: LocalCandidate, remote_address: Address) -> CandidatePair | None:
        return self._by_key.get(pair_key(local, remote_address))

    def add(self, pair: CandidatePair, controlling: bool) -> CandidatePair | None:
        """Insert `pair`, pruning redundancy; returns the pair kept, or None if it was dropped.

        A redundant pair (same local base and remote address) keeps the higher-priority remote
        candidate (RFC 8445 §6.1.2.4) and its existing check state.
        """
        pair.compute_priority(controlling)
        key = pair_key(pair.local, pair.remote_address)
        existing = self._by_key.get(key)
        if existing is not None:
            if pair.priority > existing.priority:
                existing.remote = pair.remote
                existing.compute_priority(controlling)
                self.sort()
            return existing
        # RFC 8445 §6.1.2.6 / RFC 8838 §8: a new pair waits unless its foundation is already
        # being checked, in which case it stays frozen until that check concludes.
        busy = any(
            p.foundation == pair.foundation
            and p.state in (PairState.WAITING, PairState.IN_PROGRESS)
            for p in self.pairs
        )
        pair.state = PairState.FROZEN if busy else PairState.WAITING
        self._counter += 1
        pair.order = self._counter
        # already sorted: one insertion, not a sort (a trickled candidate costs O(pairs) here)
        bisect.insort(self.pairs, pair, key=_sort_key)
        self._by_key[key] = pair
        if len(self.pairs) > self.max_pairs:
            # RFC 8445 §6.1.2.5: drop the lowest-priority pairs that have not been checked.
            for victim in reversed(self.pairs):
                if victim.state in (PairState.FROZEN, PairState.WAITING) and victim is not pair:
                    self.remove(victim)
                    break
            else:
                self.remove(pair)
                return None
        return pair

    def remove(self, pair: CandidatePair) -> None:
        self.pairs.remove(pair)
        self._by_key.pop(pair_key(pair.local, pair.remote_address), None)
        try:
            self.triggered.remove(pair)
        except ValueError:
            pass
        if self.on_remove is not None:
            self.on_remove(pair)

    def sort(self) -> None:
        self.pairs.sort(key=_sort_key)

    def recompute_priorities(self, controlling: bool) -> None:
        """After a role switch (RFC 8445 §7.3.1.1) every pair priority changes."""
        for p in self.pairs:
            p.compute_priority(controlling)
        self.sort()

    def trigger(self, pair: CandidatePair) -> None:
        """Enqueue a triggered check (RFC 8445 §7.3.1.4); the pair becomes Waiting, except a
        Succeeded pair re-checked for nomination (§8.1.1), which stays Succeeded."""
        if pair.state is not PairState.SUCCEEDED:
            pair.state = PairState.WAITING
        if pair not in self.triggered:
            self.triggered.append(pair)

    def unfreeze_foundation(self, foundation: tuple[str, str]) -> None:
        """RFC 8445 §7.2.5.3.3: a success unfreezes the pairs with the same foundation."""
        for p in self.pairs:
            if p.state is PairState.FROZEN and p.foundation == foundation:
                p.state = PairState.WAITING

    def next_pair(self) -> CandidatePair | None:
        """The pair to check next: triggered queue first, else the best Waiting pair, else the
        best Frozen pair gets unfrozen (RFC 8445 §6.1.4.2)."""
        return self.next_triggered() or self.next_ordinary()

    def next_triggered(self) -> CandidatePair | None:
        """Pop the next valid entry of the triggered-check queue (RFC 8445 §6.1.4.2 step 1)."""
        while self.triggered:
            p = self.triggered.popleft()
            if p.state in (PairState.WAITING, PairState.SUCCEEDED) and self._contains(p):
                return p
        return None

    def next_ordinary(self) -> CandidatePair | None:
        """The best Waiting pair, else the best Frozen pair, unfrozen (§6.1.4.2 steps 2-3)."""
        frozen: CandidatePair | None = None
        for p in self.pairs:
            if p.state is PairState.WAITING:
                return p
            if frozen is None and p.state is PairState.FROZEN:
                frozen = p
        if frozen is not None:
            frozen.state = PairState.WAITING
        return frozen

    def contains(self, pair: CandidatePair) -> bool:
        """Whether `pair` itself (not just an equal-keyed pair) is in the list."""
        return self._contains(pair)

    def _contains(self, pair: CandidatePair) -> bool:
        return self._by_key.get(pair_key(pair.local, pair.remote_address)) is pair

    def has_pending(self) -> bool:
        """Whether any pair is Frozen, Waiting or In-Progress, or a triggered check is queued."""
        return bool(self.triggered) or any(
            p.state in (PairState.FROZEN, PairState.WAITING, PairState.IN_PROGRESS)
            for p in self.pairs
        )

    def count(self, *states: PairState) -> int:
        return sum(1 for p in self.pairs if p.state in states)

    def clear(self) -> None:
        self.pairs.clear()
        self.triggered.clear()
        self._by_key.clear()


def _sort_key(pair: CandidatePair) -> tuple[int, int]:
    """Check-list order: descending priority, then insertion order (stable for equal ones)."""
    return (-pair.priority, pair.order)
