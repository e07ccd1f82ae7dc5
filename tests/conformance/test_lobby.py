"""The lobby peer kind: the runner waits in a lobby of our signaling server and tests whatever
program joins. Here the "program" is a small app on our own stack in another thread (it knows
nothing of the runner): it joins, offers to the host as the Godot demo does, and joins again
once its connection ends. Loopback only."""

from __future__ import annotations

import asyncio
import random
import threading
import time

from webrtc import WebRTCPeerConnection
from webrtc.conformance.context import RunOptions
from webrtc.conformance.model import Verdict
from webrtc.conformance.peers.base import PeerUnavailable
from webrtc.conformance.peers.lobby import Lobby, LobbyPeer
from webrtc.conformance.runner import run_catalog
from webrtc.conformance.scenarios import LOBBY_DEFAULT, by_id
from webrtc.signaling.client import (
    AnswerReceived,
    CandidateReceived,
    Connected,
    Disconnected,
    PeerConnected,
    SignalingClient,
)
from webrtc.signaling.server import SignalingServer
from webrtc.states import ConnectionState

GUARD = 10.0


class ServerThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = SignalingServer("127.0.0.1", 0, rng=random.Random(5), join_timeout=60.0)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(GUARD)
        self.url = self.server.url

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(GUARD)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(GUARD)
        self.loop.close()


class UsersProgram(threading.Thread):
    """Joins `lobby` and offers to the host; joins again when its connection ends."""

    def __init__(self, url: str, lobby: str) -> None:
        super().__init__(daemon=True)
        self.url, self.lobby = url, lobby
        self.stop = threading.Event()
        self.joins = 0
        self.connected = 0

    def run(self) -> None:
        while not self.stop.is_set() and self.joins < 12:
            self.joins += 1
            self.once()

    def once(self) -> None:
        client = SignalingClient()
        client.connect(self.url)
        pc = WebRTCPeerConnection(loopback_only=True)
        pc.initialize({"iceServers": []})
        pc.create_data_channel("app", {})
        pc.session_description_created.connect(
            lambda t, sdp: (pc.set_local_description(t, sdp), client.send_offer(1, sdp))
        )
        pc.ice_candidate_created.connect(lambda m, i, c: client.send_candidate(1, m, i, c))
        answered, was_connected = 0.0, False
        deadline = time.monotonic() + 30
        try:
            while not self.stop.is_set() and time.monotonic() < deadline:
                for ev in client.poll():
                    if isinstance(ev, Connected):
                        client.join(self.lobby)
                    elif isinstance(ev, PeerConnected) and ev.peer_id == 1:
                        pc.create_offer()  # the higher id offers (Godot demo)
                        answered = time.monotonic()
                    elif isinstance(ev, AnswerReceived):
                        pc.set_remote_description("answer", ev.sdp)
                    elif isinstance(ev, CandidateReceived):
                        pc.add_ice_candidate(ev.mid, ev.index, ev.candidate)
                    elif isinstance(ev, Disconnected):
                        return
                pc.poll()
                state = pc.get_connection_state()
                if state == ConnectionState.STATE_CONNECTED and not was_connected:
                    was_connected = True
                    self.connected += 1
                if was_connected and state != ConnectionState.STATE_CONNECTED:
                    return  # the runner closed its side: join again
                waited = time.monotonic() - answered
                if answered and not was_connected and waited > 1.5 and pc.get_signaling_state():
                    return  # never answered: join again
                time.sleep(0.002)
        finally:
            pc.close()
            client.close()


def test_runner_tests_a_program_that_joins_its_lobby() -> None:
    server = ServerThread()
    lobby = Lobby(server.url, "", wait=20.0)  # we create it: we are its host (id 1)
    program = UsersProgram(server.url, lobby.name)
    try:
        program.start()
        scenarios = by_id([*LOBBY_DEFAULT, "dcep.stream-id-parity", "sdp.answer.parses"])
        results = run_catalog(
            scenarios, "lobby", lambda: LobbyPeer(lobby), RunOptions(seed=2), progress=None
        )
        verdicts = {r.scenario: r.verdict for r in results}
        for name in LOBBY_DEFAULT:
            assert verdicts[name] is Verdict.PASS, next(r for r in results if r.scenario == name)
        # what the program cannot be asked to do is not applicable, not a failure
        assert verdicts["dcep.stream-id-parity"] is Verdict.NOT_APPLICABLE
        assert verdicts["sdp.answer.parses"] is Verdict.NOT_APPLICABLE
        assert program.connected >= 2  # the replay and consent scenarios connected for real
    finally:
        program.stop.set()
        program.join(GUARD)
        lobby.close()
        server.stop()


def test_nobody_joining_makes_the_column_unavailable() -> None:
    server = ServerThread()
    lobby = Lobby(server.url, "", wait=0.5)
    try:
        results = run_catalog(
            by_id(LOBBY_DEFAULT), "lobby", lambda: LobbyPeer(lobby), RunOptions(), progress=None
        )
        assert {r.verdict for r in results} == {Verdict.UNAVAILABLE}
        assert "nobody joined" in results[0].observed
    finally:
        lobby.close()
        server.stop()


def test_no_server_is_unavailable() -> None:
    try:
        Lobby("ws://127.0.0.1:9", "", wait=0.5)
    except PeerUnavailable as exc:
        assert "no lobby" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a lobby without a server")
