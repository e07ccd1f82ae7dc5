"""Sans-I/O TURN client over UDP (RFC 8656) with long-term credentials (RFC 8489 §9.2).

One `TurnClient` serves one (local socket, TURN server) pair. Every datagram it produces goes to
`client.server`; the caller feeds it every datagram received FROM `client.server` on that socket.

    client = TurnClient(("127.0.0.1", 3478), "user", "pass", rng=rng, lifetime=600)
    client.allocate(now)                       # Allocate; 401 -> REALM/NONCE -> authenticated retry
    client.receive(data, now) -> bool          # True when the datagram was TURN traffic (consumed)
    client.handle_timeout(now); client.next_timeout() -> float | None
    client.datagrams_to_send() -> list[bytes]  # all destined to client.server
    client.next_event() -> TurnEvent | None
    client.create_permission(peer, now)        # CreatePermission, refreshed every 4 min (§9)
    client.bind_channel(peer, now) -> int      # ChannelBind 0x4000.., refreshed every 9 min (§12)
    client.send_to(data, peer, now) -> bool    # ChannelData when bound, else Send indication
    client.close(now)                          # Refresh LIFETIME=0 (§7.2), then Deallocated
    client.relayed_address, client.mapped_address, client.state (TurnState)

Events: `Allocated(relayed, mapped, lifetime)`, `AllocationFailed(error, code)` (also when a live
allocation is lost: refresh refused or expired), `DataReceived(data, peer)` (from Data
indications and ChannelData), `PermissionCreated(peer)`, `PermissionFailed(peer, error, code)`,
`ChannelBound(peer, channel)`, `ChannelBindFailed(peer, error, code)`, `Deallocated()`.
`send_to` creates the permission for the peer's IP itself when missing. Try-Alternate (300),
TCP/TLS transports, EVEN-PORT/RESERVATION-TOKEN and dual (ADDITIONAL-ADDRESS-FAMILY) allocations
are not implemented; `relay_ipv6=True` asks for an IPv6 relayed address (REQUESTED-ADDRESS-FAMILY).
"""

from __future__ import annotations

import ipaddress
import random
from collections import Counter, deque
from dataclasses import dataclass
from enum import Enum

from .channeldata import MIN_CHANNEL, decode_channel_data, encode_channel_data
from .stun import (
    Attr,
    Class,
    ClientTransaction,
    Message,
    Method,
    RandomLike,
    StunError,
    long_term_key,
    random_transaction_id,
)

__all__ = [
    "Allocated",
    "AllocationFailed",
    "ChannelBindFailed",
    "ChannelBound",
    "DataReceived",
    "Deallocated",
    "PermissionCreated",
    "PermissionFailed",
    "TurnClient",
    "TurnEvent",
    "TurnState",
]

Address = tuple[str, int]

PERMISSION_REFRESH = 240.0  # RFC 8656 §9: permissions last 300 s; refresh a minute early
CHANNEL_REFRESH = 540.0  # RFC 8656 §12: channel bindings last 600 s
MAX_NONCE_RETRIES = 3
_UDP = 17  # RFC 8656 §18.7 REQUESTED-TRANSPORT
# RFC 8489 §9.2.5: only these error responses to an authenticated request are processed without
# MESSAGE-INTEGRITY (the server may not be able to compute it); any other one, 400 included, "MUST
# be discarded, as if it were never received" (a forgery would otherwise end the allocation)
_UNAUTHENTICATED_ERRORS = frozenset({401, 438})


class TurnState(Enum):
    NEW = "new"
    ALLOCATING = "allocating"
    ALLOCATED = "allocated"
    FAILED = "failed"
    CLOSING = "closing"
    CLOSED = "closed"


@dataclass(frozen=True)
class Allocated:
    relayed: Address
    mapped: Address | None
    lifetime: int = 0


@dataclass(frozen=True)
class AllocationFailed:
    error: str
    code: int | None = None


@dataclass(frozen=True)
class DataReceived:
    data: bytes
    peer: Address


@dataclass(frozen=True)
class PermissionCreated:
    peer: Address


@dataclass(frozen=True)
class PermissionFailed:
    peer: Address
    error: str
    code: int | None = None


@dataclass(frozen=True)
class ChannelBound:
    peer: Address
    channel: int


@dataclass(frozen=True)
class ChannelBindFailed:
    peer: Address
    error: str
    code: int | None = None


@dataclass(frozen=True)
class Deallocated:
    pass


