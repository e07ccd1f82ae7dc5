"""Generate the ladder diagrams of docs/LEARN.md (docs/learn/*.svg).

Every scenario runs our real peers on the simulated network of `webrtc.testing` with a virtual
clock and fixed seeds, so the same code writes the same SVG bytes; tests/ladder checks that the
committed files are what this script writes now. Run `python scripts/learn_diagrams.py` after a
change to the stack and commit the new diagrams with it.

DTLS certificates and keys still come from the OS: they change the bytes of encrypted records
and signatures, never their sizes, order or timing, and the diagrams show none of those bytes.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import ice  # noqa: E402
from ice import channeldata, stun  # noqa: E402
from webrtc import ChannelState, Error, WebRTCDataChannel, WebRTCPeerConnection  # noqa: E402
from webrtc.ladder import Ladder, Recorder, StateChange, build_ladder, parse_trace_records  # noqa: E402
from webrtc.ladder.svg import render_svg  # noqa: E402
from webrtc.testing import Impairment, Network, SimTransport, Simulation, VirtualClock, wire  # noqa: E402
from webrtc.testing import Recorder as NetRecorder  # noqa: E402

OUT = ROOT / "docs" / "learn"
Address = tuple[str, int]
DELAY = Impairment(delay=0.010)  # 10 ms each way: arrows slope, so send and receive differ


class _Sampler:
    """A loop actor that samples the recorder's watched states after every step."""

    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def step(self, now: float) -> None:
        self.rec.sample()

    def next_time(self) -> float | None:
        return None


class _DroppingTransport(SimTransport):
    """Drops the datagrams `drop(data)` picks (at the sender: its trace still shows them)."""

    def __init__(
        self, net: Network, hosts: list[str], clock: VirtualClock, drop: Callable[[bytes], bool]
    ) -> None:
        super().__init__(net, hosts, clock)
        self.drop = drop

    def send(self, data: bytes, local: Address, remote: Address) -> None:
        if not self.drop(data):
            super().send(data, local, remote)


class _Sim(Simulation):
    """A simulation whose peers are traced into one `Recorder` and may drop datagrams."""

    def __init__(self, rec: Recorder, seed: int = 7) -> None:
        super().__init__(DELAY, seed=seed)
        self.rec = rec
        self.drops: dict[str, Callable[[bytes], bool]] = {}
        self.actors.append(_Sampler(rec))

    def transport(self, host: str) -> SimTransport:
        drop = self.drops.get(host)
        if drop is None:
            return SimTransport(self.net, [host], self.clock)
        return _DroppingTransport(self.net, [host], self.clock, drop)

    def traced_pair(self) -> tuple[WebRTCPeerConnection, WebRTCPeerConnection]:
        a = self.peer("10.0.0.1", 11, trace=self.rec.hook("A"), name="A")
        b = self.peer("10.0.0.2", 12, trace=self.rec.hook("B"), name="B")
        self.rec.attach("A", a, self.clock)
        self.rec.attach("B", b, self.clock)
        return a, b


def _open(
    sim: _Sim, a: WebRTCPeerConnection, b: WebRTCPeerConnection, label: str
) -> tuple[WebRTCDataChannel, WebRTCDataChannel]:
    got: list[WebRTCDataChannel] = []
    b.data_channel_received.connect(got.append)
    ch = a.create_data_channel(label)
    assert ch is not None
    sim.rec.watch_channel("A", ch)
    assert a.create_offer() == Error.OK
    ok = sim.run(lambda: ch.get_ready_state() == ChannelState.STATE_OPEN and bool(got), 30)
    assert ok, "the channel did not open"
    return ch, got[0]


def _message(
    sim: _Sim, ch: WebRTCDataChannel, remote: WebRTCDataChannel, text: bytes = b"hello"
) -> None:
    assert ch.put_packet(text) == Error.OK
    assert sim.run(lambda: remote.get_available_packet_count() > 0, 10)
    assert remote.get_packet() == text


# -- scenarios ------------------------------------------------------------------------------


def clean() -> Ladder:
    """A clean connection: ICE checks, DTLS handshake, SCTP association, DCEP, one message."""
    rec = Recorder()
    sim = _Sim(rec)
    a, b = sim.traced_pair()
    wire(a, b)
    ch, remote = _open(sim, a, b, "chat")
    _message(sim, ch, remote)
    sim.idle(0.05)  # the SACK
    return rec.ladder(title="A clean connection: one message from A to B")


