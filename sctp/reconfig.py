"""Stream reconfiguration: outgoing and incoming SSN resets that close data channels
(RFC 6525 §5.1.2, §5.2.2; RFC 8831 §6.7). Other requests are denied (§5.2.3-§5.2.6)."""

from __future__ import annotations

from .channels import Channels, ChannelState
from .chunks import (
    AddStreamsRequest,
    IncomingSsnResetRequest,
    OutgoingSsnResetRequest,
    ReconfigChunk,
    ReconfigParam,
    ReconfigResponse,
    ReconfigResult,
    SsnTsnResetRequest,
)
from .packet import PacketWriter
from .rx import Receiver
from .timers import Rto, Timers
from .tx import Sender

_HALF = 1 << 31
MAX_STREAMS_PER_REQUEST = 256


class StreamReset:
    """Our requests (one in flight at a time) and the peer's (RFC 6525 §5.1.1, §5.2.1).

    `seq` is our next Re-configuration Request Sequence Number, `peer_seq` the one expected
    from the peer; `wanted` holds our streams to reset once their queued messages are sent."""

    __slots__ = (
        "_channels",
        "_rto",
        "_rx",
        "_timers",
        "_tx",
        "_writer",
        "inflight",
        "peer_last_result",
        "peer_reconfig",
        "peer_seq",
        "seq",
        "wanted",
    )

    def __init__(
        self,
        initial_seq: int,
        channels: Channels,
        rx: Receiver,
        tx: Sender,
        writer: PacketWriter,
        timers: Timers,
        rto: Rto,
    ) -> None:
        self._channels = channels
        self._rx = rx
        self._tx = tx
        self._writer = writer
        self._timers = timers
        self._rto = rto
        self.seq = initial_seq  # RFC 6525 §5.1.1: starts at our initial TSN
        self.peer_seq = 0
        self.peer_last_result: ReconfigResponse | None = None
        self.peer_reconfig = False  # the peer supports RE-CONFIG
        self.wanted: set[int] = set()
        self.inflight: OutgoingSsnResetRequest | None = None

    def on_chunk(self, chunk: ReconfigChunk, now: float) -> None:
        """RFC 6525 §5.2: answer requests, take responses."""
        responses: list[ReconfigParam] = []
        for p in chunk.params:
            if isinstance(p, OutgoingSsnResetRequest):
                responses.append(self._on_outgoing_reset(p))
            elif isinstance(p, ReconfigResponse):
                self._on_response(p, now)
            elif isinstance(p, IncomingSsnResetRequest | SsnTsnResetRequest | AddStreamsRequest):
                # requests we do not perform are denied (RFC 6525 §5.2.3-§5.2.6)
                seq = p.request_seq
                result = ReconfigResult.DENIED
                if seq == self.peer_seq:
                    self.peer_seq = (seq + 1) & 0xFFFFFFFF
                elif seq != (self.peer_seq - 1) & 0xFFFFFFFF:
                    result = ReconfigResult.ERROR_BAD_SEQUENCE_NUMBER
                responses.append(ReconfigResponse(seq, result))
        if responses:
            self._writer.ctrl.append(ReconfigChunk(responses).encode())

    def _on_outgoing_reset(self, req: OutgoingSsnResetRequest) -> ReconfigResponse:
        seq = req.request_seq
        expected = self.peer_seq
        if seq == (expected - 1) & 0xFFFFFFFF and self.peer_last_result is not None:
            return self.peer_last_result  # retransmitted request (RFC 6525 §5.2.1)
        if seq != expected:
            return ReconfigResponse(seq, ReconfigResult.ERROR_BAD_SEQUENCE_NUMBER)
        rx = self._rx
        d = (req.last_tsn - rx.cum) & 0xFFFFFFFF
        if 0 < d < _HALF:
            # RFC 6525 §5.2.2: data up to the last TSN not yet received -> in progress
            return ReconfigResponse(seq, ReconfigResult.IN_PROGRESS)
        by_id = self._channels.by_id
        streams = req.streams or tuple(rx.in_ssn.keys() | by_id.keys())
        for sid in streams:
            rx.reset_streams((sid,))
            ch = by_id.get(sid)
            if ch is not None:
                ch.reset_in = True
                if ch.state is not ChannelState.CLOSING:
                    # RFC 8831 §6.7: reset our outgoing stream as well
                    ch.state = ChannelState.CLOSING
                    if not ch.reset_out:
                        self.wanted.add(sid)
                self._channels.maybe_closed(ch)
        self.peer_seq = (seq + 1) & 0xFFFFFFFF
        result = ReconfigResponse(seq, ReconfigResult.SUCCESS_PERFORMED)
        self.peer_last_result = result
        return result

    def _on_response(self, resp: ReconfigResponse, now: float) -> None:
        req = self.inflight
        if req is None or resp.response_seq != req.request_seq:
            return
        if resp.result == ReconfigResult.IN_PROGRESS:
            self._timers.reconfig = now + self._rto.value  # retry the same request later
            return
        self.inflight = None
        self._timers.reconfig = None
        self.seq = (self.seq + 1) & 0xFFFFFFFF
        ok = resp.result in (
            ReconfigResult.SUCCESS_PERFORMED,
            ReconfigResult.SUCCESS_NOTHING_TO_DO,
        )
        by_id = self._channels.by_id
        for sid in req.streams:
            self._tx.out_ssn.pop(sid, None)
            ch = by_id.get(sid)
            if ch is not None:
                ch.reset_out = True
                if not ok:
                    ch.reset_in = True  # the peer refused: give up on a clean close
                self._channels.maybe_closed(ch)

    def maybe_send(self, now: float) -> None:
        """Request the reset of wanted streams whose queued messages all have TSNs
        (RFC 6525 §5.1.2), one request at a time."""
        if self.inflight is not None or not self.wanted:
            return
        by_id = self._channels.by_id
        ready = []
        for sid in self.wanted:
            ch = by_id.get(sid)
            if ch is None or ch.queued == 0:
                ready.append(sid)
        if not ready:
            return
        ready.sort()
        ready = ready[:MAX_STREAMS_PER_REQUEST]
        for sid in ready:
            self.wanted.discard(sid)
        if not self.peer_reconfig:
            # peer cannot reset streams: close locally (RFC 8831 §6.7 needs RFC 6525)
            for sid in ready:
                ch = by_id.get(sid)
                if ch is not None:
                    ch.reset_in = ch.reset_out = True
                    self._channels.maybe_closed(ch)
            return
        req = OutgoingSsnResetRequest(
            self.seq,
            (self.peer_seq - 1) & 0xFFFFFFFF,
            (self._tx.next_tsn - 1) & 0xFFFFFFFF,
            tuple(ready),
        )
        self.inflight = req
        self._writer.ctrl.append(ReconfigChunk([req]).encode())
        self._timers.reconfig = now + self._rto.value

    def resend(self, now: float) -> None:
        """The request timer expired (RFC 6525 §5.1.1): send the same request again."""
        if self.inflight is not None:
            self._writer.ctrl.append(ReconfigChunk([self.inflight]).encode())
            self._timers.reconfig = now + self._rto.value