TurnEvent = (
    Allocated
    | AllocationFailed
    | DataReceived
    | PermissionCreated
    | PermissionFailed
    | ChannelBound
    | ChannelBindFailed
    | Deallocated
)


class _Kind(Enum):
    ALLOCATE = "allocate"
    REFRESH = "refresh"
    PERMISSION = "permission"
    CHANNEL_BIND = "channel-bind"
    DEALLOCATE = "deallocate"


@dataclass
class _Pending:
    kind: _Kind
    method: Method
    attributes: dict[int, object]
    tx: ClientTransaction
    key: bytes | None
    peer: Address | None = None
    retries: int = 0


@dataclass
class _Permission:
    peer: Address
    confirmed: bool = False
    pending: bool = False
    refresh_at: float | None = None


@dataclass
class _Channel:
    peer: Address
    number: int
    confirmed: bool = False
    pending: bool = False
    refresh_at: float | None = None


def _normalize(addr: Address) -> Address:
    host, port = addr
    if ":" in host:
        try:
            host = ipaddress.IPv6Address(host).compressed
        except ValueError:
            pass
    return (host, port)


class TurnClient:
    """RFC 8656 client for one allocation on one UDP 5-tuple; see the module docstring."""

    def __init__(
        self,
        server: Address,
        username: str,
        password: str,
        *,
        rng: RandomLike | None = None,
        lifetime: int = 600,
        software: str | None = None,
        rto: float = 0.5,
        relay_ipv6: bool = False,
    ) -> None:
        self.server = server
        self._relay_ipv6 = relay_ipv6
        self.username = username
        self._password = password
        self._rng: RandomLike = rng if rng is not None else random.Random()
        self._requested_lifetime = lifetime
        self._software = software
        self._rto = rto
        self.state = TurnState.NEW
        self.relayed_address: Address | None = None
        self.mapped_address: Address | None = None
        self.lifetime = 0
        self._realm: str | None = None
        self._nonce: str | None = None
        self._key: bytes | None = None
        self._pending: dict[bytes, _Pending] = {}
        self._outbox: list[bytes] = []
        self._events: deque[TurnEvent] = deque()
        self._permissions: dict[str, _Permission] = {}
        self._channels: dict[Address, _Channel] = {}
        self._channel_peers: dict[int, Address] = {}
        self._next_channel = MIN_CHANNEL
        self._refresh_at: float | None = None
        self._expires_at: float | None = None
        # Datagrams from the server dropped unread: `malformed_channel_data`, `unknown_channel`,
        # `bad_fingerprint`, `ignored_indications`, `requests_ignored`, `unmatched_responses`,
        # `unauthenticated_responses` (RFC 8489 §9.2.5: discarded as if never received).
        self.stats: Counter[str] = Counter()

    # -- public verbs ---------------------------------------------------------------------------

    def allocate(self, now: float) -> None:
        """Send the first Allocate (RFC 8656 §7.1); no-op unless the client is NEW."""
        if self.state is not TurnState.NEW:
            return
        self.state = TurnState.ALLOCATING
        attrs: dict[int, object] = {
            Attr.REQUESTED_TRANSPORT: _UDP,
            Attr.LIFETIME: self._requested_lifetime,
        }
        if self._relay_ipv6:
            attrs[Attr.REQUESTED_ADDRESS_FAMILY] = 0x02  # RFC 8656 §7.1, §18.8 (IPv6)
        self._request(_Kind.ALLOCATE, Method.ALLOCATE, attrs, now)

    def create_permission(self, peer: Address, now: float) -> None:
        """Install a permission for `peer`'s IP (RFC 8656 §9); sent once allocated."""
        peer = _normalize(peer)
        perm = self._permissions.get(peer[0])
        if perm is None:
            perm = self._permissions[peer[0]] = _Permission(peer)
        if perm.pending or perm.confirmed:
            return
        if self.state is TurnState.ALLOCATED:
            self._send_permission(perm, now)

    def bind_channel(self, peer: Address, now: float) -> int:
        """Bind a channel number to `peer` (RFC 8656 §12.1); returns the number."""
        peer = _normalize(peer)
        channel = self._channels.get(peer)
        if channel is None:
            if self._next_channel > 0x4FFF:
                raise StunError("no channel numbers left")
            channel = _Channel(peer, self._next_channel)
            self._next_channel += 1
            self._channels[peer] = channel
            self._channel_peers[channel.number] = peer
            if self.state is TurnState.ALLOCATED:
                self._send_channel_bind(channel, now)
        return channel.number

    def send_to(self, data: bytes, peer: Address, now: float) -> bool:
        """Relay `data` to `peer`: ChannelData on a bound channel, else a Send indication."""
        if self.state is not TurnState.ALLOCATED:
            return False
        peer = _normalize(peer)
        channel = self._channels.get(peer)
        if channel is not None and channel.confirmed:
            self._outbox.append(encode_channel_data(channel.number, data))
            return True
        if peer[0] not in self._permissions:
            self.create_permission(peer, now)
        indication = Message(
            Method.SEND,
            Class.INDICATION,
            random_transaction_id(self._rng),
            {Attr.XOR_PEER_ADDRESS: peer, Attr.DATA: data},
        )
        self._outbox.append(indication.encode(fingerprint=False))  # RFC 8656 §11.1
        return True

    def close(self, now: float) -> None:
        """Delete the allocation with a Refresh of LIFETIME 0 (RFC 8656 §7.2)."""
        if self.state in (TurnState.CLOSING, TurnState.CLOSED):
            return
        allocated = self.state is TurnState.ALLOCATED
        self._pending.clear()
        self._refresh_at = self._expires_at = None
        self.state = TurnState.CLOSING
        if allocated:
            self._request(_Kind.DEALLOCATE, Method.REFRESH, {Attr.LIFETIME: 0}, now)
        else:
            self._closed()

    def receive(self, data: bytes, now: float) -> bool:
        """Feed one datagram from the server; True when it was STUN/ChannelData (consumed)."""
        if not data:
            return False
        first = data[0]
        if 0x40 <= first <= 0x4F:
            try:
                number, payload = decode_channel_data(data)
            except StunError:
                self.stats["malformed_channel_data"] += 1
                return True
            peer = self._channel_peers.get(number)
            if peer is not None:
                self._events.append(DataReceived(payload, peer))
            else:
                self.stats["unknown_channel"] += 1
            return True
        if first > 3:
            return False
        try:
            msg = Message.parse(data)
        except StunError:
            return False
        if Attr.FINGERPRINT in msg.attributes and not msg.check_fingerprint():
            self.stats["bad_fingerprint"] += 1
            return True  # RFC 8489 §7.3: a wrong FINGERPRINT means "not STUN"; dropped here
        if msg.method is Method.BINDING:
            # Never a TURN transaction: the caller's own (a STUN server that is also the TURN
            # server answering ICE gathering, RFC 8445 §5.1.1.2); left to it.
            return False
        if msg.message_class is Class.INDICATION:
            if msg.method is Method.DATA:
                peer = msg.get_address(Attr.XOR_PEER_ADDRESS)
                content = msg.get_bytes(Attr.DATA)
                if peer is not None and content is not None:
                    self._events.append(DataReceived(content, peer))
                    return True
            self.stats["ignored_indications"] += 1
            return True
        if msg.message_class is Class.REQUEST:
            self.stats["requests_ignored"] += 1
            return True
        pending = self._pending.get(msg.transaction_id)
        if pending is None:
            self.stats["unmatched_responses"] += 1
            return True
        if not self._authentic(msg, pending):
            self.stats["unauthenticated_responses"] += 1
            return True
        pending.tx.handle_response(msg)
        del self._pending[msg.transaction_id]
        self._on_response(pending, msg, now)
        return True

    def handle_timeout(self, now: float) -> None:
        for tid, pending in list(self._pending.items()):
            if self._pending.get(tid) is not pending:
                continue  # dropped by a failure handled earlier in this loop
            tx = pending.tx
            tx.handle_timeout(now)
            self._outbox.extend(tx.datagrams_to_send())
            if tx.timed_out and self._pending.get(tid) is pending:
                del self._pending[tid]
                self._on_timeout(pending, now)
        if self.state is not TurnState.ALLOCATED:
            return
        if self._expires_at is not None and now >= self._expires_at:
            self._fail("allocation expired", None)
            return
        if self._refresh_at is not None and now >= self._refresh_at:
            self._refresh_at = None
            self._send_refresh(now)
        for perm in self._permissions.values():
            if perm.refresh_at is not None and now >= perm.refresh_at:
                self._send_permission(perm, now)
        for channel in self._channels.values():
            if channel.refresh_at is not None and now >= channel.refresh_at:
                self._send_channel_bind(channel, now)

    def next_timeout(self) -> float | None:
        times = [t for p in self._pending.values() if (t := p.tx.next_timeout()) is not None]
        if self.state is TurnState.ALLOCATED:
            for t in (self._refresh_at, self._expires_at):
                if t is not None:
                    times.append(t)
            times.extend(
                p.refresh_at for p in self._permissions.values() if p.refresh_at is not None
            )
            times.extend(c.refresh_at for c in self._channels.values() if c.refresh_at is not None)
        return min(times) if times else None

    def datagrams_to_send(self) -> list[bytes]:
        out, self._outbox = self._outbox, []
        return out

    def next_event(self) -> TurnEvent | None:
        return self._events.popleft() if self._events else None

    # -- requests -------------------------------------------------------------------------------

    def _request(
        self,
        kind: _Kind,
        method: Method,
        attributes: dict[int, object],
        now: float,
        *,
        peer: Address | None = None,
        retries: int = 0,
    ) -> None:
        tid = random_transaction_id(self._rng)
        attrs = dict(attributes)
        if self._software is not None:
            attrs[Attr.SOFTWARE] = self._software
        key = self._key
        if key is not None and self._realm is not None and self._nonce is not None:
            # RFC 8489 §9.2.4: USERNAME, REALM, NONCE, MESSAGE-INTEGRITY
            attrs[Attr.USERNAME] = self.username
            attrs[Attr.REALM] = self._realm
            attrs[Attr.NONCE] = self._nonce
        else:
            key = None
        data = Message(method, Class.REQUEST, tid, attrs).encode(integrity_key=key)
        tx = ClientTransaction(data, tid, self.server, now, rto=self._rto)
        self._outbox.extend(tx.datagrams_to_send())
        self._pending[tid] = _Pending(kind, method, attributes, tx, key, peer, retries)

    def _retry(self, pending: _Pending, now: float, *, count: bool) -> None:
        self._request(
            pending.kind,
            pending.method,
            pending.attributes,
            now,
            peer=pending.peer,
            retries=pending.retries + int(count),
        )

    def _send_refresh(self, now: float) -> None:
        attrs: dict[int, object] = {Attr.LIFETIME: self._requested_lifetime}
        self._request(_Kind.REFRESH, Method.REFRESH, attrs, now)

    def _send_permission(self, perm: _Permission, now: float) -> None:
        perm.pending = True
        perm.refresh_at = None
        attrs: dict[int, object] = {Attr.XOR_PEER_ADDRESS: perm.peer}
        self._request(_Kind.PERMISSION, Method.CREATE_PERMISSION, attrs, now, peer=perm.peer)

    def _send_channel_bind(self, channel: _Channel, now: float) -> None:
        channel.pending = True
        channel.refresh_at = None
        attrs: dict[int, object] = {
            Attr.CHANNEL_NUMBER: channel.number,
            Attr.XOR_PEER_ADDRESS: channel.peer,
        }
        self._request(_Kind.CHANNEL_BIND, Method.CHANNEL_BIND, attrs, now, peer=channel.peer)

    # -- responses ------------------------------------------------------------------------------

    def _authentic(self, msg: Message, pending: _Pending) -> bool:
        """RFC 8489 §9.2.5: responses to authenticated requests must carry a valid M-I."""
        if pending.key is None:
            return True
        if Attr.MESSAGE_INTEGRITY in msg.attributes:
            return msg.check_integrity(pending.key)
        if msg.message_class is Class.ERROR:
            error = msg.get_error()
            return error is not None and error[0] in _UNAUTHENTICATED_ERRORS
        return False

    def _learn_nonce(self, msg: Message) -> bool:
        """Take REALM/NONCE from a 401/438 (RFC 8489 §9.2.5); True when a retry makes sense."""
        nonce = msg.get_str(Attr.NONCE)
        realm = msg.get_str(Attr.REALM) or self._realm
        if nonce is None or realm is None:
            return False
        if realm != self._realm or self._key is None:
            self._key = long_term_key(self.username, realm, self._password)
        self._realm = realm
        self._nonce = nonce
        return True

    def _on_response(self, pending: _Pending, msg: Message, now: float) -> None:
        if msg.message_class is Class.ERROR:
            error = msg.get_error() or (400, "error response without ERROR-CODE")
            code, reason = error[0], error[1].rstrip("\x00")  # coturn NUL-terminates reasons
            # 401 on an unauthenticated request: learn REALM/NONCE (RFC 8489 §9.2.3).
            # 438 Stale Nonce: retry with the new NONCE (RFC 8489 §9.2.5).
            retryable = (code == 401 and pending.key is None) or code == 438
            if (
                retryable
                and pending.retries < MAX_NONCE_RETRIES
                and self._learn_nonce(msg)
                and self.state is not TurnState.CLOSED
            ):
                self._retry(pending, now, count=code == 438)  # the 401 retry is bounded by key
                return
            self._on_error(pending, code, reason, now)
            return
        kind = pending.kind
        if kind is _Kind.ALLOCATE:
            self._on_allocated(msg, now)
        elif kind is _Kind.REFRESH:
            if self.state is TurnState.ALLOCATED:
                self._set_lifetime(msg.get_int(Attr.LIFETIME), now)
        elif kind is _Kind.PERMISSION and pending.peer is not None:
            perm = self._permissions.get(pending.peer[0])
            if perm is not None and self.state is TurnState.ALLOCATED:
                first = not perm.confirmed
                perm.pending = False
                perm.confirmed = True
                perm.refresh_at = now + PERMISSION_REFRESH
                if first:
                    self._events.append(PermissionCreated(perm.peer))
        elif kind is _Kind.CHANNEL_BIND and pending.peer is not None:
            channel = self._channels.get(pending.peer)
            if channel is not None and self.state is TurnState.ALLOCATED:
                first = not channel.confirmed
                channel.pending = False
                channel.confirmed = True
                channel.refresh_at = now + CHANNEL_REFRESH
                # RFC 8656 §12.2: a ChannelBind also installs/refreshes the peer's permission
                perm = self._permissions.get(channel.peer[0])
                if perm is None:
                    perm = self._permissions[channel.peer[0]] = _Permission(channel.peer)
                if not perm.pending:
                    perm.confirmed = True
                    perm.refresh_at = now + PERMISSION_REFRESH
                if first:
                    self._events.append(ChannelBound(channel.peer, channel.number))
        elif kind is _Kind.DEALLOCATE:
            self._closed()

    def _on_allocated(self, msg: Message, now: float) -> None:
        if self.state is not TurnState.ALLOCATING:
            return
        relayed = msg.get_address(Attr.XOR_RELAYED_ADDRESS)
        if relayed is None:
            self._fail("Allocate success without XOR-RELAYED-ADDRESS", None)
            return
        self.relayed_address = relayed
        self.mapped_address = msg.get_address(Attr.XOR_MAPPED_ADDRESS)
        self.state = TurnState.ALLOCATED
        self._set_lifetime(msg.get_int(Attr.LIFETIME), now)
        self._events.append(Allocated(relayed, self.mapped_address, self.lifetime))
        for perm in self._permissions.values():
            if not perm.pending:
                self._send_permission(perm, now)
        for channel in self._channels.values():
            if not channel.pending:
                self._send_channel_bind(channel, now)

    def _set_lifetime(self, lifetime: int | None, now: float) -> None:
        granted = self._requested_lifetime if lifetime is None else lifetime
        self.lifetime = granted
        self._expires_at = now + granted
        # refresh a minute before expiry (half-way for short lifetimes), RFC 8656 §7.1
        self._refresh_at = now + (granted - 60 if granted > 120 else granted / 2)

    def _on_error(self, pending: _Pending, code: int | None, reason: str, now: float) -> None:
        kind = pending.kind
        if kind is _Kind.ALLOCATE:
            if self.state is TurnState.ALLOCATING:
                self._fail(reason, code)
        elif kind is _Kind.REFRESH:
            if self.state is TurnState.ALLOCATED:
                if code is None and self._expires_at is not None and now < self._expires_at:
                    self._send_refresh(now)  # timed out: try again while the allocation lives
                else:
                    self._fail(f"refresh failed: {reason}", code)
        elif kind is _Kind.PERMISSION and pending.peer is not None:
            perm = self._permissions.pop(pending.peer[0], None)
            if perm is not None and self.state is TurnState.ALLOCATED:
                self._events.append(PermissionFailed(perm.peer, reason, code))
        elif kind is _Kind.CHANNEL_BIND and pending.peer is not None:
            channel = self._channels.pop(pending.peer, None)
            if channel is not None:
                self._channel_peers.pop(channel.number, None)
                if self.state is TurnState.ALLOCATED:
                    self._events.append(ChannelBindFailed(channel.peer, reason, code))
        elif kind is _Kind.DEALLOCATE:
            self._closed()  # 437 etc.: the allocation is gone either way

    def _on_timeout(self, pending: _Pending, now: float) -> None:
        self._on_error(pending, None, "timeout", now)

    def _fail(self, error: str, code: int | None) -> None:
        self.state = TurnState.FAILED
        self._pending.clear()
        self._refresh_at = self._expires_at = None
        self._events.append(AllocationFailed(error, code))

    def _closed(self) -> None:
        self.state = TurnState.CLOSED
        self._pending.clear()
        self._events.append(Deallocated())