def _is_flight2(data: bytes) -> bool:
    # RFC 6347 §4.2.4: flight 2 is the server's HelloVerifyRequest (record type 22, msg type 3)
    return len(data) > 13 and data[0] == 22 and data[3:5] == b"\0\0" and data[13] == 3


def dtls_loss() -> Ladder:
    """The DTLS handshake loses its second flight; the client's retransmission timer recovers."""
    rec = Recorder()
    sim = _Sim(rec)
    dropped: list[bytes] = []

    def drop_first_flight2(data: bytes) -> bool:
        if not dropped and _is_flight2(data):
            dropped.append(data)
            return True
        return False

    sim.drops["10.0.0.1"] = drop_first_flight2
    a, b = sim.traced_pair()
    wire(a, b)
    _open(sim, a, b, "chat")
    assert dropped, "no HelloVerifyRequest was sent"
    return rec.ladder(title="DTLS: flight 2 (HelloVerifyRequest) lost, flight 1 retransmitted")


def sctp_loss() -> Ladder:
    """Twenty 1000-byte messages; the third DATA is lost and fast-retransmitted."""
    rec = Recorder()
    sim = _Sim(rec)
    state = {"armed": False, "seen": 0, "dropped": 0}

    def drop_third(data: bytes) -> bool:
        if state["armed"] and data[:1] == b"\x17" and len(data) > 1000:
            state["seen"] += 1
            if state["seen"] == 3:
                state["dropped"] += 1
                return True
        return False

    sim.drops["10.0.0.1"] = drop_third
    a, b = sim.traced_pair()
    wire(a, b)
    ch, remote = _open(sim, a, b, "bulk")
    rec.clear()
    state["armed"] = True
    for _ in range(20):
        assert ch.put_packet(bytes(1000)) == Error.OK
    assert sim.run(lambda: remote.get_available_packet_count() == 20, 30)
    sim.idle(0.05)
    assert state["dropped"] == 1
    return rec.ladder(title="SCTP: DATA lost, three SACKs with a gap, fast retransmit")


def dcep_close() -> Ladder:
    """A second channel opened with DCEP, one message, then closed with a stream reset."""
    rec = Recorder()
    sim = _Sim(rec)
    a, b = sim.traced_pair()
    wire(a, b)
    _open(sim, a, b, "first")
    rec.clear()
    got: list[WebRTCDataChannel] = []
    b.data_channel_received.connect(got.append)
    ch = a.create_data_channel("notes", {"protocol": "text"})
    assert ch is not None
    rec.watch_channel("A", ch)
    assert sim.run(lambda: ch.get_ready_state() == ChannelState.STATE_OPEN and bool(got), 10)
    _message(sim, ch, got[0], b"note 1")
    ch.close()
    assert sim.run(lambda: got[0].get_ready_state() == ChannelState.STATE_CLOSED, 10)
    sim.idle(0.05)
    return rec.ladder(title="DCEP: channel 'notes' opened (OPEN/ACK), closed by a stream reset")


