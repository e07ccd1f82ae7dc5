"""`WebRTCPeerConnection`: Godot's API over sdp + ice + dtls + sctp, driven by `poll()`.

`poll()` is the whole I/O pipeline (str0m's shape): read every pending datagram -> `ice.receive`
-> DTLS by first byte (RFC 7983 §7: 20..63) -> `dtls.receive` -> application data ->
`sctp.receive` -> channel events; then fire due timers of every layer, move data down
(SCTP packets -> DTLS records -> selected ICE pair -> socket) and emit queued signals in order.

Misuse never raises: every method returns the `Error` from the situation table (`errors.py`).
`create_data_channel` returns `None` on failure; its reason is kept in `last_error`.

Non-Godot extras (keyword-only constructor arguments and a few methods):
- `transport_factory` (alias `socket_factory`): `() -> webrtc.net.DatagramTransport`;
  default: real non-blocking UDP sockets (`net.UdpTransport`).
- `clock`: `() -> float` monotonic seconds (default `time.monotonic`); `rng`: random.Random-like
  used for non-key randomness (session ids, ICE credentials, transaction ids).
- `loopback_only`: gather only on 127.0.0.1 (also the configuration key `"x-loopback-only": True`
  or the environment variable `WEBRTC_LOOPBACK_ONLY=1`).
- `next_timeout()`: absolute clock time at which `poll()` next has work (for event loops/tests).
- SSLKEYLOGFILE: when set, DTLS secrets are appended to that file in NSS key-log format.
- `trace`: `(webrtc.trace.TraceEvent) -> None`, called for every STUN/TURN/DTLS message sent or
  received and every SCTP chunk (with DCEP) inside DTLS; see `webrtc/trace.py`. Off by default
  (then it costs one attribute check per batch).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import random
import socket
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar, cast
from urllib.parse import unquote

import dtls
import ice
import sctp
import sdp

from . import jsep
from . import states as st
from .data_channel import ReceiveBudget, WebRTCDataChannel
from .errors import Error
from .logs import clip
from .net import (
    MAX_READ_PER_SOCKET,
    Address,
    Clock,
    DatagramTransport,
    MdnsCapable,
    TransportFactory,
    UdpTransport,
    env_loopback_only,
    monotonic_clock,
)
from .signals import Signal
from .states import (
    ChannelState,
    ConnectionState,
    DtlsPhase,
    GatheringState,
    IceGatheringPhase,
    IcePhase,
    SctpPhase,
    SignalingState,
    connection_state,
    gathering_state,
    signaling_state,
    signaling_transition,
)
from .trace import TraceEvent, Tracer

_MessageReceived = sctp.MessageReceived  # checked once per received message
logger = logging.getLogger(__name__)

DESCRIPTION_TYPES = ("offer", "answer", "pranswer", "rollback")
MAX_EARLY_DTLS = 32  # DTLS datagrams kept while the descriptions are incomplete
MAX_BUFFERED_CANDIDATES = 1000  # add_ice_candidate before the remote description
# Remote candidates handed to ICE per connection (from the description and trickled) stop at
# the agent's own bound (ice.Agent.max_remote_candidates); past it add_ice_candidate returns
# ERR_OUT_OF_MEMORY instead of OK for a candidate the agent would drop.
MAX_CANDIDATE_LENGTH = 1024  # characters of an a=candidate value (a real one is ~150)
MAX_MID_LENGTH = 256  # characters of a media id (RFC 8843 §9.1 carries at most 16 bytes of it)
# Received bytes queued in channels that the application has not read yet. Past this, poll()
# leaves messages inside the SCTP association, whose advertised window then shrinks (RFC 9260
# §6.2): the sender slows down instead of us dropping reliable data or growing without bound.
RECEIVE_QUEUE_LIMIT = 2 * 1024 * 1024
MAX_NESTED_POLLS = 8  # poll() from a handler from a handler ...: deeper ones only return OK
_POLL_IDLE, _POLL_STEPPING, _POLL_EMITTING = 0, 1, 2  # WebRTCPeerConnection._in_poll
SCTP_MAX_BACKOFF = 3.0  # seconds; libwebrtc's dcsctp caps its timer back-off likewise
SCTP_FAILURE_TIMEOUT = 30.0  # seconds without any SACK/HEARTBEAT ACK, as RFC 7675 consent
SRTP_PROFILES = (
    dtls.SrtpProfile.SRTP_AEAD_AES_128_GCM,
    dtls.SrtpProfile.SRTP_AES128_CM_HMAC_SHA1_80,
)
_U16_MAX = 65535


class _TracedSctpInput:
    """Stands in for the association where SCTP packets leave DTLS while tracing: the tracer
    sees each packet, then the association takes it (same route as untraced)."""

    __slots__ = ("_receive",)

    def __init__(self, tracer: Tracer, assoc: sctp.Association) -> None:
        self._receive = tracer.sctp_receiver(assoc.receive)

    def receive(self, packet: bytes, now: float) -> None:
        self._receive(packet, now)


class WebRTCPeerConnection:
    """A WebRTC peer connection with data channels only (Godot's `WebRTCPeerConnection`)."""

    ConnectionState = ConnectionState
    GatheringState = GatheringState
    SignalingState = SignalingState

    STATE_NEW = ConnectionState.STATE_NEW
    STATE_CONNECTING = ConnectionState.STATE_CONNECTING
    STATE_CONNECTED = ConnectionState.STATE_CONNECTED
    STATE_DISCONNECTED = ConnectionState.STATE_DISCONNECTED
    STATE_FAILED = ConnectionState.STATE_FAILED
    STATE_CLOSED = ConnectionState.STATE_CLOSED
    GATHERING_STATE_NEW = GatheringState.GATHERING_STATE_NEW
    GATHERING_STATE_GATHERING = GatheringState.GATHERING_STATE_GATHERING
    GATHERING_STATE_COMPLETE = GatheringState.GATHERING_STATE_COMPLETE
    SIGNALING_STATE_STABLE = SignalingState.SIGNALING_STATE_STABLE
    SIGNALING_STATE_HAVE_LOCAL_OFFER = SignalingState.SIGNALING_STATE_HAVE_LOCAL_OFFER
    SIGNALING_STATE_HAVE_REMOTE_OFFER = SignalingState.SIGNALING_STATE_HAVE_REMOTE_OFFER
    SIGNALING_STATE_HAVE_LOCAL_PRANSWER = SignalingState.SIGNALING_STATE_HAVE_LOCAL_PRANSWER
    SIGNALING_STATE_HAVE_REMOTE_PRANSWER = SignalingState.SIGNALING_STATE_HAVE_REMOTE_PRANSWER
    SIGNALING_STATE_CLOSED = SignalingState.SIGNALING_STATE_CLOSED

    # set_default_extension: the class `WebRTCPeerConnection()` builds (Godot's static default).
    _default_extension: ClassVar[type[WebRTCPeerConnection] | None] = None

    def __new__(cls, *args: Any, **kwargs: Any) -> WebRTCPeerConnection:
        target = WebRTCPeerConnection._default_extension
        if cls is WebRTCPeerConnection and target is not None:
            return object.__new__(target)  # Python then runs target.__init__(*args, **kwargs)
        return object.__new__(cls)

    @staticmethod
    def set_default_extension(extension_class: Any) -> None:
        """Make `WebRTCPeerConnection()` build `extension_class` (class or name; None resets)."""
        from .extension import WebRTCPeerConnectionExtension, find_extension_class

        if extension_class is None:
            WebRTCPeerConnection._default_extension = None
            return
        if isinstance(extension_class, str):
            found = find_extension_class(extension_class)
            if found is None:
                logger.error(
                    "set_default_extension: no extension class named %s", clip(extension_class)
                )
                return
            extension_class = found
        if isinstance(extension_class, type) and issubclass(
            extension_class, WebRTCPeerConnectionExtension
        ):
            WebRTCPeerConnection._default_extension = extension_class
        else:
            logger.error(
                "set_default_extension: %s is not an extension class", clip(extension_class)
            )

    def __init__(
        self,
        *,
        transport_factory: TransportFactory | None = None,
        socket_factory: TransportFactory | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        loopback_only: bool = False,
        trace: Callable[[TraceEvent], None] | None = None,
        large_records: bool = True,
        zero_checksum: bool = True,
    ) -> None:
        self.session_description_created = Signal("session_description_created")
        self.ice_candidate_created = Signal("ice_candidate_created")
        self.data_channel_received = Signal("data_channel_received")
        self._transport_factory = transport_factory or socket_factory
        self._clock: Clock = clock or monotonic_clock
        self._rng: random.Random = rng if rng is not None else random.Random()
        self._ctor_loopback_only = loopback_only
        # Declare a=x-dtls-record-size-limit and, with a peer that declares it too, let SCTP find
        # bigger packets by RFC 8899 PLPMTUD (see jsep.RECORD_SIZE_LIMIT_ATTRIBUTE).
        self._record_size_limit = jsep.LOCAL_RECORD_SIZE_LIMIT if large_records else 0
        # Advertise the Zero Checksum Acceptable parameter in SCTP INIT/INIT ACK (RFC 9653 §5.2).
        self._zero_checksum = zero_checksum
        self._trace = None if trace is None else Tracer(trace, self._clock)
        self._certificate: dtls.Certificate | None = None
        self.last_error = Error.OK
        self._in_poll = _POLL_IDLE  # or where poll() is: its I/O step, its signal handlers
        self._nested_polls = 0  # poll() calls from signal handlers now running
        self._closed = False
        self._reset({"stun": [], "turn": [], "loopback": False})

    # -- internal state ---------------------------------------------------------------------

    def _reset(self, config: dict[str, Any]) -> None:
        self._stun_servers: list[Address] = config["stun"]
        self._turn_servers: list[ice.TurnServer] = config["turn"]
        self._loopback_only = bool(config["loopback"]) or self._ctor_loopback_only
        self._closed = False
        self._signaling = SignalingState.SIGNALING_STATE_STABLE
        self._agent: ice.Agent | None = None
        self._transport: DatagramTransport | None = None
        self._mdns_socket: MdnsCapable | None = None  # the transport, while its mDNS socket is open
        self._mdns_unavailable = False  # opening failed (or unsupported): not tried again
        self._gathering_started = False
        self._gathering = IceGatheringPhase.NEW  # from agent events, so it follows the signals
        self._dtls: dtls.Connection | None = None
        self._dtls_phase = DtlsPhase.NEW
        self._dtls_started = False
        self._sctp: sctp.Association | None = None
        # where SCTP packets out of DTLS go: the association, or it behind the tracer
        self._sctp_in: sctp.Association | _TracedSctpInput | None = None
        self._sctp_phase = SctpPhase.NEW
        self._we_offered: bool | None = None
        self._local: jsep.LocalParameters | None = None
        self._created: dict[str, str] = {}  # type -> last description text we created
        self._applied_local: str | None = None
        self._remote: jsep.RemoteDescription | None = None
        self._buffered_candidates: list[tuple[str, int, str]] = []
        self._remote_candidates = 0  # handed to the ICE agent (up to its max_remote_candidates)
        self._remote_end_of_candidates = False
        # Channels not yet CLOSED, in creation order; a closed one is released at once (the
        # user may still hold it). _by_sid: the same by stream id once one is assigned.
        self._channels: dict[WebRTCDataChannel, None] = {}
        self._by_sid: dict[int, WebRTCDataChannel] = {}
        self._emit_queue: deque[tuple[Signal, tuple[Any, ...]]] = deque()
        self._early_dtls: list[bytes] = []
        self._held_dtls: list[bytes] = []  # handshake records waiting for a valid pair
        self._session_id = self._rng.getrandbits(62)
        self._session_version = 1
        self._dirty = False
        # what channel receive queues hold (RECEIVE_QUEUE_LIMIT); blocked: SCTP events were
        # left undrained at the limit
        self._budget = ReceiveBudget(self._receive_budget_freed)
        self._broken = False  # a layer raised inside poll(); see poll()

    def _teardown(self, *, graceful: bool) -> None:
        """Close every layer and the sockets (used by close() and initialize())."""
        self._close_channels()
        if graceful:
            try:
                if self._sctp is not None and self._sctp_phase is SctpPhase.ESTABLISHED:
                    # close() is immediate, so no SHUTDOWN handshake (RFC 9260 §9.2): ABORT with
                    # "User-Initiated Abort" (§9.1), as browsers do when a connection closes.
                    self._sctp.abort()
                    self._move_sctp_down()
                if self._dtls is not None and self._dtls_phase is DtlsPhase.CONNECTED:
                    self._dtls.close()  # RFC 5246 §7.2.1 close_notify
                self._move_dtls_down()
            except Exception:  # a layer bug must not stop close()
                logger.exception("error while closing the connection")
        if self._agent is not None:
            try:
                self._agent.close()
            except Exception:
                logger.exception("error while closing the ICE agent")
        self._mdns_socket = None
        if self._transport is not None:
            self._transport.close()  # closes the mDNS socket too
            self._transport = None
        self._emit_queue.clear()

    # -- Godot API ------------------------------------------------------------------------------

    def initialize(self, configuration: dict[str, Any] | None = None) -> Error:
        """Close any previous connection and start over in STATE_NEW with `configuration`."""
        if configuration is None:
            configuration = {}
        if not isinstance(configuration, dict):
            return Error.ERR_INVALID_PARAMETER
        parsed: dict[str, Any] = {"stun": [], "turn": [], "loopback": False}
        err = _parse_configuration(configuration, parsed)
        if err is not Error.OK:
            return err
        self._teardown(graceful=True)
        self._reset(parsed)
        return Error.OK

    def create_data_channel(
        self, label: str, options: dict[str, Any] | None = None
    ) -> WebRTCDataChannel | None:
        """A new channel, or None (reason in `last_error`). See `_parse_channel_options`."""
        if self._closed:
            return self._channel_failure(Error.ERR_UNCONFIGURED)
        if options is None:
            options = {}
        if not isinstance(label, str) or not isinstance(options, dict):
            return self._channel_failure(Error.ERR_INVALID_PARAMETER)
        config = _parse_channel_options(label, options)
        if config is None:
            return self._channel_failure(Error.ERR_INVALID_PARAMETER)
        state = self.get_connection_state()
        if state in (ConnectionState.STATE_FAILED, ConnectionState.STATE_CLOSED):
            return self._channel_failure(Error.FAILED)
        if config.id is not None and config.id in self._by_sid:
            return self._channel_failure(Error.ERR_ALREADY_IN_USE)
        channel = WebRTCDataChannel(self, config, budget=self._budget)
        if self._sctp is not None:
            if not self._open_on_sctp(channel):
                return self._channel_failure(Error.ERR_ALREADY_IN_USE)
        elif channel.is_negotiated():
            self._by_sid[channel.get_id()] = channel  # claims its id until opened or closed
        self._channels[channel] = None
        self.last_error = Error.OK
        return channel

    def _channel_failure(self, err: Error) -> WebRTCDataChannel | None:
        self.last_error = err
        logger.debug("create_data_channel failed: %s", err.name)
        return None

    def create_offer(self) -> Error:
        """Create an offer; `session_description_created("offer", sdp)` follows from poll()."""
        if self._closed:
            return Error.ERR_UNCONFIGURED
        if not self._channels:
            return Error.FAILED
        if self.get_connection_state() is not ConnectionState.STATE_NEW:
            return Error.FAILED
        if self._signaling not in (
            SignalingState.SIGNALING_STATE_STABLE,
            SignalingState.SIGNALING_STATE_HAVE_LOCAL_OFFER,
        ):
            return Error.FAILED
        if self._agent is None:
            self._create_agent(controlling=True)  # RFC 8445 §6.1.1: the offerer controls
        agent = self._agent
        assert agent is not None
        self._we_offered = True
        self._local = jsep.LocalParameters(
            session_id=self._session_id,
            session_version=self._session_version,
            ice_ufrag=agent.local_ufrag,
            ice_pwd=agent.local_pwd,
            fingerprint=self._fingerprint(),
            setup="actpass",  # RFC 8842 §5.2: the offerer MUST use actpass
            record_size_limit=self._record_size_limit,
        )
        self._session_version += 1
        text = jsep.write_description(self._local)
        self._created["offer"] = text
        self._queue_signal(self.session_description_created, "offer", text)
        return Error.OK

    def set_local_description(self, type: str, sdp: str) -> Error:
        """Apply a description created by this connection (`offer`, `answer`, `pranswer`)."""
        if self._closed:
            return Error.ERR_UNCONFIGURED
        if not isinstance(type, str) or not isinstance(sdp, str) or type not in DESCRIPTION_TYPES:
            return Error.ERR_INVALID_PARAMETER
        if type == "rollback":
            return self._rollback("local")
        created = self._created.get("answer" if type == "pranswer" else type)
        if created is None or jsep.local_ufrag(sdp) != jsep.local_ufrag(created):
            return Error.ERR_INVALID_PARAMETER  # only our own descriptions can be applied locally
        if (
            sdp == self._applied_local
            and type == "offer"
            and self._signaling is (SignalingState.SIGNALING_STATE_HAVE_LOCAL_OFFER)
        ):
            return Error.OK  # re-applying the current offer is harmless
        nxt = signaling_transition(self._signaling, "local", type)
        if nxt is None:
            if sdp == self._applied_local:
                return Error.OK  # re-applying our current answer is harmless
            return Error.ERR_INVALID_PARAMETER
        self._signaling = nxt
        self._applied_local = sdp
        self._dirty = True
        self._start_gathering()
        if type in ("answer", "pranswer"):
            self._start_transports()
        return Error.OK

    def set_remote_description(self, type: str, sdp: str) -> Error:
        """Apply the peer's description; with `offer`, an answer is created and emitted."""
        if self._closed:
            return Error.ERR_UNCONFIGURED
        if not isinstance(type, str) or not isinstance(sdp, str) or type not in DESCRIPTION_TYPES:
            return Error.ERR_INVALID_PARAMETER
        if type == "rollback":
            return self._rollback("remote")
        if _utf8(sdp) is None:
            logger.info("rejected remote %s: not UTF-8 text (RFC 8866 §5)", type)
            return Error.ERR_INVALID_DATA
        try:
            remote = jsep.parse_description(type, sdp)
        except jsep.JsepError as exc:
            logger.info("rejected remote %s: %s", type, clip(exc))
            return Error.ERR_INVALID_DATA
        except Exception as exc:  # a bug in a parser must not escape the API
            # the message may quote the input: clipped, the traceback only at debug level
            logger.error("remote %s could not be parsed (a parser bug): %s", type, clip(exc))
            logger.debug("parser traceback", exc_info=True)
            return Error.ERR_INVALID_DATA
        nxt = signaling_transition(self._signaling, "remote", type)
        if nxt is None:
            return Error.ERR_INVALID_PARAMETER
        old = self._remote
        restart = old is not None and (remote.ice_ufrag, remote.ice_pwd) != (
            old.ice_ufrag,
            old.ice_pwd,
        )
        if restart and self._dtls is not None:
            logger.warning("ICE restart is not supported")
            return Error.ERR_UNAVAILABLE
        if type == "offer":
            if self._we_offered:
                return Error.ERR_INVALID_PARAMETER
            self._we_offered = False
            if self._agent is None:
                self._create_agent(controlling=False)
        elif not self._we_offered:
            return Error.ERR_INVALID_PARAMETER
        self._signaling = nxt
        self._remote = remote
        self._dirty = True
        agent = self._agent
        assert agent is not None
        agent.set_remote_credentials(remote.ice_ufrag, remote.ice_pwd)
        over = 0
        for cand in remote.candidates:
            over += self._apply_remote_candidate(cand) is Error.ERR_OUT_OF_MEMORY
        if over:
            logger.info("%d candidates of the remote %s over the limit ignored", over, type)
        pending, self._buffered_candidates = self._buffered_candidates, []
        for media, index, name in pending:
            err = self._add_candidate_now(media, index, name)
            if err is not Error.OK:
                logger.info("dropped buffered candidate %s: %s", clip(name), err.name)
        if remote.end_of_candidates or self._remote_end_of_candidates:
            agent.add_remote_candidate(None)
        if type == "offer":
            self._create_answer(remote)
        else:
            self._start_transports()
        return Error.OK

    def add_ice_candidate(self, media: str, index: int, name: str) -> Error:
        """Add a remote candidate (`candidate:...`, `a=` optional); "" = end-of-candidates."""
        if self._closed:
            return Error.ERR_UNCONFIGURED
        if (
            not isinstance(media, str)
            or not isinstance(name, str)
            or not isinstance(index, int)
            or isinstance(index, bool)
            or index < 0
            or len(media) > MAX_MID_LENGTH
            or _utf8(media) is None
        ):
            return Error.ERR_INVALID_PARAMETER
        if len(name) > MAX_CANDIDATE_LENGTH or _utf8(name) is None:
            return Error.ERR_INVALID_DATA  # cannot be candidate text (RFC 8839 §5.1 is ASCII)
        text = name.strip()
        if text.startswith("a="):
            text = text[2:]
        if text and text != "end-of-candidates":
            try:
                sdp.Candidate.parse(text)
            except Exception:
                return Error.ERR_INVALID_DATA
        if self._remote is None:
            if len(self._buffered_candidates) >= MAX_BUFFERED_CANDIDATES:
                return Error.ERR_OUT_OF_MEMORY
            self._buffered_candidates.append((media, index, text))
            return Error.OK
        return self._add_candidate_now(media, index, text)

    def _add_candidate_now(self, media: str, index: int, text: str) -> Error:
        remote = self._remote
        agent = self._agent
        assert remote is not None and agent is not None
        if media:
            if media != remote.mid:
                return Error.ERR_INVALID_PARAMETER
        elif index != remote.mline_index:
            return Error.ERR_INVALID_PARAMETER
        if not text or text == "end-of-candidates":
            self._remote_end_of_candidates = True
            agent.add_remote_candidate(None)
            self._dirty = True
            return Error.OK
        return self._apply_remote_candidate(text)

    def _apply_remote_candidate(self, text: str) -> Error:
        try:
            cand = sdp.Candidate.parse(text)
        except Exception:
            return Error.ERR_INVALID_DATA
        if cand.transport.lower() != "udp" or cand.component != 1:
            return Error.OK  # RFC 8839 §5.1: data channels use one UDP component; others ignored
        try:
            ipaddress.ip_address(cand.address)
        except ValueError:
            if not cand.is_mdns:
                # DNS names are not resolved; the peer is learned as peer-reflexive from its
                # checks (RFC 8445 §7.3.1.3).
                logger.debug("ignoring candidate with a hostname: %s", clip(cand.address))
                return Error.OK
        assert self._agent is not None
        if self._remote_candidates >= self._agent.max_remote_candidates:
            return Error.ERR_OUT_OF_MEMORY
        self._remote_candidates += 1
        # `.local` names are resolved by the agent (one-shot mDNS, draft-ietf-mmusic-mdns-ice).
        self._agent.add_remote_candidate(cand)
        self._dirty = True
        if cand.is_mdns:
            self._maybe_open_mdns()
        return Error.OK

    def poll(self) -> Error:
        """Do all pending I/O and timers, then emit queued signals in order. Never blocks."""
        if self._closed:
            return Error.ERR_UNCONFIGURED
        outer = self._in_poll
        if outer:
            # Called again from a signal handler: as Godot, OK, and this call goes on with the
            # I/O and the same queue, so order is kept and each signal is emitted once. Not from
            # inside the I/O step (a trace callback); past MAX_NESTED_POLLS the enclosing calls
            # emit the rest (a handler polling for each of thousands of signals must not exhaust
            # Python's stack).
            if outer == _POLL_STEPPING or self._nested_polls >= MAX_NESTED_POLLS:
                return Error.OK
            self._nested_polls += 1
        try:
            dirty, self._dirty = self._dirty, False
            if self._agent is not None and not self._broken:
                self._in_poll = _POLL_STEPPING
                try:
                    self._step(self._clock(), dirty)
                except Exception:  # a layer bug: fail this connection, never the caller
                    self._fail_internal("poll()")
                    return Error.ERR_BUG
            self._in_poll = _POLL_EMITTING
            # Handlers run here, in order; an exception in one propagates to the caller and
            # the signals still queued are emitted by the next poll(). A signal is dequeued
            # before it is emitted, so a handler's own poll() emits only the ones after it.
            queue = self._emit_queue
            while queue and not self._closed:
                signal, args = queue.popleft()
                signal.emit(*args)
        finally:
            self._in_poll = outer
            if outer:
                self._nested_polls -= 1
        return Error.OK

    def close(self) -> None:
        """Close every channel and the transport; the states become CLOSED."""
        if self._closed:
            return
        self._teardown(graceful=True)
        self._closed = True

    def get_connection_state(self) -> st.ConnectionState:
        ice_phase = None
        if self._agent is not None:
            ice_phase = _ice_phase(self._agent.state)
            if ice_phase is IcePhase.CHECKING and self._agent.can_send:
                # W3C RTCIceTransportState "connected": a usable pair found, still checking
                # (the agent reports CONNECTED only once a pair is nominated).
                ice_phase = IcePhase.CONNECTED
        return connection_state(
            closed=self._closed, ice=ice_phase, dtls=self._dtls_phase, sctp=self._sctp_phase
        )

    def get_gathering_state(self) -> st.GatheringState:
        return gathering_state(self._gathering)

    def get_signaling_state(self) -> st.SignalingState:
        return signaling_state(self._signaling, closed=self._closed)

    # -- extras ---------------------------------------------------------------------------------

    def next_timeout(self) -> float | None:
        """Clock time at which poll() next has work (now if something is pending); None = idle."""
        if self._closed:
            return None
        if self._dirty or self._emit_queue:
            return self._clock()
        if self._broken:
            return None
        best: float | None = None
        for layer in (self._agent, self._dtls, self._sctp):
            if layer is None:
                continue
            t = layer.next_timeout()
            if t is not None and (best is None or t < best):
                best = t
        return best

    # -- pipeline -------------------------------------------------------------------------------

    def _step(self, now: float, dirty: bool) -> None:
        agent = self._agent
        assert agent is not None
        transport = self._transport
        # Whether anything can have changed since the last poll: an API call (`dirty`), a
        # datagram, or a due timer. An idle poll stops after the timer checks (see
        # scripts/instructions.py idle).
        active = dirty or not self._dtls_started or self._mdns_socket is not None
        # Whether ICE or DTLS may have events: not after DTLS application data alone.
        control = active
        if transport is not None:
            dtls_conn = self._dtls
            received = transport.receive()
            if received:
                active = True
                if len(received) >= MAX_READ_PER_SOCKET and getattr(transport, "backlog", False):
                    self._dirty = True  # datagrams left behind: next_timeout() says now
            if self._trace is not None:
                self._trace.wire(received, incoming=True)
            # SCTP packets go from DTLS straight to the association, skipping one ApplicationData
            # event each (same order and route as in _drain_events, traced or not).
            sctp_in = self._sctp_in if self._sctp_phase is not SctpPhase.NEW else None
            for data, src, local in received:
                payload = agent.receive(data, src, now, local)
                if payload is None or not payload:
                    control = True  # STUN, mDNS, or dropped
                    continue
                if 20 <= payload[0] <= 63:  # DTLS (RFC 7983 §7)
                    if dtls_conn is not None:
                        if sctp_in is None:
                            dtls_conn.receive(payload, now)
                            control = True
                        else:
                            plain = dtls_conn.receive_application_data(payload, now)
                            if plain is not None:
                                sctp_in.receive(plain, now)
                            else:
                                control = True
                    elif len(self._early_dtls) < MAX_EARLY_DTLS:
                        self._early_dtls.append(payload)
                # RFC 7983: 0..3 STUN is the agent's, 128..191 RTP/RTCP is not supported here
        if self._mdns_socket is not None:
            self._read_mdns(agent, now)
        t = agent.next_timeout()
        if t is not None and t <= now:
            agent.handle_timeout(now)
            active = control = True
        if self._dtls is not None:
            t = self._dtls.next_timeout()
            if t is not None and t <= now:
                self._dtls.handle_timeout(now)
                active = control = True
        assoc = self._sctp
        if assoc is not None and not active:
            t = assoc.next_timeout()
            active = t is not None and t <= now
        if not active:
            return
        if assoc is not None:
            # Even when no timer is due: it also tells SCTP the time, so timers started while
            # packing below (T3-rtx) are measured from now, not from the last datagram received.
            assoc.handle_timeout(now)
        self._drain_events(now, control)
        if not self._dtls_started:
            self._maybe_start_dtls(now)
        # DTLS and ICE have output only from SCTP packets or their own activity (`control`)
        if self._move_sctp_down() or control:
            self._move_dtls_down()

    def _drain_events(self, now: float, control: bool = True) -> None:
        """Turn layer events into state changes and signals; `control` False skips ICE and DTLS
        (nothing but DTLS application data arrived, which goes straight to SCTP)."""
        agent = self._agent
        assert agent is not None
        ev: Any
        while control and (ev := agent.next_event()) is not None:
            if isinstance(ev, ice.CandidateGathered):
                local = self._local
                assert local is not None
                self._queue_signal(
                    self.ice_candidate_created, local.mid, local.mline_index, str(ev.candidate)
                )
            elif isinstance(ev, ice.StateChanged | ice.SelectedPairChanged):
                self._maybe_start_dtls(now)
            elif isinstance(ev, ice.GatheringComplete):
                self._gathering = IceGatheringPhase.COMPLETE
        conn = self._dtls
        if conn is not None and control:
            assoc = self._sctp
            sctp_in = self._sctp_in
            while (ev := conn.next_event()) is not None:
                if isinstance(ev, dtls.ApplicationData):
                    if sctp_in is not None and self._sctp_phase is not SctpPhase.NEW:
                        sctp_in.receive(ev.data, now)
                elif isinstance(ev, dtls.HandshakeCompleted):
                    self._dtls_phase = DtlsPhase.CONNECTED
                    if assoc is not None:
                        # SCTP packets sized so each DTLS record fits the path MTU DTLS settled
                        # on (1200-byte datagrams, or less after RFC 6347 §4.1.1.1 back-off).
                        assoc.set_max_packet_size(conn.payload_mtu)
                        self._maybe_enable_plpmtud(assoc, conn.payload_mtu)
                    if assoc is not None and self._sctp_phase is SctpPhase.NEW:
                        self._sctp_phase = SctpPhase.CONNECTING
                        assoc.connect(now)  # RFC 8261 §4: both ends start SCTP over DTLS
                elif isinstance(ev, dtls.ConnectionTerminated):
                    self._on_dtls_terminated(ev.error)
        assoc = self._sctp
        if assoc is not None:
            by_sid = self._by_sid
            budget = self._budget
            while True:
                if budget.queued >= RECEIVE_QUEUE_LIMIT:
                    budget.blocked = True  # get_packet() makes poll() drain again
                    break
                ev = assoc.next_event()
                if ev is None:
                    break
                if type(ev) is _MessageReceived:
                    ch = by_sid.get(ev.stream_id)
                    if ch is not None:
                        budget.queued += ch._deliver(ev.data, ev.binary)
                elif isinstance(ev, sctp.ChannelOpened):
                    self._on_channel_opened(ev)
                elif isinstance(ev, sctp.ChannelClosed):
                    ch = by_sid.pop(ev.stream_id, None)
                    if ch is not None:
                        self._mark_closed(ch)
                elif isinstance(ev, sctp.AssociationEstablished):
                    self._sctp_phase = SctpPhase.ESTABLISHED
                elif isinstance(ev, sctp.AssociationClosed):
                    self._on_association_closed(ev.error)

    def _maybe_enable_plpmtud(self, assoc: sctp.Association, base: int) -> None:
        """Let SCTP probe for packets above `base` when both ends declared bigger records."""
        remote = self._remote
        if remote is None or not self._record_size_limit:
            return
        limit = min(remote.record_size_limit, self._record_size_limit)
        if limit <= base:
            return  # the peer did not declare the extension (or declared no more than the base)
        prevent = getattr(self._transport, "prevent_fragmentation", None)
        if prevent is not None:
            prevent()  # RFC 8899 §3: probes must not be fragmented on the way
        assoc.enable_plpmtud(limit)

    def _move_sctp_down(self) -> bool:
        """SCTP packets into DTLS records; whether there were any."""
        assoc, conn = self._sctp, self._dtls
        if assoc is None or conn is None or self._dtls_phase is not DtlsPhase.CONNECTED:
            return False
        packets = assoc.datagrams_to_send()
        if self._trace is not None:
            self._trace.sctp(packets, incoming=False)
        if len(packets) > 1:
            conn.send_many(packets)  # one call seals them all
        elif packets:
            conn.send(packets[0])
        return bool(packets)

    def _move_dtls_down(self) -> None:
        agent = self._agent
        if agent is None:
            return
        conn = self._dtls
        if conn is not None:
            records = conn.datagrams_to_send()
            if self._held_dtls or (
                records and self._dtls_phase is DtlsPhase.CONNECTING and not agent.can_send
            ):
                records = self._hold_dtls(records, agent.can_send)
            send = agent.send
            for record in records:
                send(record)
        transport = self._transport
        out = agent.datagrams_to_send()
        if self._trace is not None:
            self._trace.wire(out, incoming=False)
        if transport is not None:
            # net.BatchCapable: UdpTransport sends runs of them with UDP GSO
            send_many = getattr(transport, "send_many", None) if len(out) > 1 else None
            if send_many is not None:
                send_many(out)
            else:
                tsend = transport.send
                for data, local, remote in out:
                    tsend(data, local, remote)

    # -- layer setup ----------------------------------------------------------------------------

    def _create_agent(self, *, controlling: bool) -> None:
        self._agent = ice.Agent(
            controlling=controlling,
            rng=self._rng,
            stun_servers=list(self._stun_servers),
            turn_servers=list(self._turn_servers),
        )

    def _fingerprint(self) -> str:
        if self._certificate is None:
            self._certificate = dtls.Certificate.generate()
        return "sha-256 " + self._certificate.fingerprint("sha-256")

    def _create_answer(self, remote: jsep.RemoteDescription) -> None:
        agent = self._agent
        assert agent is not None
        # RFC 8842 §5.3: answer actpass with active (we become the DTLS client).
        setup = "passive" if remote.setup == "active" else "active"
        self._local = jsep.LocalParameters(
            session_id=self._session_id,
            session_version=self._session_version,
            ice_ufrag=agent.local_ufrag,
            ice_pwd=agent.local_pwd,
            fingerprint=self._fingerprint(),
            setup=setup,
            mid=remote.mid or "0",
            legacy_sctpmap=remote.legacy_sctpmap,
            mline_index=remote.mline_index,
            other_sections=list(remote.other_sections),
            record_size_limit=self._record_size_limit,
        )
        self._session_version += 1
        text = jsep.write_description(self._local)
        self._created["answer"] = text
        self._queue_signal(self.session_description_created, "answer", text)

    def _start_gathering(self) -> None:
        if self._gathering_started:
            return
        agent = self._agent
        assert agent is not None
        self._gathering_started = True
        self._gathering = IceGatheringPhase.GATHERING
        if self._transport_factory is not None:
            transport = self._transport_factory()
        else:
            transport = UdpTransport(loopback_only=self._loopback_only or env_loopback_only())
        self._transport = transport
        addresses: list[Address] = []
        for host in transport.local_hosts():
            try:
                addresses.append(transport.bind(host))
            except OSError as exc:
                logger.warning("cannot bind a UDP socket on %s: %s", host, exc)
        if not addresses:
            logger.error("no local address could be bound; gathering finds no host candidate")
        agent.gather(addresses, self._clock())
        self._maybe_open_mdns()  # names signalled before gathering (we answer an offer)

    def _maybe_open_mdns(self) -> None:
        """Open the transport's optional multicast mDNS socket while the agent resolves a
        `.local` candidate (Chromium answers only by multicast); never on loopback-only."""
        agent, transport = self._agent, self._transport
        if (
            self._mdns_socket is not None
            or self._mdns_unavailable
            or agent is None
            or transport is None
            or not agent.mdns_pending
        ):
            return
        opened = False
        if not (self._loopback_only or env_loopback_only()) and all(
            hasattr(transport, m) for m in ("open_mdns", "receive_mdns", "close_mdns")
        ):
            mdns = cast(MdnsCapable, transport)
            try:
                opened = mdns.open_mdns()
            except Exception as exc:  # optional: the connection works without it
                logger.debug("open_mdns failed: %s", exc)
            if opened:
                self._mdns_socket = mdns
        self._mdns_unavailable = not opened

    def _read_mdns(self, agent: ice.Agent, now: float) -> None:
        mdns = self._mdns_socket
        assert mdns is not None
        for data in mdns.receive_mdns():
            agent.receive_mdns(data, now)
        if not agent.mdns_pending:  # every name answered or given up: stop listening
            mdns.close_mdns()
            self._mdns_socket = None

    def _start_transports(self) -> None:
        """Create DTLS + SCTP once both descriptions are known (roles are then fixed)."""
        if self._dtls is not None or self._remote is None or self._local is None:
            return
        remote = self._remote
        is_client = jsep.dtls_is_client(
            we_offered=bool(self._we_offered), remote_setup=remote.setup
        )
        if self._certificate is None:
            self._fingerprint()
        assert self._certificate is not None
        keylog: Callable[[str], None] | None = None
        keylog_path = os.environ.get("SSLKEYLOGFILE")
        if keylog_path:
            keylog = _keylog_writer(keylog_path)
        self._dtls = dtls.Connection(
            is_client=is_client,
            certificate=self._certificate,
            remote_fingerprints=list(remote.fingerprints),
            # use_srtp (RFC 5764) although we carry no media: aiortc fails a handshake without a
            # negotiated SRTP profile, and browsers always offer these.
            srtp_profiles=SRTP_PROFILES,
            rng=self._rng,
            keylog=keylog,
        )
        self._dtls_phase = DtlsPhase.CONNECTING
        self._sctp = sctp.Association(
            is_client=is_client,
            local_port=self._local.sctp_port,
            remote_port=remote.sctp_port,
            max_message_size=self._local.max_message_size,
            rng=self._rng,
            zero_checksum=self._zero_checksum,
            # Cap timer back-off at 3 s and declare path failure after 30 s of silence rather
            # than after Association.Max.Retrans doublings (about 6 min with RFC 9260 defaults).
            max_backoff=SCTP_MAX_BACKOFF,
            failure_timeout=SCTP_FAILURE_TIMEOUT,
        )
        self._sctp.set_remote_max_message_size(remote.max_message_size)
        self._sctp_in = (
            self._sctp if self._trace is None else _TracedSctpInput(self._trace, self._sctp)
        )
        for ch in list(self._channels):
            if ch.get_ready_state() is ChannelState.STATE_CONNECTING and not self._open_on_sctp(ch):
                self._mark_closed(ch)
        now = self._clock()
        early, self._early_dtls = self._early_dtls, []
        for data in early:
            self._dtls.receive(data, now)
        self._maybe_start_dtls(now)

    def _hold_dtls(self, records: list[bytes], can_send: bool) -> list[bytes]:
        """Handshake records while ICE has no usable pair yet: kept (bounded) until it has."""
        held = self._held_dtls + records
        if can_send:
            self._held_dtls = []
            return held
        self._held_dtls = held[-MAX_EARLY_DTLS:]
        return []

    def _maybe_start_dtls(self, now: float) -> None:
        conn, agent = self._dtls, self._agent
        if conn is None or agent is None or self._dtls_started:
            return
        # RFC 8445 §12.1: a valid pair may carry data before nomination, so the handshake need
        # not wait for the controlling agent's next Ta slot.
        if not agent.can_send and _ice_phase(agent.state) not in (
            IcePhase.CONNECTED,
            IcePhase.COMPLETED,
        ):
            return
        self._dtls_started = True
        conn.start(now)  # the client sends its ClientHello now; a server waits for it

    def _open_on_sctp(self, ch: WebRTCDataChannel) -> bool:
        assoc = self._sctp
        assert assoc is not None
        try:
            sid = assoc.open(ch.config)
        except sctp.SctpError as exc:
            logger.debug("cannot open channel %s: %s", clip(ch.get_label()), clip(exc))
            ch._set_state(ChannelState.STATE_CLOSED)
            return False
        ch._assign_id(sid)
        self._by_sid[sid] = ch
        self._dirty = True
        return True

    # -- layer events ---------------------------------------------------------------------------

    def _on_channel_opened(self, ev: sctp.ChannelOpened) -> None:
        ch = self._by_sid.get(ev.stream_id)
        if ch is not None and not ev.remote:
            if ch.get_ready_state() is ChannelState.STATE_CONNECTING:
                ch._set_state(ChannelState.STATE_OPEN)
            return
        if ch is not None:
            return  # already known (negotiated pair or duplicate OPEN)
        # RFC 8832 §6: the peer opened an in-band channel.
        ch = WebRTCDataChannel(self, ev.config, stream_id=ev.stream_id, budget=self._budget)
        ch._set_state(ChannelState.STATE_OPEN)
        self._channels[ch] = None
        self._by_sid[ev.stream_id] = ch
        self._queue_signal(self.data_channel_received, ch)

    def _on_dtls_terminated(self, error: Exception | None) -> None:
        if error is None:
            logger.info("peer closed the DTLS connection (close_notify)")
            self._dtls_phase = DtlsPhase.CLOSED
            self._close_channels()
            if self._agent is not None:
                self._agent.close()  # nothing more to check; avoids a later consent failure
        else:
            logger.warning("DTLS failed: %s", clip(error))
            self._dtls_phase = DtlsPhase.FAILED
            self._close_channels()

    def _on_association_closed(self, error: str | None) -> None:
        self._close_channels()
        if error is None or "user initiated abort" in error.lower():
            # Graceful SHUTDOWN, or the peer closed on purpose (browsers ABORT on close()).
            self._sctp_phase = SctpPhase.CLOSED
        else:
            logger.warning("SCTP association lost: %s", clip(error))
            self._sctp_phase = SctpPhase.FAILED

    def _close_channels(self) -> None:
        for ch in list(self._channels):
            self._mark_closed(ch)
        self._by_sid.clear()

    def _mark_closed(self, ch: WebRTCDataChannel) -> None:
        """CLOSED and released: what it still holds stays readable (by a user who kept it) but
        no longer counts against the receive limit, and the connection forgets it."""
        ch._set_state(ChannelState.STATE_CLOSED)
        budget = self._budget
        budget.queued -= ch._release_receive_charge()
        if budget.blocked:
            budget.blocked = False
            self._dirty = True
        self._channels.pop(ch, None)
        sid = ch.get_id()
        if self._by_sid.get(sid) is ch:
            del self._by_sid[sid]

    def _rollback(self, side: str) -> Error:
        nxt = signaling_transition(self._signaling, side, "rollback")
        if nxt is None:
            return Error.ERR_INVALID_PARAMETER
        self._signaling = nxt
        if side == "remote" and self._dtls is None:
            self._remote = None
            self._created.pop("answer", None)
            if not self._gathering_started and self._agent is not None:
                self._agent.close()
                self._agent = None
                self._we_offered = None
        elif side == "local" and self._dtls is None:
            self._created.pop("offer", None)
            self._applied_local = None
        return Error.OK

    def _queue_signal(self, signal: Signal, *args: Any) -> None:
        self._emit_queue.append((signal, args))

    # -- data channel hooks ---------------------------------------------------------------------

    def _channel_send(self, sid: int, data: bytes, binary: bool) -> Error:
        assoc = self._sctp
        if assoc is None or self._closed:
            return Error.ERR_UNAVAILABLE
        if not binary:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                return Error.ERR_INVALID_PARAMETER
        try:
            assoc.send(sid, data, binary=binary)
        except sctp.MessageTooLarge:  # the peer's a=max-message-size (RFC 8841 §6.1) or ours
            return Error.ERR_INVALID_PARAMETER
        except sctp.ChannelNotOpen:
            return Error.ERR_UNAVAILABLE
        except sctp.SendBufferFull:
            return Error.ERR_BUSY  # the local send buffer is full; retry after poll()
        except sctp.SctpError as exc:
            logger.warning("send failed: %s", clip(exc))
            return Error.FAILED
        if not (assoc.idle and not self._in_poll and not self._broken and self._send_now(assoc)):
            self._dirty = True
        return Error.OK

    def _send_now(self, assoc: sctp.Association) -> bool:
        """Put a message given to an idle association on the wire at once instead of at the next
        poll() (a ping-pong needs two polls less). With data in flight, messages wait for poll()
        and are bundled (SACK clocked). False when poll() still has work from this call."""
        if self._dtls_phase is not DtlsPhase.CONNECTED or self._agent is None:
            return False
        try:
            now = self._clock()
            due = assoc.next_timeout()
            assoc.handle_timeout(now)
            self._move_sctp_down()
            self._move_dtls_down()
        except Exception:  # a layer bug: fail this connection, never the caller
            self._fail_internal("put_packet()")
        return due is None or due > now  # a timer fired: poll() drains what it produced

    def _fail_internal(self, where: str) -> None:
        logger.exception("internal error in %s; the connection has failed", where)
        self._broken = True  # no more I/O until initialize()
        self._dtls_phase = DtlsPhase.FAILED
        self._close_channels()

    def _channel_close(self, ch: WebRTCDataChannel) -> None:
        """Start closing `ch` (STATE_CLOSING), or close it at once when it never opened."""
        assoc = self._sctp
        sid = ch.get_id()
        if assoc is None or self._closed or sid < 0 or self._by_sid.get(sid) is not ch:
            self._mark_closed(ch)
            return
        try:
            assoc.close_channel(sid)  # RFC 8831 §6.7: reset the outgoing stream
        except sctp.SctpError as exc:
            logger.info("close_channel(%d): %s", sid, clip(exc))
            self._mark_closed(ch)
            return
        ch._set_state(ChannelState.STATE_CLOSING)
        self._dirty = True

    def _receive_budget_freed(self) -> None:
        """A channel's reader freed receive budget while poll() had stopped draining SCTP."""
        self._dirty = True  # poll() drains more from SCTP (and reopens its window)

    def _channel_buffered(self, sid: int) -> int:
        assoc = self._sctp
        if assoc is None:
            return 0
        return int(assoc.buffered_amount(sid))

    def _remote_max_message_size(self) -> int:
        if self._remote is None:
            return jsep.DEFAULT_REMOTE_MAX_MESSAGE_SIZE
        return self._remote.max_message_size

    def _max_message_size(self) -> int:
        """The send limit SCTP applies: min of ours and the peer's, 0 meaning no limit."""
        local = jsep.LOCAL_MAX_MESSAGE_SIZE if self._local is None else self._local.max_message_size
        remote = self._remote_max_message_size()
        if local and remote:
            return min(local, remote)
        return local or remote


def _ice_phase(state: Any) -> IcePhase:
    try:
        return IcePhase[state.name]
    except (KeyError, AttributeError):
        return IcePhase.NEW


def _keylog_writer(path: str) -> Callable[[str], None]:
    def write(line: str) -> None:
        try:
            with open(path, "a", encoding="ascii") as f:
                f.write(line.rstrip("\n") + "\n")
        except OSError as exc:
            logger.warning("cannot write SSLKEYLOGFILE %s: %s", path, exc)

    return write


def _parse_channel_options(label: str, options: dict[str, Any]) -> sctp.ChannelConfig | None:
    """create_data_channel options as API.md defines them; None when invalid."""

    def get_int(key: str, low: int, high: int) -> int | bool | None:
        value = options.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return False
        return value

    negotiated = options.get("negotiated", False)
    ordered = options.get("ordered", True)
    protocol = options.get("protocol", "")
    if not isinstance(negotiated, bool) or not isinstance(ordered, bool):
        return None
    if not isinstance(protocol, str):
        return None
    for text in (label, protocol):
        # RFC 8832 §5.1: UTF-8 in DCEP, so a lone surrogate is refused here, not in poll()
        raw = _utf8(text)
        if raw is None or len(raw) > _U16_MAX:
            return None
    cid = get_int("id", 0, 65534)  # RFC 8831 §6.5: stream 65535 is reserved
    rtx = get_int("maxRetransmits", 0, _U16_MAX)
    life1 = get_int("maxPacketLifeTime", 0, _U16_MAX)
    life2 = get_int("maxPacketLifetime", 0, _U16_MAX)  # Godot's WebRTCMultiplayerPeer spelling
    if cid is False or rtx is False or life1 is False or life2 is False:
        return None
    if life1 is not None and life2 is not None and life1 != life2:
        return None
    life = life1 if life1 is not None else life2
    if rtx is not None and life is not None:
        return None  # W3C: maxRetransmits and maxPacketLifeTime are exclusive
    if negotiated and cid is None:
        return None
    if not negotiated and cid is not None:
        return None  # like Godot native: an id only with negotiated: true
    return sctp.ChannelConfig(
        label=label,
        protocol=protocol,
        ordered=ordered,
        max_retransmits=rtx,
        max_packet_lifetime=life,
        negotiated=negotiated,
        id=cid,
    )


def _utf8(text: str) -> bytes | None:
    """`text` as UTF-8, or None when it cannot be (a lone surrogate)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None


def _split_host_port(rest: str, default_port: int) -> tuple[str, int] | None:
    if rest.startswith("["):  # RFC 3986 IPv6 literal
        end = rest.find("]")
        if end < 0:
            return None
        host, tail = rest[1:end], rest[end + 1 :]
        if tail and not tail.startswith(":"):
            return None
        port_text = tail[1:] if tail else ""
    else:
        host, _, port_text = rest.partition(":")
        if ":" in port_text:
            return None
    if not host or any(c in host for c in " /@?#"):
        return None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            return None
        return host, int(port_text)
    return host, default_port


def _parse_ice_url(url: str) -> tuple[str, str, int, str] | None:
    """RFC 7064/7065 `stun:host[:port]`, `turn:host[:port][?transport=udp]` -> parts or None."""
    scheme, sep, rest = url.strip().partition(":")
    scheme = scheme.lower()
    if not sep or scheme not in ("stun", "stuns", "turn", "turns"):
        return None
    rest, _, query = rest.partition("?")
    transport = "udp" if scheme in ("stun", "turn") else "tcp"
    if query:
        key, _, value = query.partition("=")
        if key.lower() != "transport" or value.lower() not in ("udp", "tcp"):
            return None
        if not scheme.startswith("turn"):
            return None
        transport = value.lower()
    hp = _split_host_port(unquote(rest), 5349 if scheme.endswith("s") else 3478)
    if hp is None:
        return None
    return scheme, hp[0], hp[1], transport


def _resolve(host: str, port: int) -> Address | None:
    try:
        ipaddress.ip_address(host)
        return host, port
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError):  # UnicodeError: not a valid IDNA name (e.g. a label > 63)
        return None
    infos.sort(key=lambda i: i[0] != socket.AF_INET)  # prefer IPv4
    for info in infos:
        return str(info[4][0]), port
    return None


def _parse_configuration(config: dict[str, Any], out: dict[str, Any]) -> Error:
    loopback = config.get("x-loopback-only", False)
    if not isinstance(loopback, bool):
        return Error.ERR_INVALID_PARAMETER
    out["loopback"] = loopback
    servers = config.get("iceServers", [])
    if not isinstance(servers, list | tuple):
        return Error.ERR_INVALID_PARAMETER
    for server in servers:
        if not isinstance(server, dict):
            return Error.ERR_INVALID_PARAMETER
        urls = server.get("urls", server.get("url"))
        if isinstance(urls, str):
            urls = [urls]
        if not isinstance(urls, list | tuple) or not urls:
            return Error.ERR_INVALID_PARAMETER
        username = server.get("username", "")
        credential = server.get("credential", "")
        if not isinstance(username, str) or not isinstance(credential, str):
            return Error.ERR_INVALID_PARAMETER
        if _utf8(username) is None or _utf8(credential) is None:
            return Error.ERR_INVALID_PARAMETER  # RFC 8489 §14.3/§9.2.2: UTF-8 (then SASLprep)
        for url in urls:
            if not isinstance(url, str):
                return Error.ERR_INVALID_PARAMETER
            parts = _parse_ice_url(url) if _utf8(url) is not None else None
            if parts is None:
                logger.error("invalid ICE server URL %s", clip(url))
                return Error.ERR_INVALID_PARAMETER
            scheme, host, port, transport = parts
            if scheme in ("stuns", "turns") or transport != "udp":
                logger.warning("ICE server %s: only UDP STUN/TURN is supported; ignored", clip(url))
                continue
            if scheme == "turn" and (not username or not credential):
                logger.error("TURN server %s needs username and credential", clip(url))
                return Error.ERR_INVALID_PARAMETER
            addr = _resolve(host, port)
            if addr is None:
                logger.error("cannot resolve ICE server %s", clip(url))
                return Error.ERR_CANT_RESOLVE
            if scheme == "stun":
                out["stun"].append(addr)
            else:
                out["turn"].append(ice.TurnServer(addr, username, credential))
    return Error.OK
