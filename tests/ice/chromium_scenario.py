"""Our ICE agent against headless Chromium's ICE agent over real UDP. Runs INSIDE a private netns.

Usage: python -m tests.ice.chromium_scenario ADDRESS [ADDRESS...]
Only ICE is exercised (no DTLS): our SDP carries a random fingerprint, so Chromium's
iceConnectionState is what shows the ICE result. Prints one JSON list of per-scenario results.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from typing import Any

import ice
import sdp
from tests.ice.udp_driver import UdpPeer
from tests.interop.chromium_peer import ChromiumPeer

_TEMPLATE = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
    "{candidates}a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 {fingerprint}\r\na=setup:{setup}\r\na=mid:0\r\n"
    "a=sctp-port:5000\r\na=max-message-size:262144\r\n"
)


def _description(agent: ice.Agent, cands: list[sdp.Candidate], setup: str) -> str:
    fingerprint = ":".join(f"{b:02X}" for b in os.urandom(32))
    lines = "".join(f"a={c}\r\n" for c in cands) + "a=end-of-candidates\r\n"
    return _TEMPLATE.format(
        candidates=lines,
        ufrag=agent.local_ufrag,
        pwd=agent.local_pwd,
        fingerprint=fingerprint,
        setup=setup,
    )


def _credentials(text: str) -> tuple[str, str]:
    desc = sdp.parse(text)
    media = desc.media[0]
    ufrag, pwd = desc.ice_ufrag_for(media), desc.ice_pwd_for(media)
    assert ufrag is not None and pwd is not None
    return ufrag, pwd


def scenario(addresses: list[str], we_control: bool, mdns: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"we_control": we_control, "mdns": mdns}
    peer = UdpPeer(ice.Agent(controlling=we_control, rng=random.Random(7)), addresses)
    agent = peer.agent

    def pump() -> None:
        now = time.monotonic()
        peer.read(now)
        t = agent.next_timeout()
        if t is not None and t <= now:
            agent.handle_timeout(now)
        peer.flush()

    with ChromiumPeer(mdns=mdns) as chrome:
        chrome.create_channel("ice")
        agent.gather(list(peer.sockets), time.monotonic())
        peer.flush()
        ours = [e.candidate for e in peer.events if isinstance(e, ice.CandidateGathered)]
        if we_control:
            answer = chrome.accept_offer(_description(agent, ours, "actpass"))
            agent.set_remote_credentials(*_credentials(answer))
        else:
            offer = chrome.create_offer()
            agent.set_remote_credentials(*_credentials(offer))
            chrome.set_answer(_description(agent, ours, "active"))
        signalled: list[str] = []

        def forward() -> None:
            pump()
            for _, _, text in chrome.new_candidates():
                if text:
                    signalled.append(text)
                    agent.add_remote_candidate(sdp.Candidate.parse(text))
                else:
                    agent.add_remote_candidate(None)

        def connected() -> bool:
            return agent.state in (
                ice.IceState.CONNECTED,
                ice.IceState.COMPLETED,
            ) and chrome.ice_connection_state() in ("connected", "completed")

        try:
            chrome.wait_until(connected, 15, forward, "ICE connected")
            # both sides stay up while checks and consent continue
            end = time.monotonic() + 1.5
            while time.monotonic() < end:
                forward()
                time.sleep(0.005)
            result["connected"] = connected()
        except TimeoutError as exc:
            result["error"] = str(exc)[:2000]
            result["connected"] = False
        result["chrome_ice_state"] = chrome.ice_connection_state()
        result["chrome_pair"] = chrome.selected_pair()
        sel = agent.selected_pair
        result["selected"] = (
            None
            if sel is None
            else {
                "local": list(sel.local.base),
                "remote": list(sel.remote_address),
                "remote_type": sel.remote.type,
                "nominated": sel.nominated,
            }
        )
        result["chrome_candidates"] = signalled
        result["our_role_final"] = agent.controlling
        result["states"] = [e.state.value for e in peer.events if isinstance(e, ice.StateChanged)]
        result["stats"] = dict(agent.stats)
    peer.close()
    return result


def main(addresses: list[str]) -> None:
    results = [
        scenario(addresses, we_control=False, mdns=True),
        scenario(addresses, we_control=True, mdns=True),
        scenario(addresses, we_control=False, mdns=False),
    ]
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1:])
