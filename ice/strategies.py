"""Hypothesis strategies for STUN (RFC 8489), TURN (RFC 8656) and ICE checks (RFC 8445).

Needs `pip install '.[testing]'`. Valid by default: `messages()` gives `ice.stun.Message`
objects (Binding requests/responses as ICE sends them, TURN Allocate/Refresh/CreatePermission/
ChannelBind and Send/Data indications), `signed()` encodes them with MESSAGE-INTEGRITY for the
given key and FINGERPRINT, `channel_data()` gives ChannelData frames. Near-valid mutations:
`mutated_messages()` (truncated, a wrong length field, a bad magic cookie, an attribute
overrunning the message, the top bits set) must make `Message.parse` raise `ice.StunError`;
`wrong_integrity()` parses but fails `check_integrity(key)`; `mutated_channel_data()` must make
`decode_channel_data` raise `ice.StunError`. Values shrink towards short strings and small
numbers.

Not imported by `ice/__init__`: the package works without hypothesis.
"""

from __future__ import annotations

import ipaddress
import string

from hypothesis import strategies as st

from .channeldata import MAX_CHANNEL, MIN_CHANNEL, encode_channel_data
from .stun import Attr, Class, Message, Method

__all__ = [
    "INTEGRITY_ATTRS",
    "MUTATIONS",
    "addresses",
    "binding_requests",
    "binding_responses",
    "channel_data",
    "messages",
    "mutated_channel_data",
    "mutated_messages",
    "short_term_key",
    "signed",
    "transaction_ids",
    "turn_messages",
    "without_integrity",
    "wrong_integrity",
]

# attributes the encoder appends itself (RFC 8489 §14.5, §14.6, §14.7)
INTEGRITY_ATTRS = frozenset(
    {Attr.MESSAGE_INTEGRITY, Attr.MESSAGE_INTEGRITY_SHA256, Attr.FINGERPRINT}
)
_TEXT = string.ascii_letters + string.digits + "+/-_.:"


def short_term_key(password: str) -> bytes:
    """The short-term credential key ICE uses: the peer's ice-pwd (RFC 8489 §9.1.1)."""
    return password.encode("utf-8")


def without_integrity(msg: Message) -> dict[int, object]:
    """`msg`'s attributes without MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT (for round trips)."""
    return {k: v for k, v in msg.attributes.items() if k not in INTEGRITY_ATTRS}


def transaction_ids() -> st.SearchStrategy[bytes]:
    return st.binary(min_size=12, max_size=12)


def addresses() -> st.SearchStrategy[tuple[str, int]]:
    """`(host, port)` as the codec returns them (IPv4 dotted, IPv6 compressed)."""
    v4 = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
    v6 = st.integers(0, 2**128 - 1).map(lambda n: str(ipaddress.IPv6Address(n)))
    return st.tuples(st.one_of(v4, v6), st.integers(0, 65535))


def _text(max_size: int = 24) -> st.SearchStrategy[str]:
    return st.text(_TEXT, min_size=1, max_size=max_size)


def _usernames() -> st.SearchStrategy[str]:
    """ICE USERNAME: `remote-ufrag:local-ufrag` (RFC 8445 §7.2.2)."""
    ufrag = st.text(string.ascii_letters + string.digits + "+/", min_size=4, max_size=16)
    return st.tuples(ufrag, ufrag).map(lambda t: f"{t[0]}:{t[1]}")


@st.composite
def binding_requests(draw: st.DrawFn, username: str | None = None) -> Message:
    """An ICE connectivity check (RFC 8445 §7.1.1): USERNAME, PRIORITY, ICE-CONTROLLING or
    ICE-CONTROLLED, maybe USE-CANDIDATE."""
    attrs: dict[int, object] = {
        Attr.USERNAME: username if username is not None else draw(_usernames()),
        Attr.PRIORITY: draw(st.integers(0, 2**32 - 1)),
    }
    controlling = draw(st.booleans())
    attrs[Attr.ICE_CONTROLLING if controlling else Attr.ICE_CONTROLLED] = draw(
        st.integers(0, 2**64 - 1)
    )
    if controlling and draw(st.booleans()):
        attrs[Attr.USE_CANDIDATE] = True
    return Message(Method.BINDING, Class.REQUEST, draw(transaction_ids()), attrs)


@st.composite
def binding_responses(draw: st.DrawFn) -> Message:
    """A Binding success (XOR-MAPPED-ADDRESS) or error response (400, 401, 487: RFC 8445 §7.3)."""
    tid = draw(transaction_ids())
    if draw(st.booleans()):
        return Message(
            Method.BINDING, Class.SUCCESS, tid, {Attr.XOR_MAPPED_ADDRESS: draw(addresses())}
        )
    code = draw(st.sampled_from((400, 401, 487)))
    return Message(Method.BINDING, Class.ERROR, tid, {Attr.ERROR_CODE: (code, draw(_text()))})