class TurnServer:
    """A small TURN server (RFC 8656) on the simulated network, as a loop actor.

    Long-term credentials (401 then authenticated requests), Allocate, Refresh,
    CreatePermission, ChannelBind, Send/Data indications and ChannelData; answers Binding
    requests (RFC 8489) too. Enough for the diagram; coturn is the real one (tests/interop).
    """

    REALM = "learn.example"

    def __init__(self, net: Network, address: Address, user: str, password: str) -> None:
        self.net, self.address = net, address
        self.key = stun.long_term_key(user, self.REALM, password)
        self.nonce = "f00dcafe"
        net.bind(address)
        self.relays: dict[Address, Address] = {}  # client -> relayed address
        self.clients: dict[Address, Address] = {}  # relayed address -> client
        self.permissions: dict[Address, set[str]] = {}  # relayed -> peer hosts
        self.channels: dict[Address, dict[int, Address]] = {}  # relayed -> number -> peer
        self._now = 0.0

    def next_time(self) -> float | None:
        return None

    def step(self, now: float) -> None:
        self._now = now
        for data, src in self.net.recv_all(self.address):
            self._from_client(data, src)
        for relayed, client in list(self.clients.items()):
            for data, src in self.net.recv_all(relayed):
                self._from_peer(relayed, client, data, src)

    def _send(self, data: bytes, src: Address, dst: Address) -> None:
        self.net.send(data, src, dst, self._now)

    def _from_client(self, data: bytes, src: Address) -> None:
        relayed = self.relays.get(src)
        if data and 64 <= data[0] <= 79:  # RFC 8656 §12.5: ChannelData
            try:
                number, payload = channeldata.decode_channel_data(data)
            except stun.StunError:
                return
            bound = self.channels.get(relayed, {}).get(number) if relayed else None
            if relayed is not None and bound is not None:
                self._send(payload, relayed, bound)
            return
        try:
            msg = stun.Message.parse(data)
        except stun.StunError:
            return
        if msg.method is stun.Method.SEND and msg.message_class is stun.Class.INDICATION:
            if relayed is not None:
                self._send_indication(msg, relayed)
        elif msg.message_class is stun.Class.REQUEST:
            self._request(msg, src)

    def _send_indication(self, msg: stun.Message, relayed: Address) -> None:
        peer = msg.attributes.get(stun.Attr.XOR_PEER_ADDRESS)
        payload = msg.attributes.get(stun.Attr.DATA)
        if not isinstance(peer, tuple) or not isinstance(payload, bytes):
            return
        if peer[0] in self.permissions.get(relayed, set()):  # RFC 8656 §11.2
            self._send(payload, relayed, (str(peer[0]), int(peer[1])))

    def _request(self, msg: stun.Message, src: Address) -> None:
        A = stun.Attr
        tid = msg.transaction_id
        if msg.method is stun.Method.BINDING:
            ok = stun.Message(
                stun.Method.BINDING, stun.Class.SUCCESS, tid, {A.XOR_MAPPED_ADDRESS: src}
            )
            self._send(ok.encode(), self.address, src)
            return
        if not msg.check_integrity(self.key):  # RFC 8489 §9.2.4: challenge
            challenge: dict[int, object] = {
                A.ERROR_CODE: (401, "Unauthorized"),
                A.REALM: self.REALM,
                A.NONCE: self.nonce,
            }
            err = stun.Message(msg.method, stun.Class.ERROR, tid, challenge)
            self._send(err.encode(), self.address, src)
            return
        attrs: dict[int, object] = {}
        relayed = self.relays.get(src)
        peer = msg.attributes.get(A.XOR_PEER_ADDRESS)
        number = msg.attributes.get(A.CHANNEL_NUMBER)
        if msg.method is stun.Method.ALLOCATE:
            if relayed is None:
                relayed = self.net.allocate(self.address[0])
                self.relays[src], self.clients[relayed] = relayed, src
                self.permissions[relayed], self.channels[relayed] = set(), {}
            attrs = {A.XOR_RELAYED_ADDRESS: relayed, A.XOR_MAPPED_ADDRESS: src, A.LIFETIME: 600}
        elif relayed is None:
            attrs = {A.ERROR_CODE: (437, "Allocation Mismatch")}
        elif msg.method is stun.Method.REFRESH:
            attrs = {A.LIFETIME: msg.attributes.get(A.LIFETIME, 600)}
        elif msg.method is stun.Method.CREATE_PERMISSION and isinstance(peer, tuple):
            self.permissions[relayed].add(str(peer[0]))
        elif msg.method is stun.Method.CHANNEL_BIND and isinstance(peer, tuple):
            bind_to = (str(peer[0]), int(peer[1]))
            if isinstance(number, int):
                self.channels[relayed][number] = bind_to
            self.permissions[relayed].add(bind_to[0])  # RFC 8656 §12.1: it installs one
        cls = stun.Class.ERROR if A.ERROR_CODE in attrs else stun.Class.SUCCESS
        reply = stun.Message(msg.method, cls, tid, attrs).encode(integrity_key=self.key)
        self._send(reply, self.address, src)

    def _from_peer(self, relayed: Address, client: Address, data: bytes, src: Address) -> None:
        if src[0] not in self.permissions.get(relayed, set()):
            return  # RFC 8656 §11.3: no permission, dropped
        for number, peer in self.channels.get(relayed, {}).items():
            if peer == src:
                self._send(channeldata.encode_channel_data(number, data), self.address, client)
                return
        A = stun.Attr
        tid = bytes(random.Random(len(data)).getrandbits(8) for _ in range(12))
        ind = stun.Message(
            stun.Method.DATA, stun.Class.INDICATION, tid, {A.XOR_PEER_ADDRESS: src, A.DATA: data}
        )
        self._send(ind.encode(fingerprint=False), self.address, client)


