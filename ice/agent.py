"""The ICE agent (RFC 8445 full agent, RFC 8838 trickle, RFC 7675 consent freshness), sans-I/O.

One data stream, one component (WebRTC with rtcp-mux/BUNDLE), UDP only.

The driver binds one UDP socket per local address and passes those addresses to `gather()`; every
datagram read from any socket goes to `receive(data, addr, now, local)`, and everything from
`datagrams_to_send()` goes out as `(data, local_address, remote_address)`.

mDNS (`<uuid>.local`) remote candidates (draft-ietf-mmusic-mdns-ice-candidates) are resolved
with RFC 6762 §5.1 one-shot queries (`ice.mdns`): A and AAAA queries go out through
`datagrams_to_send()` from every IPv4 host socket to 224.0.0.251:5353, three tries 1 s apart, at
most 16 names at a time. An RFC 6762 responder answers by unicast to our port (§6.7); `receive()`
hands datagrams from source port 5353 to the resolver before the RFC 7983 first-byte demux (and
lets them through if they answer nothing). Chromium answers only by multicast: a driver may bind
a socket to port 5353 joined to the group and pass what it reads to `receive_mdns()`. A resolved
name becomes an ordinary remote candidate (same foundation/priority/port, the resolved IP), paired
like a host candidate; a prflx candidate already learned at that address is replaced by it. Until
then, or when no answer comes, the candidate is unused (counted in
`stats["mdns_candidates_ignored"]` on arrival): the peer's checks still reach us and we learn its
address as a peer-reflexive candidate (RFC 8445 §7.3.1.3).

NAT rebinding (the peer's address changes mid-session; the old mapping may be dead): the peer's
next authenticated check arrives from a new address, which becomes a peer-reflexive candidate and
a triggered check (RFC 8445 §7.3.1.3/§7.3.1.4), also on a controlling agent that has already
nominated. Once the selected pair misses a consent check (RFC 7675) while another valid pair has
had an authenticated check from the peer since the selected pair last answered, the agent moves:

* controlled: it selects that pair itself (the nomination follows the peer to its new address)
  and still follows a new USE-CANDIDATE nomination from the controlling agent;
* controlling: it nominates that pair again (USE-CANDIDATE) and selects it on success.

This departs from RFC 8445 §8.1.1, which forbids nominating a second pair for a component
without an ICE restart; Chromium/libwebrtc switches its selected connection the same way (its
controlling side re-nominates, its controlled side follows the newest nomination or a writable
connection). Data keeps flowing: at most the datagrams sent to the dead address, and those
arriving from the peer's new address before its first authenticated check from there (see
below), are lost, which SCTP retransmits. The agent whose own mapping changed needs nothing:
responses and the peer's traffic still reach its socket.

Before a pair is selected, data goes on the best valid pair (RFC 8445 §12.1), and consent
freshness (RFC 7675 §5.1) covers that pair too: one consent check per randomised interval goes
to whichever valid pair data currently goes on. A valid pair without an authenticated response
for `consent_timeout` fails (`stats["consent_expired"]`) and data moves to the next valid pair
whose own consent is still fresh; with none left, consent is lost (FAILED, sending stops) as for
the selected pair. Once a pair is selected only the selected pair is checked.

Application data is accepted only from a proven source: `receive()` returns non-STUN datagrams
(and payloads unwrapped from TURN) only when their (socket, relay, remote address) is a candidate
pair the peer has proven, by an authenticated check received on it (RFC 8445 §7.3) or a
successful response to our check on it (§7.2.5). Anything else is dropped and counted in
`stats["data_from_unknown_source"]`, as browsers do: an off-path host cannot inject DTLS. The
peer may start DTLS as soon as its own check succeeds, before ours does; its authenticated
request has already proven that pair. The lookup is one dict probe per datagram. After an ICE
restart the old selected pair stays proven until a new pair is selected.

Peer-reflexive remote candidates are bounded (`max_prflx_remote`, half the pair limit by
default): any authenticated check creates one, and a captured check can be replayed from any
number of addresses (STUN has no replay protection). RFC 8445 §6.1.2.5 limits the pairs; this is
the candidate-side equivalent. When full, the least recently checked prflx candidate that is not
in the selected, the nominating or a nominated/succeeded pair is evicted with its pairs
(`stats["prflx_remote_evicted"]`); if every one is in use the new one is refused
(`stats["prflx_remote_refused"]`).

Signalled remote candidates are bounded too (`max_remote_candidates`, the pair limit, 100, by
default): later ones are refused (`stats["remote_candidates_refused"]`) before their address is
parsed. A trickled candidate is paired with each local candidate (one ordered insertion into the
check list each), and gathering pairs a new local candidate with at most the table's worth.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import sdp

from . import stun
from .candidates import (
    TYPE_PREFERENCE,
    candidate_priority,
    compute_foundation,
    is_ipv6,
    is_mdns_name,
    local_preference,
    normalize_address,
)
from .checklist import (
    DEFAULT_MAX_PAIRS,
    CandidatePair,
    CheckList,
    LocalCandidate,
    PairKey,
    PairState,
    pair_key,
)
from .events import (
    CandidateGathered,
    Event,
    GatheringComplete,
    GatheringState,
    IceState,
    SelectedPairChanged,
    StateChanged,
)
from .mdns import MDNS_ADDRESS_V4, MDNS_PORT, MdnsError, MdnsResolver
from .stun import Attr, Class, ClientTransaction, Message, Method, StunError
from .turn import Allocated, AllocationFailed, DataReceived, TurnClient, TurnState

Address = tuple[str, int]
Datagram = tuple[bytes, Address, Address]

# RFC 8445 §14.2: Ta, the pacing interval of new STUN transactions.
DEFAULT_TA = 0.05
# RFC 8445 §14.3: connectivity-check RTO floor.
MIN_CHECK_RTO = 0.5
# RFC 8863 §5 (PAC): do not declare failure before a check's full transaction timeout.
PAC_TIMEOUT = 39.5
# RFC 7675 §5.1: consent checks every 5 s, randomised to [0.8, 1.2] x; expiry after 30 s.
CONSENT_INTERVAL = 5.0
CONSENT_TIMEOUT = 30.0
# Policy (not RFC): report DISCONNECTED after this many consecutive unanswered consent checks.
# One: a consent check unanswered through all its retransmissions (4 s, see CONSENT_RC) means the
# peer has been silent for 4-10 s (checks go out every 4-6 s). libwebrtc is as quick: a selected
# connection turns unwritable after ~5 s of unanswered pings and the transport reports
# "disconnected". Two misses (8-16 s) hid a 10 s outage entirely. FAILED still waits for RFC 7675's
# 30 s consent expiry.
DISCONNECTED_MISSES = 1
# Policy: signalled remote candidates kept (later ones are refused, counted in
# `stats["remote_candidates_refused"]`): the check list holds DEFAULT_MAX_PAIRS pairs (RFC 8445
# §6.1.2.5), so more candidates than pairs could never all be checked; a browser signals a few.
DEFAULT_MAX_REMOTE_CANDIDATES = DEFAULT_MAX_PAIRS
# Policy: how long the controlling agent waits for better pairs before nominating the best valid.
NOMINATION_DELAY = 0.5
# Server-reflexive gathering gives up faster than a connectivity check (sends at 0, .5, 1.5, 3.5 s).
GATHER_RC = 4
GATHER_RM = 4
# Policy: each consent check (a new transaction, RFC 7675 §5.1) is retransmitted at 0.5, 1.5 and
# 3.5 s and given up at 4 s, before the next one is due; a single lost datagram is not a miss.
CONSENT_RC = 4
CONSENT_RM = 1

_ICE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _random_ice_string(length: int) -> str:
    # RFC 8445 §5.3: ufrag >= 24 bits, pwd >= 128 bits of randomness; credentials come from the OS.
    return "".join(secrets.choice(_ICE_CHARS) for _ in range(length))


@dataclass(frozen=True, slots=True)
class TurnServer:
    """A TURN server (UDP) with long-term credentials (RFC 8656)."""

    address: tuple[str, int]
    username: str
    password: str


@dataclass(eq=False, slots=True)
class _Check:
    """An outstanding connectivity or consent check transaction."""

    pair: CandidatePair
    transaction: ClientTransaction
    key: bytes
    controlling: bool
    use_candidate: bool
    priority: int
    consent: bool
    # RFC 8445 §7.3.1.4: cancelled checks are not retransmitted and do not fail their pair,
    # but a response still counts.
    cancelled: bool = False


@dataclass(eq=False, slots=True)
class _Gather:
    """An outstanding server-reflexive gathering transaction (RFC 8445 §5.1.1.2)."""

    base: Address
    server: Address
    transaction: ClientTransaction


class Agent:
    """A full ICE agent for one component. See the module docstring for the driver contract."""

    def __init__(
        self,
        *,
        controlling: bool,
        rng: random.Random | None = None,
        local_ufrag: str | None = None,
        local_pwd: str | None = None,
        stun_servers: Sequence[tuple[str, int]] = (),
        turn_servers: Sequence[TurnServer] = (),
        tie_breaker: int | None = None,
        ta: float = DEFAULT_TA,
        max_pairs: int = DEFAULT_MAX_PAIRS,
        consent_interval: float = CONSENT_INTERVAL,
        consent_timeout: float = CONSENT_TIMEOUT,
        disconnected_misses: int = DISCONNECTED_MISSES,
        nomination_delay: float = NOMINATION_DELAY,
        relay_only: bool = False,
        max_prflx_remote: int | None = None,
        max_remote_candidates: int = DEFAULT_MAX_REMOTE_CANDIDATES,
    ) -> None:
        self._rng = rng if rng is not None else random.Random()
        self.controlling = controlling
        self.local_ufrag = local_ufrag or _random_ice_string(8)
        self.local_pwd = local_pwd or _random_ice_string(24)
        self._local_key = self.local_pwd.encode()
        # RFC 8445 §7.1.1 / §16.1: 64-bit tie-breaker.
        self.tie_breaker = tie_breaker if tie_breaker is not None else self._rng.getrandbits(64)
        self.stun_servers = [s for s in (_norm(a) for a in stun_servers) if s is not None]
        self.turn_servers = list(turn_servers)
        self.ta = ta
        self.consent_interval = consent_interval
        self.consent_timeout = consent_timeout
        self.disconnected_misses = disconnected_misses
        self._consent_misses = 0
        self.nomination_delay = nomination_delay
        # W3C iceTransportPolicy "relay": only relayed candidates are signalled, paired, answered.
        self.relay_only = relay_only

        self.state = IceState.NEW
        self.gathering_state = GatheringState.NEW
        self.selected_pair: CandidatePair | None = None
        self.stats: Counter[str] = Counter()

        self.remote_ufrag: str | None = None
        self.remote_pwd: str | None = None
        self._remote_key = b""
        self._credentials_stale = False  # after restart(), until new remote credentials arrive

        self.local_candidates: list[LocalCandidate] = []
        self.remote_candidates: list[sdp.Candidate] = []
        self._remote_by_address: dict[Address, sdp.Candidate] = {}
        self._bases: list[Address] = []
        self.checklist = CheckList(max_pairs)
        self.checklist.on_remove = self._on_pair_removed
        # Peer-reflexive remote candidates, least recently checked first (see the module docstring).
        self.max_prflx_remote = (
            max_prflx_remote if max_prflx_remote is not None else max(1, max_pairs // 2)
        )
        self._prflx_remote: dict[Address, sdp.Candidate] = {}
        # Signalled (and mDNS-resolved) remote candidates kept; see DEFAULT_MAX_REMOTE_CANDIDATES.
        self.max_remote_candidates = max_remote_candidates
        # mDNS host candidates being resolved, by lower-case name (see the module docstring).
        self._mdns = MdnsResolver(self._rng)
        self._mdns_waiting: dict[str, list[sdp.Candidate]] = {}
        # Pair keys (socket, relay server, remote address) the peer has proven: data sources.
        self._proven: dict[PairKey, CandidatePair] = {}

        self._checks: dict[bytes, _Check] = {}
        self._gathers: dict[bytes, _Gather] = {}
        self._pending_gathers: deque[tuple[Address, Address]] = deque()
        # TURN (RFC 8656): one client per (local socket, server), allocations paced like gathers.
        self._turn: dict[tuple[Address, Address], TurnClient] = {}
        self._turn_servers: set[Address] = set()
        self._pending_allocations: deque[tuple[Address, Address]] = deque()
        self._out: list[Datagram] = []
        self._events: deque[Event] = deque()

        self._now = 0.0
        self._next_pace = 0.0
        self._remote_end_of_candidates = False
        self._checks_started_at: float | None = None
        self._first_valid_at: float | None = None
        self._nominating: CandidatePair | None = None
        self._closed = False
        # next_timeout() is asked on every poll; its value only changes through the mutators
        # below, each of which clears this cache (with webrtc's idle-poll shortcut, an idle poll
        # went from 47k to 12.6k instructions: scripts/instructions.py idle).
        self._due: float | None = None
        self._due_valid = False
        self._consent_lost = False
        self._consent_last_ok = 0.0
        self._consent_next: float | None = None
        self._restarting = False  # restart under way; the old selected pair still carries data
        self._remote_restarted_first = False
        self._pac_start: float | None = None
        self._nomination_wake: float | None = None
        self._send_route: tuple[Address, Address] | None = None

    # -- credentials, candidates ------------------------------------------------------------

    def set_remote_credentials(self, ufrag: str, pwd: str) -> None:
        """Set the peer's ice-ufrag/ice-pwd. New values (a remote restart) flush the check list
        and the remote candidates; the selected pair keeps carrying data (RFC 8445 §9)."""
        self._due_valid = False
        if self._closed:
            return
        changed = self.remote_ufrag is not None and (ufrag, pwd) != (
            self.remote_ufrag,
            self.remote_pwd,
        )
        if changed and not self._credentials_stale:
            self._flush_remote()
            self._remote_restarted_first = True
        self.remote_ufrag = ufrag
        self.remote_pwd = pwd
        self._remote_key = pwd.encode()
        self._credentials_stale = False
        if not changed:
            self._remote_restarted_first = False
        if self._pac_start is None:
            self._pac_start = self._now
        self._update_state()

    def add_remote_candidate(self, candidate: sdp.Candidate | None) -> None:
        """Add a (trickled) remote candidate; `None` is end-of-candidates (RFC 8838 §13)."""
        self._due_valid = False
        if self._closed:
            return
        if candidate is None:
            self._remote_end_of_candidates = True
            self._update_state()
            return
        ufrag = candidate.extension("ufrag")
        if (
            ufrag is not None
            and self.remote_ufrag is not None
            and not self._credentials_stale
            and ufrag != self.remote_ufrag
        ):
            self.stats["stale_candidates_ignored"] += 1  # an earlier ICE generation
            return
        if candidate.transport.lower() != "udp" or candidate.component != 1:
            self.stats["unsupported_candidates_ignored"] += 1
            return
        if is_mdns_name(candidate.address):
            self._resolve_mdns(candidate)
            return
        full = len(self.remote_candidates) - len(self._prflx_remote) >= self.max_remote_candidates
        if full and (candidate.address, candidate.port) not in self._remote_by_address:
            # refused before the address is even parsed: a flood costs little per candidate
            self.stats["remote_candidates_refused"] += 1
            return
        host = normalize_address(candidate.address)
        if host is None:
            self.stats["unresolvable_candidates_ignored"] += 1
            return
        address = (host, candidate.port)
        existing = self._remote_by_address.get(address)
        if existing is not None and existing.type != "prflx":
            return
        if full:
            self.stats["remote_candidates_refused"] += 1  # table full: memory and pairing bound
            return
        if existing is not None:
            # RFC 8445 §7.3.1.3: a signalled candidate replaces the prflx one learned earlier.
            self.remote_candidates.remove(existing)
            self._prflx_remote.pop(address, None)
            for p in self.checklist.pairs:
                if p.remote is existing:
                    p.remote = candidate
                    p.compute_priority(self.controlling)
            self.checklist.sort()
        self.remote_candidates.append(candidate)
        self._remote_by_address[address] = candidate
        for local in self.local_candidates:
            self._pair(local, candidate, address)
        self._update_state()

    def _flush_remote(self) -> None:
        if self._consent_lost:
            # The dead pair is gone for good; a restart starts over from checking.
            self._consent_lost = False
            self.selected_pair = None
            self._send_route = None
            self._consent_next = None
        if self.selected_pair is not None:
            self._restarting = True
            self._send_route = None
            for tid in [t for t, c in self._checks.items() if c.consent]:
                del self._checks[tid]
        self.remote_candidates.clear()
        self._remote_by_address.clear()
        self._prflx_remote.clear()
        self._mdns.cancel_all()
        self._mdns_waiting.clear()
        self.checklist.clear()
        # The old selected pair keeps carrying data (both ways) until a new one is selected.
        sel = self.selected_pair
        self._proven = {k: p for k, p in self._proven.items() if p is sel and sel is not None}
        for tid in [t for t, c in self._checks.items() if not c.consent]:
            del self._checks[tid]
        self._remote_end_of_candidates = False
        self._nominating = None
        self._first_valid_at = None
        self._nomination_wake = None
        self._checks_started_at = None
        self._pac_start = None

    # -- mDNS host candidates (RFC 6762 §5.1 one-shot queries, draft-ietf-mmusic-mdns-ice) ----

    def _resolve_mdns(self, candidate: sdp.Candidate) -> None:
        """Start resolving a `<uuid>.local` candidate; ignore it (counted) when we cannot."""
        # Not pairable as signalled (counted as before); it is paired once resolved.
        self.stats["mdns_candidates_ignored"] += 1
        name = candidate.address.rstrip(".").lower()
        waiting = self._mdns_waiting.get(name, [])
        if self.relay_only or len(waiting) >= 8 or not self._mdns.resolve(name, self._now):
            self.stats["mdns_resolutions_refused"] += 1
            return
        if candidate not in waiting:
            waiting.append(candidate)
            self._mdns_waiting[name] = waiting
            self.stats["mdns_resolutions_started"] += 1
        self._send_mdns_queries()

    def _send_mdns_queries(self) -> None:
        # RFC 6762 §6.7: from our (non-5353) host sockets, so the responder answers by unicast.
        bases = [b for b in self._bases if not is_ipv6(b[0])]
        if not bases:  # no socket yet (a `.local` name before gather()): keep the queries queued
            return
        for query in self._mdns.queries_to_send():
            for base in bases:
                self._out.append((query, base, MDNS_ADDRESS_V4))
                self.stats["mdns_queries_sent"] += 1

    def _mdns_step(self, now: float) -> None:
        if not self._mdns:
            return
        for name in self._mdns.handle_timeout(now):
            self.stats["mdns_resolution_timeouts"] += 1
            self._mdns_waiting.pop(name, None)
        self._send_mdns_queries()

    @property
    def mdns_pending(self) -> bool:
        """True while a `.local` remote candidate is being resolved (a driver may then read a
        multicast socket for `receive_mdns()`)."""
        return bool(self._mdns)

    def receive_mdns(self, data: bytes, now: float) -> None:
        """Feed a datagram read on an optional multicast socket (port 5353, joined to
        224.0.0.251): responders that ignore RFC 6762 §6.7 (Chromium) answer only there."""
        self._due_valid = False
        if self._mdns:
            self._now = now
            if not self._receive_mdns(data):
                self.stats["mdns_unmatched"] += 1

    def _receive_mdns(self, data: bytes) -> bool:
        """An answer from port 5353: resolved candidates become ordinary remote candidates
        (draft-ietf-mmusic-mdns-ice §3.2.2, paired like host candidates; one equal to a learned
        prflx candidate replaces it). False if it answers nothing (the normal path takes it)."""
        if self._closed:
            return False
        try:
            found = self._mdns.receive(data)
        except MdnsError:
            return False
        if not found:
            return False
        families = {is_ipv6(b[0]) for b in self._bases}
        by_name: dict[str, list[str]] = {}
        for r in found:
            by_name.setdefault(r.name, []).append(r.address)
        for name, addresses in by_name.items():
            usable = [a for a in addresses if is_ipv6(a) in families] or addresses
            for cand in self._mdns_waiting.pop(name, ()):
                self.stats["mdns_resolved"] += 1
                self.add_remote_candidate(replace(cand, address=usable[0]))
        return True

    # -- gathering ---------------------------------------------------------------------------

    def gather(self, local_addresses: Iterable[tuple[str, int]], now: float) -> None:
        """Make host candidates for the driver's sockets and start srflx/relay gathering."""
        self._due_valid = False
        if self._closed:
            return
        self._now = now
        self._set_gathering(GatheringState.GATHERING)
        for raw in local_addresses:
            base = _norm(raw)
            if base is None or base in self._bases:
                continue
            self._bases.append(base)
            v6 = is_ipv6(base[0])
            pref = local_preference(v6, sum(1 for b in self._bases[:-1] if is_ipv6(b[0]) == v6))
            cand = sdp.Candidate(
                foundation=compute_foundation("host", base[0]),
                component=1,
                transport="udp",
                priority=candidate_priority(TYPE_PREFERENCE["host"], pref),
                address=base[0],
                port=base[1],
                type="host",
            )
            self._add_local(LocalCandidate(cand, base), signal=not self.relay_only)
            for server in self.stun_servers:
                if is_ipv6(server[0]) == v6:
                    self._pending_gathers.append((base, server))
            for turn in self.turn_servers:
                server_addr = _norm(turn.address)
                # The TURN client requests IPv4 relays over UDP only; same-family servers.
                if server_addr is None or v6 or is_ipv6(server_addr[0]):
                    continue
                key = (base, server_addr)
                if key in self._turn:
                    continue
                self._turn[key] = TurnClient(
                    server_addr, turn.username, turn.password, rng=self._rng
                )
                self._turn_servers.add(server_addr)
                self._pending_allocations.append(key)
        self._send_mdns_queries()  # names signalled before we had sockets
        self._check_gathering_complete()
        self._update_state()

    def _add_local(self, local: LocalCandidate, signal: bool = True) -> None:
        self.local_candidates.append(local)
        if signal and not (self.relay_only and local.type != "relay"):
            self._events.append(CandidateGathered(local.candidate))
        if local.type in ("host", "relay"):
            # RFC 8445 §6.1.2.4: srflx/prflx locals are replaced by their base when pairing.
            for address, remote in self._remote_by_address.items():
                self._pair(local, remote, address)

    def _pair(self, local: LocalCandidate, remote: sdp.Candidate, address: Address) -> None:
        if local.type != "relay" and (self.relay_only or local.type != "host"):
            return
        if is_ipv6(local.candidate.address) != is_ipv6(address[0]):
            return
        pair = CandidatePair(local=local, remote=remote, remote_address=address)
        kept = self.checklist.add(pair, self.controlling)
        if kept is None:
            self.stats["pairs_pruned"] += 1

    def _start_gather(self, base: Address, server: Address, now: float) -> None:
        tid = stun.random_transaction_id(self._rng)
        data = Message(Method.BINDING, Class.REQUEST, tid).encode()
        # RFC 8445 §14.3: gathering RTO = MAX(500 ms, Ta * Num-Of-Cands (srflx and relay)).
        cands = len(self._gathers) + len(self._pending_gathers) + 1 + len(self._turn)
        rto = max(MIN_CHECK_RTO, self.ta * cands)
        trans = ClientTransaction(data, tid, server, now, rto=rto, rc=GATHER_RC, rm=GATHER_RM)
        self._gathers[tid] = _Gather(base, server, trans)
        for d in trans.datagrams_to_send():
            self._out.append((d, base, server))

    def _on_gather_response(self, gather: _Gather, msg: Message, addr: Address) -> None:
        if addr != gather.server:
            self.stats["responses_wrong_source"] += 1
            return
        if not gather.transaction.handle_response(msg):
            return
        del self._gathers[msg.transaction_id]
        mapped = msg.get_address(Attr.XOR_MAPPED_ADDRESS) or msg.get_address(Attr.MAPPED_ADDRESS)
        if msg.message_class is Class.SUCCESS and mapped is not None:
            mapped_n = _norm(mapped)
            if mapped_n is not None:
                self._add_srflx(gather.base, gather.server, mapped_n)
        else:
            self.stats["gather_failures"] += 1
        self._check_gathering_complete()

    def _add_srflx(self, base: Address, server: Address, mapped: Address) -> None:
        # RFC 8445 §5.1.3: a srflx equal to its base, or to another srflx, is redundant.
        if mapped == base or any(
            lc.address == mapped and lc.base == base for lc in self.local_candidates
        ):
            return
        host = next(lc for lc in self.local_candidates if lc.base == base and lc.type == "host")
        pref = (host.candidate.priority >> 8) & 0xFFFF
        cand = sdp.Candidate(
            foundation=compute_foundation("srflx", base[0], server[0]),
            component=1,
            transport="udp",
            priority=candidate_priority(TYPE_PREFERENCE["srflx"], pref),
            address=mapped[0],
            port=mapped[1],
            type="srflx",
            related_address=base[0],
            related_port=base[1],
        )
        self._add_local(LocalCandidate(cand, base))

    def _check_gathering_complete(self) -> None:
        if self.gathering_state is not GatheringState.GATHERING:
            return
        if self._pending_gathers or self._gathers or self._pending_allocations:
            return
        if any(c.state is TurnState.ALLOCATING for c in self._turn.values()):
            return
        self._set_gathering(GatheringState.COMPLETE)

    def _set_gathering(self, state: GatheringState) -> None:
        if state is self.gathering_state:
            return
        self.gathering_state = state
        if state is GatheringState.COMPLETE:
            self._events.append(GatheringComplete())

    # -- receive -----------------------------------------------------------------------------

    def receive(
        self, data: bytes, addr: tuple[str, int], now: float, local: tuple[str, int] | None = None
    ) -> bytes | None:
        """Feed one datagram from `addr` received on the socket bound to `local`.

        Returns application data (anything that is not STUN, RFC 7983) for the caller, or None;
        data from a source no proven pair covers is dropped (see the module docstring).
        """
        if not data:
            return None
        # DNS messages may start with any byte: answers to our mDNS queries come from port 5353.
        if addr[1] == MDNS_PORT and self._mdns and self._receive_mdns(data):
            self._due_valid = False
            return None
        first = data[0]
        if first > 3:  # RFC 7983: only 0..3 is STUN; everything else goes up untouched
            if 64 <= first <= 79 and self._turn_servers:  # TURN ChannelData (RFC 8656 §12)
                self._due_valid = False
                return self._receive_turn(data, addr, now, local)
            if (local, None, addr) in self._proven:
                return data
            self._due_valid = False
            return self._data_slow_path(data, addr, local)
        self._due_valid = False
        if self._closed:
            return None
        if self._turn_servers and _norm(addr) in self._turn_servers:
            return self._receive_turn(data, addr, now, local)
        self._receive_stun(data, addr, now, local)
        return None

    def _data_slow_path(
        self, data: bytes, addr: tuple[str, int], local: tuple[str, int] | None
    ) -> bytes | None:
        """Direct data whose raw (local, addr) is not a proven key: normalise the addresses (or
        guess the socket when `local` is None) and look again; drop it if still unknown."""
        source = _norm(addr)
        if source is not None:
            if local is not None:
                base = _norm(local)
            else:
                host = self._local_for(None, source)
                base = host.base if host is not None else None
            if base is not None and (base, None, source) in self._proven:
                return data
        self.stats["data_from_unknown_source"] += 1
        return None

    def _receive_stun(
        self, data: bytes, addr: tuple[str, int], now: float, local: tuple[str, int] | None
    ) -> None:
        """A STUN datagram from a peer or a STUN server (not TURN traffic)."""
        self._now = now
        try:
            msg = Message.parse(data)
        except StunError:
            self.stats["malformed_stun"] += 1
            return
        source = _norm(addr)
        if source is None:
            self.stats["bad_source_address"] += 1
            return
        base = _norm(local) if local is not None else None
        self._handle_stun(msg, source, base, now)
        self._maybe_switch(now)
        self._maybe_nominate(now)
        self._update_state()

    def _receive_turn(
        self, data: bytes, addr: tuple[str, int], now: float, local: tuple[str, int] | None
    ) -> bytes | None:
        """A datagram from one of our TURN servers: TURN control, or relayed peer traffic."""
        if self._closed:
            return None
        self._now = now
        server = _norm(addr)
        base = _norm(local) if local is not None else None
        key = None
        for k in self._turn:
            if k[1] == server and (base is None or k[0] == base):
                key = k
                break
        if key is None:
            self.stats["turn_unknown_server"] += 1
            if data[0] > 3:
                return self._data_slow_path(data, addr, local)
            self._receive_stun(data, addr, now, local)
            return None
        client = self._turn[key]
        if not client.receive(data, now):
            if data[0] > 3:
                return self._data_slow_path(data, addr, local)
            # Not the client's (a Binding message: a STUN server may also be a TURN server).
            self._receive_stun(data, addr, now, local)
            return None
        app = self._drain_turn(key, client, now)
        self._maybe_switch(now)
        self._maybe_nominate(now)
        self._update_state()
        return app

    def _drain_turn(
        self, key: tuple[Address, Address], client: TurnClient, now: float
    ) -> bytes | None:
        """Move a TURN client's datagrams out and act on its events; returns relayed app data."""
        base, server = key
        for d in client.datagrams_to_send():
            self._out.append((d, base, server))
        app: bytes | None = None
        while (ev := client.next_event()) is not None:
            if isinstance(ev, Allocated):
                self._on_allocated(key, ev)
            elif isinstance(ev, AllocationFailed):
                self.stats["turn_allocation_failures"] += 1
                for p in self.checklist.pairs:
                    if p.local.relay_server == server and p.local.base == base:
                        self._pair_failed(p)
                self._check_gathering_complete()
            elif isinstance(ev, DataReceived):
                relay = self._relay_candidate(key)
                peer = _norm(ev.peer)
                if relay is None or peer is None:
                    continue
                payload = ev.data
                if payload and payload[0] <= 3:
                    try:
                        msg = Message.parse(payload)
                    except StunError:
                        self.stats["malformed_stun"] += 1
                        continue
                    self._handle_stun(msg, peer, base, now, relay)
                elif payload:
                    if (base, server, peer) in self._proven:
                        app = payload
                    else:
                        self.stats["data_from_unknown_source"] += 1
        return app

    def _relay_candidate(self, key: tuple[Address, Address]) -> LocalCandidate | None:
        for lc in self.local_candidates:
            if lc.type == "relay" and lc.base == key[0] and lc.relay_server == key[1]:
                return lc
        return None

    def _on_allocated(self, key: tuple[Address, Address], ev: Allocated) -> None:
        base, server = key
        relayed = _norm(ev.relayed)
        if relayed is None or self._relay_candidate(key) is not None:
            return
        mapped = _norm(ev.mapped) if ev.mapped is not None else None
        # RFC 8445 §5.1.1.2: the Allocate response also yields a server-reflexive candidate.
        if mapped is not None:
            self._add_srflx(base, server, mapped)
        index = sum(
            1
            for lc in self.local_candidates
            if lc.type == "relay" and is_ipv6(lc.base[0]) == is_ipv6(relayed[0])
        )
        related = mapped or base
        cand = sdp.Candidate(
            foundation=compute_foundation("relay", base[0], server[0]),
            component=1,
            transport="udp",
            priority=candidate_priority(
                TYPE_PREFERENCE["relay"], local_preference(is_ipv6(relayed[0]), index)
            ),
            address=relayed[0],
            port=relayed[1],
            type="relay",
            related_address=related[0],
            related_port=related[1],
        )
        self._add_local(LocalCandidate(cand, base, server))
        self._check_gathering_complete()

    def _handle_stun(
        self,
        msg: Message,
        source: Address,
        base: Address | None,
        now: float,
        relay: LocalCandidate | None = None,
    ) -> None:
        if msg.method is not Method.BINDING:
            self.stats["unexpected_stun_method"] += 1
            return
        cls = msg.message_class
        if cls is Class.REQUEST:
            local = relay if relay is not None else self._local_for(base, source)
            if local is None:
                self.stats["requests_no_local_candidate"] += 1
                return
            self._on_request(msg, source, local, now)
        elif cls is Class.INDICATION:
            self.stats["binding_indications"] += 1  # RFC 8445 §11 keepalive
        else:
            tid = msg.transaction_id
            check = self._checks.get(tid)
            if check is not None:
                self._on_check_response(check, msg, source, base, relay, now)
                return
            gather = self._gathers.get(tid)
            if gather is not None:
                if base is not None and base != gather.base:
                    self.stats["responses_wrong_source"] += 1
                    return
                self._on_gather_response(gather, msg, source)
                return
            self.stats["unmatched_responses"] += 1

    def _local_for(self, base: Address | None, source: Address) -> LocalCandidate | None:
        """The host candidate whose socket received a datagram (guessing when `local` is None)."""
        if self.relay_only:
            return None
        hosts = [lc for lc in self.local_candidates if lc.type == "host"]
        if base is not None:
            for lc in hosts:
                if lc.base == base:
                    return lc
            return None
        family = [lc for lc in hosts if is_ipv6(lc.base[0]) == is_ipv6(source[0])]
        return family[0] if family else None

    # -- incoming checks (RFC 8445 §7.3) -------------------------------------------------------

    def _on_request(self, msg: Message, source: Address, local: LocalCandidate, now: float) -> None:
        # RFC 8445 §7.3 / RFC 8489 §9.1.3: FINGERPRINT, USERNAME, then MESSAGE-INTEGRITY.
        if not msg.check_fingerprint():
            self.stats["bad_fingerprint"] += 1
            return
        username = msg.get_str(Attr.USERNAME)
        if username is None or username.partition(":")[0] != self.local_ufrag:
            self.stats["bad_username"] += 1
            return
        if not msg.check_integrity(self._local_key):
            self.stats["bad_integrity"] += 1
            return
        unknown = stun.unknown_attributes_response(msg)
        if unknown is not None:
            self._reply(unknown, local, source)
            return
        priority = msg.get_int(Attr.PRIORITY)
        if priority is None or not 0 < priority <= 0xFFFFFFFF:
            self.stats["bad_requests"] += 1
            self._reply(stun.error_response(msg, 400, "Bad Request"), local, source)
            return
        # RFC 8445 §7.3.1.1: role conflicts.
        their_controlling = msg.get_int(Attr.ICE_CONTROLLING)
        their_controlled = msg.get_int(Attr.ICE_CONTROLLED)
        if self.controlling and their_controlling is not None:
            self.stats["role_conflicts"] += 1
            if self.tie_breaker >= their_controlling:
                self._reply(stun.error_response(msg, 487, "Role Conflict"), local, source)
                return
            self._switch_role(False)
        elif not self.controlling and their_controlled is not None:
            self.stats["role_conflicts"] += 1
            if self.tie_breaker >= their_controlled:
                self._switch_role(True)
            else:
                self._reply(stun.error_response(msg, 487, "Role Conflict"), local, source)
                return
        response = Message(
            Method.BINDING, Class.SUCCESS, msg.transaction_id, {Attr.XOR_MAPPED_ADDRESS: source}
        )
        self._reply(response, local, source)
        self.stats["requests_answered"] += 1

        # RFC 8445 §7.3.1.3: an unknown source is a peer-reflexive remote candidate.
        remote = self._remote_by_address.get(source)
        if remote is not None and remote.type == "prflx" and source in self._prflx_remote:
            self._prflx_remote[source] = self._prflx_remote.pop(source)  # recently checked
        if remote is None:
            if not self._make_room_for_prflx():
                self.stats["prflx_remote_refused"] += 1
                return
            remote = sdp.Candidate(
                foundation=f"p{self._rng.getrandbits(32)}",
                component=1,
                transport="udp",
                priority=priority,
                address=source[0],
                port=source[1],
                type="prflx",
            )
            self.remote_candidates.append(remote)
            self._remote_by_address[source] = remote
            self._prflx_remote[source] = remote
            self.stats["prflx_remote_learned"] += 1
            for lc in self.local_candidates:
                if lc is not local:
                    self._pair(lc, remote, source)
        pair = self.checklist.find(local, source)
        if pair is None:
            self._pair(local, remote, source)
            pair = self.checklist.find(local, source)
            if pair is None:
                return
        self._prove(pair)  # RFC 8445 §7.3: the peer's authenticated check came over this pair
        if self._checks_started_at is None:
            self._checks_started_at = now
        pair.peer_seen_at = now
        has_use_candidate = msg.attributes.get(Attr.USE_CANDIDATE) is True
        if not has_use_candidate:
            pair.peer_checked = True
        use_candidate = not self.controlling and has_use_candidate
        # RFC 8445 §7.3.1.4 triggered checks, §7.3.1.5 nomination by the controlling agent.
        if pair.state is PairState.SUCCEEDED:
            if use_candidate and pair.valid:
                self._nominated(pair, now)
            return
        if use_candidate:
            pair.nominate_on_success = True
        # RFC 8445 §8.1.2: a controlling agent that has nominated stops checking, except towards
        # a peer-reflexive address (the peer's NAT rebound) or while the selected pair is
        # failing: that pair may be needed to re-nominate (see the module docstring).
        if (
            self.controlling
            and self._checking_done()
            and remote.type != "prflx"
            and not self._consent_misses
        ):
            return
        if pair.state is PairState.IN_PROGRESS:
            # RFC 8445 §7.3.1.4: cancel the in-progress check and trigger a fresh one.
            for c in self._checks.values():
                if c.pair is pair and not c.consent and not c.use_candidate:
                    c.cancelled = True
        self.checklist.trigger(pair)

    def _make_room_for_prflx(self) -> bool:
        """Evict the least recently checked prflx remote candidate not in use, if at the limit;
        False if every one is in use (see the module docstring)."""
        if len(self._prflx_remote) < self.max_prflx_remote:
            return True
        in_use: set[Address] = set()
        for p in self.checklist.pairs:
            if p.nominated or p.state is PairState.SUCCEEDED or p is self._nominating:
                in_use.add(p.remote_address)
        if self.selected_pair is not None:
            in_use.add(self.selected_pair.remote_address)
        for address in self._prflx_remote:
            if address not in in_use:
                self._evict_prflx(address)
                return True
        return False

    def _evict_prflx(self, address: Address) -> None:
        remote = self._prflx_remote.pop(address)
        self._remote_by_address.pop(address, None)
        self.remote_candidates.remove(remote)
        gone = [p for p in self.checklist.pairs if p.remote_address == address]
        for p in gone:
            self.checklist.remove(p)
        for tid in [t for t, c in self._checks.items() if c.pair in gone]:
            del self._checks[tid]
        self.stats["prflx_remote_evicted"] += 1

    def _prove(self, pair: CandidatePair) -> None:
        # Only pairs of the check list: a late response for a pruned pair proves nothing lasting.
        if self.checklist.contains(pair):
            self._proven[pair_key(pair.local, pair.remote_address)] = pair

    def _on_pair_removed(self, pair: CandidatePair) -> None:
        """CheckList callback: a pruned or evicted pair is no longer a data source."""
        key = pair_key(pair.local, pair.remote_address)
        if self._proven.get(key) is pair and pair is not self.selected_pair:
            del self._proven[key]

    def _reply(self, msg: Message, local: LocalCandidate, dest: Address) -> None:
        data = msg.encode(integrity_key=self._local_key)
        self._emit(data, local, dest)

    def _switch_role(self, controlling: bool) -> None:
        if controlling == self.controlling:
            return
        self.controlling = controlling
        self.stats["role_switches"] += 1
        self.checklist.recompute_priorities(controlling)
        self._nominating = None
        for p in self.checklist.pairs:
            p.use_candidate = False
            p.nominate_on_success = False

    # -- outgoing checks (RFC 8445 §7.2) -------------------------------------------------------

    def _can_check(self) -> bool:
        return self.remote_ufrag is not None and not self._credentials_stale

    def _check_rto(self) -> float:
        # RFC 8445 §14.3: RTO = MAX(500 ms, Ta * N * (Num-Waiting + Num-In-Progress)).
        cl = self.checklist
        active = cl.count(PairState.WAITING, PairState.IN_PROGRESS)
        return max(MIN_CHECK_RTO, self.ta * len(cl) * active)

    def _send_check(self, pair: CandidatePair, now: float, consent: bool = False) -> None:
        assert self.remote_ufrag is not None
        tid = stun.random_transaction_id(self._rng)
        local_pref = (pair.local.candidate.priority >> 8) & 0xFFFF
        # RFC 8445 §7.1.1: PRIORITY is what a peer-reflexive candidate of ours would get.
        priority = candidate_priority(TYPE_PREFERENCE["prflx"], local_pref)
        attrs: dict[int, object] = {
            Attr.USERNAME: f"{self.remote_ufrag}:{self.local_ufrag}",
            Attr.PRIORITY: priority,
        }
        if self.controlling:
            attrs[Attr.ICE_CONTROLLING] = self.tie_breaker
        else:
            attrs[Attr.ICE_CONTROLLED] = self.tie_breaker
        use_candidate = self.controlling and pair.use_candidate and not consent
        if use_candidate:
            attrs[Attr.USE_CANDIDATE] = True
        data = Message(Method.BINDING, Class.REQUEST, tid, attrs).encode(
            integrity_key=self._remote_key
        )
        if consent:
            trans = ClientTransaction(
                data, tid, pair.remote_address, now, rc=CONSENT_RC, rm=CONSENT_RM
            )
        else:
            if pair.state is PairState.SUCCEEDED:
                # Nomination repeats a check that just worked: the floor RTO suffices (§14.3
                # allows other RTO mechanisms).
                rto = MIN_CHECK_RTO
            else:
                pair.state = PairState.IN_PROGRESS
                rto = self._check_rto()
            trans = ClientTransaction(data, tid, pair.remote_address, now, rto=rto)
        check = _Check(
            pair, trans, self._remote_key, self.controlling, use_candidate, priority, consent
        )
        self._checks[tid] = check
        self.stats["consent_checks_sent" if consent else "checks_sent"] += 1
        self._flush(check)

    def _flush(self, check: _Check) -> None:
        for d in check.transaction.datagrams_to_send():
            self._emit(d, check.pair.local, check.pair.remote_address)

    def _on_check_response(
        self,
        check: _Check,
        msg: Message,
        source: Address,
        base: Address | None,
        relay: LocalCandidate | None,
        now: float,
    ) -> None:
        pair = check.pair
        # RFC 8445 §7.2.5.2.1: the response must come from where the request went, to our base.
        if (
            source != pair.remote_address
            or (base is not None and base != pair.local.base)
            or (relay is not None and relay is not pair.local)
            or (relay is None and pair.local.relay_server is not None)
        ):
            self.stats["responses_wrong_source"] += 1
            return
        if not msg.check_integrity(check.key):
            self.stats["bad_integrity_responses"] += 1
            return
        if stun.Attr.FINGERPRINT in msg.attributes and not msg.check_fingerprint():
            self.stats["bad_fingerprint"] += 1
            return
        if not check.transaction.handle_response(msg):
            return
        del self._checks[msg.transaction_id]
        if msg.message_class is Class.ERROR:
            error = msg.get_error()
            code = error[0] if error is not None else 0
            if code == 487 and not check.consent:
                # RFC 8445 §7.2.5.1: switch to the role opposite to the one in the request.
                self.stats["role_conflicts"] += 1
                if check.controlling == self.controlling:
                    self._switch_role(not check.controlling)
                self.checklist.trigger(pair)
                return
            self.stats["check_errors"] += 1
            if not check.consent:
                self._pair_failed(pair)
            return
        mapped = msg.get_address(Attr.XOR_MAPPED_ADDRESS)
        mapped_n = _norm(mapped) if mapped is not None else None
        if mapped_n is None:
            self.stats["bad_responses"] += 1
            if not check.consent:
                self._pair_failed(pair)
            return
        if check.consent:
            pair.consent_at = now  # RFC 7675 §5.1: authenticated response
            if pair is self.selected_pair:
                self._consent_last_ok = now  # RFC 7675 §5.1: authenticated response
                self._consent_misses = 0
            return
        self._pair_succeeded(pair, check, mapped_n, now)

    def _pair_failed(self, pair: CandidatePair) -> None:
        pair.state = PairState.FAILED
        pair.valid_local = None
        pair.nominated = False
        if self._nominating is pair:
            self._nominating = None
            pair.use_candidate = False

    def _pair_succeeded(
        self, pair: CandidatePair, check: _Check, mapped: Address, now: float
    ) -> None:
        pair.state = PairState.SUCCEEDED
        self._prove(pair)  # RFC 8445 §7.2.5: an authenticated response from the remote address
        # RFC 8445 §7.2.5.3.1: a mapped address we do not know is a peer-reflexive local candidate.
        valid_local = None
        for lc in self.local_candidates:
            if lc.address == mapped and (lc.base == pair.local.base or lc is pair.local):
                valid_local = lc.candidate
                break
        if valid_local is None:
            valid_local = sdp.Candidate(
                foundation=compute_foundation("prflx", pair.local.base[0]),
                component=1,
                transport="udp",
                priority=check.priority,
                address=mapped[0],
                port=mapped[1],
                type="prflx",
                related_address=pair.local.base[0],
                related_port=pair.local.base[1],
            )
            # Bounded like the pairs (one mapping per pair at most, even behind a symmetric NAT):
            # a peer answering each check with a new XOR-MAPPED-ADDRESS cannot grow the table.
            if sum(lc.type == "prflx" for lc in self.local_candidates) < self.checklist.max_pairs:
                self.local_candidates.append(
                    LocalCandidate(valid_local, pair.local.base, pair.local.relay_server)
                )
                self.stats["prflx_local_learned"] += 1
            else:
                self.stats["prflx_local_not_kept"] += 1
        pair.valid_local = valid_local
        pair.consent_at = now  # RFC 7675 §5.1: consent starts with the check's success
        if self._first_valid_at is None:
            self._first_valid_at = now
            if self.selected_pair is None:
                # RFC 7675 §5.1: data may go on a valid pair before nomination (§12.1).
                self._consent_next = now + self._consent_delay()
        # RFC 8445 §7.2.5.3.3: unfreeze the pairs with the same foundation.
        self.checklist.unfreeze_foundation(pair.foundation)
        if check.use_candidate and self.controlling:
            self._nominated(pair, now)  # RFC 8445 §8.1.1: a USE-CANDIDATE check succeeded
        elif not self.controlling and pair.nominate_on_success:
            self._nominated(pair, now)  # RFC 8445 §7.3.1.5

    # -- nomination and selection (RFC 8445 §8) ------------------------------------------------

    def _nominated(self, pair: CandidatePair, now: float) -> None:
        ours = self._nominating is pair
        pair.nominated = True
        pair.nominate_on_success = False
        if ours:
            self._nominating = None
        current = self.selected_pair
        if current is not None and current.nominated and not self._restarting:
            if current is pair:
                return
            # A regular nomination of another pair means the controlling agent's nomination of
            # the current one failed on its side: follow it. Aggressive nominators (Chromium,
            # RFC 5245 §8.1.1.2) nominate many pairs: keep the highest-priority one, unless the
            # current one is failing. Our own re-nomination (controlling) always wins.
            regular = not self.controlling and pair.peer_checked
            failing = self._consent_misses > 0
            if not (regular or ours or failing) and current.priority >= pair.priority:
                return
        self._select(pair, now)

    def _maybe_switch(self, now: float) -> None:
        """Follow the peer to a new address (NAT rebinding; see the module docstring).

        When the selected pair has missed a consent check and another valid pair has carried an
        authenticated check from the peer since the selected pair last answered, the controlled
        agent selects that pair and the controlling agent re-nominates it (a departure from
        RFC 8445 §8.1.1, as Chromium/libwebrtc does)."""
        sel = self.selected_pair
        if (
            sel is None
            or not self._consent_misses
            or self._consent_lost
            or self._restarting
            or self._closed
            or (self.controlling and self._nominating is not None)
        ):
            return
        last_ok = self._consent_last_ok
        fresh = [
            p
            for p in self.checklist.pairs
            if p is not sel
            and p.state is PairState.SUCCEEDED
            and p.valid
            and p.peer_seen_at is not None
            and p.peer_seen_at > last_ok
        ]
        if not fresh:
            return
        best = max(fresh, key=lambda p: p.priority)
        if self.controlling:
            best.use_candidate = True
            self._nominating = best
            self.checklist.trigger(best)
            self.stats["renominations"] += 1
        else:
            best.nominated = True  # the controlling agent's nomination, at the peer's new address
            self.stats["pair_switches"] += 1
            self._select(best, now)

    def _select(self, pair: CandidatePair, now: float) -> None:
        old = self.selected_pair
        self.selected_pair = pair
        if old is not None and old is not pair and not self.checklist.contains(old):
            self._on_pair_removed(old)  # the pre-restart pair: no longer a data source
        self._send_route = None
        self._restarting = False
        self._consent_last_ok = now
        self._consent_misses = 0
        self._consent_next = now + self._consent_delay()
        self.stats["selected_pair_changes"] += 1
        if pair.local.relay_server is None:
            self._send_route = (pair.local.base, pair.remote_address)
        else:
            # RFC 8656 §12: a channel makes relayed data 4 bytes of overhead instead of 36.
            key = (pair.local.base, pair.local.relay_server)
            client = self._turn.get(key)
            if client is not None:
                client.bind_channel(pair.remote_address, now)
                self._drain_turn(key, client, now)
        local = pair.valid_local if pair.valid_local is not None else pair.local.candidate
        self._events.append(SelectedPairChanged(local, pair.remote))

    def _consent_delay(self) -> float:
        # RFC 7675 §5.1: uniformly random in [0.8, 1.2] x the interval (never under 4 s at 5 s).
        return self.consent_interval * self._rng.uniform(0.8, 1.2)

    def _maybe_nominate(self, now: float) -> None:
        """Controlling agent, regular nomination (RFC 8445 §8.1.1): once no better pair is
        pending, or `nomination_delay` after the first valid pair, nominate the best valid pair."""
        self._nomination_wake = None
        if not self.controlling or self._nominating is not None or self._checking_done():
            return
        valid = [p for p in self.checklist.pairs if p.valid and p.state is PairState.SUCCEEDED]
        if not valid:
            return
        best = max(valid, key=lambda p: p.priority)
        better_pending = any(
            p.priority > best.priority
            and p.state in (PairState.FROZEN, PairState.WAITING, PairState.IN_PROGRESS)
            for p in self.checklist.pairs
        )
        if better_pending and self._first_valid_at is not None:
            wake = self._first_valid_at + self.nomination_delay
            if now < wake:
                self._nomination_wake = wake
                return
        best.use_candidate = True
        self._nominating = best
        self.checklist.trigger(best)
        self.stats["nominations"] += 1

    # -- timers --------------------------------------------------------------------------------

    def _has_paced_work(self) -> bool:
        if self._pending_gathers or self._pending_allocations:
            return True
        if not self._can_check():
            return False
        cl = self.checklist
        if cl.triggered:
            return True
        if self._checking_done():
            return False
        return any(p.state in (PairState.WAITING, PairState.FROZEN) for p in cl.pairs)

    def _checking_done(self) -> bool:
        """Ordinary checks stop once a pair is nominated (RFC 8445 §8.1.2)."""
        sel = self.selected_pair
        return sel is not None and sel.nominated and not self._restarting

    def next_timeout(self) -> float | None:
        """Absolute time of the next due timer, or None."""
        if self._due_valid:
            return self._due
        self._due = self._next_timeout()
        self._due_valid = True
        return self._due

    def _next_timeout(self) -> float | None:
        if self._closed:
            return None
        times: list[float] = []
        if self._has_paced_work():
            times.append(self._next_pace)
        for c in self._checks.values():
            t = c.transaction.next_timeout()
            if t is not None:
                times.append(t)
        for g in self._gathers.values():
            t = g.transaction.next_timeout()
            if t is not None:
                times.append(t)
        for client in self._turn.values():
            t = client.next_timeout()
            if t is not None:
                times.append(t)
        if self._nomination_wake is not None:
            times.append(self._nomination_wake)
        mdns = self._mdns.next_timeout()
        if mdns is not None:
            times.append(mdns)
        if self.selected_pair is not None and not self._consent_lost and not self._restarting:
            if self._consent_next is not None:
                times.append(self._consent_next)
            last = self._consent_last_ok
            if last + self.consent_timeout > self._now:
                times.append(last + self.consent_timeout)
        elif self.selected_pair is None and self._consent_next is not None:
            data_pair = self._data_pair()
            if data_pair is not None:  # RFC 7675 §5.1 on the valid pair data goes on
                times.append(self._consent_next)
                times.append(data_pair.consent_at + self.consent_timeout)
        if self.selected_pair is None and self._pac_start is not None:
            pac = self._pac_start + PAC_TIMEOUT
            if pac > self._now:
                times.append(pac)
        return min(times) if times else None

    def handle_timeout(self, now: float) -> None:
        """Fire retransmissions, paced checks, nomination and consent timers due at `now`."""
        self._due_valid = False
        if self._closed:
            return
        self._now = now
        for tid, check in list(self._checks.items()):
            t = check.transaction.next_timeout()
            if t is not None and t <= now:
                check.transaction.handle_timeout(now)
                if check.cancelled:
                    check.transaction.datagrams_to_send()  # not retransmitted
                else:
                    self._flush(check)
                if check.transaction.timed_out:
                    del self._checks[tid]
                    if check.cancelled:
                        continue
                    if not check.consent:
                        self.stats["check_timeouts"] += 1
                        self._pair_failed(check.pair)
                    else:
                        self.stats["consent_timeouts"] += 1
                        if check.pair is self.selected_pair:
                            self._consent_misses += 1
                            self._maybe_switch(now)
        for tid, gather in list(self._gathers.items()):
            t = gather.transaction.next_timeout()
            if t is not None and t <= now:
                gather.transaction.handle_timeout(now)
                for d in gather.transaction.datagrams_to_send():
                    self._out.append((d, gather.base, gather.server))
                if gather.transaction.timed_out:
                    del self._gathers[tid]
                    self.stats["gather_timeouts"] += 1
                    self._check_gathering_complete()
        for key, client in self._turn.items():
            t = client.next_timeout()
            if t is not None and t <= now:
                client.handle_timeout(now)
                self._drain_turn(key, client, now)
        self._mdns_step(now)
        self._check_gathering_complete()
        self._maybe_nominate(now)
        if now >= self._next_pace and self._has_paced_work():
            self._paced_step(now)
        self._consent_step(now)
        self._update_state()

    def _paced_step(self, now: float) -> None:
        """Start one new STUN transaction (RFC 8445 §14.2: one per Ta across everything)."""
        if self._pending_gathers:
            base, server = self._pending_gathers.popleft()
            self._start_gather(base, server, now)
            self._next_pace = now + self.ta
            return
        if self._pending_allocations:
            key = self._pending_allocations.popleft()
            client = self._turn[key]
            client.allocate(now)
            self._drain_turn(key, client, now)
            self._next_pace = now + self.ta
            return
        if not self._can_check():
            return
        cl = self.checklist
        pair = cl.next_triggered()  # the triggered queue comes first
        if pair is None and not self._checking_done():
            pair = cl.next_ordinary()
        if pair is None:
            return
        if self._checks_started_at is None:
            self._checks_started_at = now
        self._send_check(pair, now)
        self._next_pace = now + self.ta

    def _consent_step(self, now: float) -> None:
        pair = self.selected_pair
        if pair is None:
            self._unselected_consent_step(now)
            return
        if self._consent_lost or self._restarting:
            return
        # The same sum next_timeout() reports: `now - last >= timeout` can miss it by 1 ulp.
        if now >= self._consent_last_ok + self.consent_timeout:
            # RFC 7675 §5.1: consent expired; stop sending on the pair.
            self._consent_lost = True
            self._send_route = None
            self.stats["consent_expired"] += 1
            for tid in [t for t, c in self._checks.items() if c.consent]:
                del self._checks[tid]
            return
        if self._consent_next is not None and now >= self._consent_next:
            if self._can_check():
                self._send_check(pair, now, consent=True)
            self._consent_next = now + self._consent_delay()

    def _unselected_consent_step(self, now: float) -> None:
        """RFC 7675 §5.1 on the valid pair data goes on before nomination (RFC 8445 §12.1): one
        check per paced interval on that pair; a pair unanswered for the consent timeout fails,
        and with no valid pair left consent is lost (as for the selected pair)."""
        if self._consent_next is None or self._consent_lost:
            return
        pair = self._data_pair()
        if pair is None:
            return
        # Each pass fails one pair: bounded by the check list.
        while pair is not None and now >= pair.consent_at + self.consent_timeout:
            self.stats["consent_expired"] += 1
            for tid in [t for t, c in self._checks.items() if c.pair is pair]:
                del self._checks[tid]
            self._pair_failed(pair)
            pair = self._data_pair()
            if pair is None:
                self._consent_lost = True
                for tid in [t for t, c in self._checks.items() if c.consent]:
                    del self._checks[tid]
                return
        if now >= self._consent_next:
            if self._can_check():
                self._send_check(pair, now, consent=True)
            self._consent_next = now + self._consent_delay()

    # -- state (RFC 8445 §6.1.3, W3C RTCIceTransportState) -------------------------------------

    def _compute_state(self) -> IceState:
        if self._closed:
            return IceState.CLOSED
        if self._consent_lost:
            return IceState.FAILED
        sel = self.selected_pair
        if sel is not None:
            if not self._restarting and self._consent_misses >= self.disconnected_misses:
                return IceState.DISCONNECTED
            if (
                self._remote_end_of_candidates
                and self.gathering_state is GatheringState.COMPLETE
                and sel.nominated
                and not self._restarting
                and not self.checklist.triggered
            ):
                return IceState.COMPLETED
            return IceState.CONNECTED
        # RFC 8838 §8 / RFC 8863: failure only after end-of-candidates, with every pair failed,
        # no gathering pending and the PAC timer expired.
        if (
            self._pac_start is not None
            and self._remote_end_of_candidates
            and self.gathering_state is GatheringState.COMPLETE
            and self._can_check()
            and not self.checklist.has_pending()
            and not any(not c.consent for c in self._checks.values())
            and self._now >= self._pac_start + PAC_TIMEOUT
            and not any(p.valid for p in self.checklist.pairs)
        ):
            return IceState.FAILED
        if self._checks_started_at is None:
            return IceState.NEW
        return IceState.CHECKING

    def _update_state(self) -> None:
        state = self._compute_state()
        if state is not self.state:
            self.state = state
            self._events.append(StateChanged(state))

    # -- application data ----------------------------------------------------------------------

    @property
    def can_send(self) -> bool:
        """True when send() has a pair: the selected one or, before selection, a valid one."""
        return self._send_route is not None or self._data_pair() is not None

    def _data_pair(self) -> CandidatePair | None:
        if self._consent_lost or self._closed:
            return None
        pair = self.selected_pair
        if pair is not None:
            return pair
        # RFC 8445 §12.1: before a pair is selected, data MAY go on any valid pair (the best one);
        # it lets DTLS start ~Ta earlier than nomination (bench setup 58 -> 10 ms).
        best: CandidatePair | None = None
        for p in self.checklist.pairs:
            ok = p.valid and p.state is PairState.SUCCEEDED
            if ok and (best is None or p.priority > best.priority):
                best = p
        return best

    def send(self, data: bytes) -> bool:
        """Queue application data on the selected pair (before selection: the best valid pair,
        RFC 8445 §12.1); False (dropped, counted) without one."""
        route = self._send_route
        if route is None:
            self._due_valid = False  # a relayed route may start TURN transactions
            pair = self._data_pair()
            if pair is None:
                self.stats["send_dropped"] += 1
                return False
            self._emit(data, pair.local, pair.remote_address)
            return True
        self._out.append((data, route[0], route[1]))
        return True

    def _emit(self, data: bytes, local: LocalCandidate, dest: Address) -> None:
        server = local.relay_server
        if server is None:
            self._out.append((data, local.base, dest))
            return
        key = (local.base, server)
        client = self._turn.get(key)
        if client is None or not client.send_to(data, dest, self._now):
            self.stats["relay_send_failures"] += 1
            return
        for d in client.datagrams_to_send():
            self._out.append((d, local.base, server))

    def datagrams_to_send(self) -> list[Datagram]:
        """Drain `(data, local_address, remote_address)` tuples to send."""
        out, self._out = self._out, []
        return out

    def next_event(self) -> Event | None:
        """Next queued event, or None."""
        return self._events.popleft() if self._events else None

    # -- restart, close ------------------------------------------------------------------------

    def restart(self) -> None:
        """ICE restart (RFC 8445 §9): new ufrag/pwd, a fresh check list; local candidates are
        signalled again. The selected pair keeps carrying data until a new one is selected."""
        self._due_valid = False
        if self._closed:
            return
        self.local_ufrag = _random_ice_string(8)
        self.local_pwd = _random_ice_string(24)
        self._local_key = self.local_pwd.encode()
        self._flush_remote()
        if self._remote_restarted_first:
            # The peer restarted first: its new credentials are already here.
            self._remote_restarted_first = False
            self._pac_start = self._now
        else:
            self._credentials_stale = True
        self.gathering_state = GatheringState.GATHERING
        for lc in self.local_candidates:
            if lc.type != "prflx" and not (self.relay_only and lc.type != "relay"):
                self._events.append(CandidateGathered(lc.candidate))
        self._check_gathering_complete()
        self._update_state()

    def close(self) -> None:
        """Stop checks, consent and gathering; deallocate TURN (flush `datagrams_to_send()` once
        more). STUN is ignored afterwards; data from proven pairs still passes through `receive()`
        (e.g. the peer's DTLS close_notify)."""
        self._due_valid = False
        if self._closed:
            return
        self._closed = True
        self._send_route = None
        self._checks.clear()
        self._gathers.clear()
        self._pending_gathers.clear()
        self._pending_allocations.clear()
        self.checklist.clear()
        self._out.clear()
        for (base, server), client in self._turn.items():
            client.close(self._now)  # RFC 8656 §7.2: Refresh with LIFETIME 0
            for d in client.datagrams_to_send():
                self._out.append((d, base, server))
        self._update_state()


def _norm(addr: tuple[str, int] | None) -> Address | None:
    if addr is None:
        return None
    try:
        host = normalize_address(str(addr[0]))
        port = int(addr[1])
    except (IndexError, TypeError, ValueError):
        return None
    if host is None or not 0 <= port <= 65535:
        return None
    return (host, port)