@st.composite
def turn_messages(draw: st.DrawFn) -> Message:
    """TURN client and server messages (RFC 8656 §7-§12) with their usual attributes."""
    tid = draw(transaction_ids())
    kind = draw(
        st.sampled_from(
            (
                "allocate",
                "allocate-ok",
                "allocate-401",
                "refresh",
                "permission",
                "channel-bind",
                "send",
                "data",
            )
        )
    )
    auth: dict[int, object] = {
        Attr.USERNAME: draw(_text()),
        Attr.REALM: draw(_text()),
        Attr.NONCE: draw(_text()),
    }
    if kind == "allocate":
        attrs = {Attr.REQUESTED_TRANSPORT: 17, **auth}
        if draw(st.booleans()):
            attrs[Attr.LIFETIME] = draw(st.integers(0, 3600))
        return Message(Method.ALLOCATE, Class.REQUEST, tid, attrs)
    if kind == "allocate-ok":
        return Message(
            Method.ALLOCATE,
            Class.SUCCESS,
            tid,
            {
                Attr.XOR_RELAYED_ADDRESS: draw(addresses()),
                Attr.XOR_MAPPED_ADDRESS: draw(addresses()),
                Attr.LIFETIME: draw(st.integers(0, 3600)),
            },
        )
    if kind == "allocate-401":
        return Message(
            Method.ALLOCATE,
            Class.ERROR,
            tid,
            {
                Attr.ERROR_CODE: (401, "Unauthorized"),
                Attr.REALM: auth[Attr.REALM],
                Attr.NONCE: auth[Attr.NONCE],
            },
        )
    if kind == "refresh":
        return Message(
            Method.REFRESH, Class.REQUEST, tid, {Attr.LIFETIME: draw(st.integers(0, 3600)), **auth}
        )
    if kind == "permission":
        peer = draw(addresses())
        attrs = {Attr.XOR_PEER_ADDRESS: peer, **auth}
        return Message(Method.CREATE_PERMISSION, Class.REQUEST, tid, attrs)
    if kind == "channel-bind":
        channel = draw(st.integers(MIN_CHANNEL, MAX_CHANNEL))
        return Message(
            Method.CHANNEL_BIND,
            Class.REQUEST,
            tid,
            {Attr.CHANNEL_NUMBER: channel, Attr.XOR_PEER_ADDRESS: draw(addresses()), **auth},
        )
    method = Method.SEND if kind == "send" else Method.DATA
    return Message(
        method,
        Class.INDICATION,
        tid,
        {Attr.XOR_PEER_ADDRESS: draw(addresses()), Attr.DATA: draw(st.binary(max_size=64))},
    )


def messages() -> st.SearchStrategy[Message]:
    """Any of `binding_requests()`, `binding_responses()`, `turn_messages()`."""
    return st.one_of(binding_requests(), binding_responses(), turn_messages())


def signed(
    source: st.SearchStrategy[Message] | None = None,
    key: bytes | None = None,
    *,
    fingerprint: bool = True,
) -> st.SearchStrategy[bytes]:
    """Encoded `source` messages (default `messages()`) with MESSAGE-INTEGRITY for `key` (none
    if None) and FINGERPRINT."""
    source = source if source is not None else messages()
    return source.map(lambda m: m.encode(integrity_key=key, fingerprint=fingerprint))


@st.composite
def wrong_integrity(
    draw: st.DrawFn, key: bytes, msgs: st.SearchStrategy[Message] | None = None
) -> bytes:
    """A well-formed message whose MESSAGE-INTEGRITY is for another key than `key`."""
    msg = draw(msgs if msgs is not None else binding_requests())
    other = draw(st.binary(min_size=1, max_size=32).filter(lambda k: k != key))
    return msg.encode(integrity_key=other)


MUTATIONS = ("truncated", "length", "cookie", "attribute-overrun", "top-bits", "short")


@st.composite
def mutated_messages(
    draw: st.DrawFn, key: bytes | None = None, mutation: str | None = None
) -> bytes:
    """A valid encoded message with one near-valid defect (`MUTATIONS`); `Message.parse` must
    raise `ice.StunError`."""
    raw = bytearray(draw(signed(key=key)))
    kind = mutation or draw(st.sampled_from(MUTATIONS))
    if kind == "truncated":
        return bytes(raw[: draw(st.integers(20, len(raw) - 1))])
    if kind == "length":
        length = int.from_bytes(raw[2:4], "big")
        delta = draw(st.sampled_from((-4, 4, 8, 1, 2)))
        raw[2:4] = ((length + delta) & 0xFFFF).to_bytes(2, "big")
        return bytes(raw)
    if kind == "cookie":
        raw[4 + draw(st.integers(0, 3))] ^= 1 << draw(st.integers(0, 7))
        return bytes(raw)
    if kind == "attribute-overrun":
        # the first attribute's length runs past the end of the message
        raw[22:24] = (len(raw) - 20 + 4 * draw(st.integers(0, 8))).to_bytes(2, "big")
        return bytes(raw)
    if kind == "top-bits":
        raw[0] |= draw(st.sampled_from((0x40, 0x80, 0xC0)))
        return bytes(raw)
    if kind == "short":
        return bytes(raw[: draw(st.integers(0, 19))])
    raise ValueError(f"unknown mutation {kind!r} (one of {MUTATIONS})")


def channel_data() -> st.SearchStrategy[bytes]:
    """ChannelData frames (RFC 8656 §12.4) for channels 0x4000-0x4FFF."""
    return st.builds(
        encode_channel_data, st.integers(MIN_CHANNEL, MAX_CHANNEL), st.binary(max_size=256)
    )


@st.composite
def mutated_channel_data(draw: st.DrawFn) -> bytes:
    """ChannelData with its length field past the datagram's end, or shorter than a header;
    `decode_channel_data` must raise `ice.StunError`."""
    frame = bytearray(draw(channel_data()))
    if draw(st.booleans()):
        return bytes(frame[: draw(st.integers(0, 3))])
    length = int.from_bytes(frame[2:4], "big")
    extra = draw(st.integers(1, 0xFFFF - length)) if length < 0xFFFF else 0
    frame[2:4] = (length + extra).to_bytes(2, "big")
    if extra == 0:
        frame = frame[:-1]
    return bytes(frame)