def turn() -> Ladder:
    """A connection relayed by a TURN server: only relayed candidates are signalled."""
    rec = Recorder()
    sim = _Sim(rec)
    server = TurnServer(sim.net, ("10.0.0.9", 3478), "learn", "secret")
    sim.actors.append(server)
    a, b = sim.traced_pair()
    config = {
        "iceServers": [
            {
                "urls": "turn:10.0.0.9:3478?transport=udp",
                "username": "learn",
                "credential": "secret",
            }
        ]
    }
    assert a.initialize(config) == Error.OK and b.initialize(config) == Error.OK
    for src, dst in ((a, b), (b, a)):

        def on_desc(
            t: str, s: str, src: WebRTCPeerConnection = src, dst: WebRTCPeerConnection = dst
        ) -> None:
            assert src.set_local_description(t, s) == Error.OK
            assert dst.set_remote_description(t, s) == Error.OK

        def on_cand(m: str, i: int, c: str, dst: WebRTCPeerConnection = dst) -> None:
            if " typ relay" in c:  # only relayed candidates reach the other side
                assert dst.add_ice_candidate(m, i, c) == Error.OK

        src.session_description_created.connect(on_desc)
        src.ice_candidate_created.connect(on_cand)
    ch, remote = _open(sim, a, b, "relayed")
    _message(sim, ch, remote, b"through the relay")
    sim.idle(0.05)
    return rec.ladder(title="Through TURN: A and B only know each other's relayed addresses")


def role_conflict() -> Ladder:
    """Two ICE agents that both start controlling (RFC 8445 §7.3.1.1): a 487 Role Conflict.

    Recorded by the kit's network `Recorder` (its JSON lines are `--trace-json` records), so
    this also shows a testing-kit recording drawn as a ladder.
    """
    from tests.ice.harness import Sim

    net = Network(DELAY, seed=3)
    sim = Sim(net)
    a = sim.add(
        "A", ice.Agent(controlling=True, tie_breaker=5, rng=random.Random(1)), [("10.0.0.1", 5000)]
    )
    b = sim.add(
        "B", ice.Agent(controlling=True, tie_breaker=7, rng=random.Random(2)), [("10.0.0.2", 6000)]
    )
    recorder = NetRecorder(net, names={"10.0.0.1": "A", "10.0.0.2": "B"})
    states: list[StateChange] = []
    roles = {"A": "", "B": ""}

    def watch(now: float) -> None:
        for p in (a, b):
            role = "controlling" if p.agent.controlling else "controlled"
            if roles[p.name] != role:
                roles[p.name] = role
                states.append(StateChange(p.name, now, "ICE role", role))
            state = p.agent.state.name
            if roles.get(p.name + "/state") != state:
                roles[p.name + "/state"] = state
                states.append(StateChange(p.name, now, "ICE", state))

    watch(0.0)
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10, on_step=watch)
    assert a.agent.controlling is False and b.agent.controlling is True
    import json

    lines = [json.dumps(r) for r in recorder.json_records()]
    obs, _, bad = parse_trace_records(lines)
    assert bad == 0
    return build_ladder(
        obs, states, title="ICE role conflict: both controlling, 487, A switches", peers=("A", "B")
    )


SCENARIOS: dict[str, Callable[[], Ladder]] = {
    "clean": clean,
    "turn": turn,
    "dtls_loss": dtls_loss,
    "sctp_fast_retransmit": sctp_loss,
    "dcep_open_close": dcep_close,
    "ice_role_conflict": role_conflict,
}


def generate() -> dict[str, str]:
    """file name -> SVG text, for every scenario."""
    return {f"{name}.svg": render_svg(make(), details=False) for name, make in SCENARIOS.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="directory (default docs/learn)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in generate().items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"{args.out / name}: {len(text)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
