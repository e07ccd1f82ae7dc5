"""initialize() with STUN/TURN servers against a real coturn on 127.0.0.1: relayed candidates are
gathered and trickled, and two peers that only learn each other's relayed candidates connect
(on loopback the checks may then find a direct peer-reflexive path: the selected pair varies)."""

from __future__ import annotations

import pytest

from tests.interop.coturn import coturn_server
from tests.webrtc.test_udp_loopback import run
from webrtc import ChannelState, Error, WebRTCDataChannel, WebRTCPeerConnection

pytestmark = pytest.mark.interop


def test_relay_candidates_and_relayed_connection() -> None:
    with coturn_server() as server:
        host, port = server.address
        config = {
            "x-loopback-only": True,
            "iceServers": [
                {"urls": [f"stun:{host}:{port}"]},
                {
                    "urls": f"turn:{host}:{port}?transport=udp",
                    "username": server.username,
                    "credential": server.password,
                },
            ],
        }
        a, b = WebRTCPeerConnection(), WebRTCPeerConnection()
        assert a.initialize(config) == Error.OK and b.initialize(config) == Error.OK
        seen: dict[str, list[str]] = {"a": [], "b": []}
        received: list[WebRTCDataChannel] = []
        b.data_channel_received.connect(received.append)
        for name, src, dst in (("a", a, b), ("b", b, a)):

            def on_desc(
                t: str, s: str, src: WebRTCPeerConnection = src, dst: WebRTCPeerConnection = dst
            ) -> None:
                assert src.set_local_description(t, s) == Error.OK
                assert dst.set_remote_description(t, s) == Error.OK

            def on_cand(
                m: str, i: int, c: str, name: str = name, dst: WebRTCPeerConnection = dst
            ) -> None:
                seen[name].append(c)
                if " typ relay" in c:  # only relayed candidates reach the other side
                    assert dst.add_ice_candidate(m, i, c) == Error.OK

            src.session_description_created.connect(on_desc)
            src.ice_candidate_created.connect(on_cand)
        ch = a.create_data_channel("relayed")
        assert ch is not None
        assert a.create_offer() == Error.OK
        assert run(
            [a, b],
            lambda: ch.get_ready_state() == ChannelState.STATE_OPEN and bool(received),
            rounds=400_000,
        ), (seen, server.log()[-3000:])
        for name in ("a", "b"):
            assert any(" typ relay" in c for c in seen[name]), seen
            assert any(" typ host" in c for c in seen[name]), seen
        assert ch.put_packet(b"through the relay") == Error.OK
        assert run([a, b], lambda: received[0].get_available_packet_count() == 1)
        assert received[0].get_packet() == b"through the relay"
        a.close()
        b.close()
