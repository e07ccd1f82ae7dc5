"""Two headless Chromium pages do WebRTC through our signaling server; a Python host watches.

Run inside a private network namespace (tests/interop/netns.py), from the repo root:
``python -m tests.signaling.browser_scenario``. Exits 0 and prints a JSON summary on success.

The page is served by the signaling server itself (``--static``). Its JavaScript follows
Godot's demo client: JOIN, one RTCPeerConnection per PEER_CONNECT, offer only to lower ids,
candidates as ``"\\n{mid}\\n{index}\\n{candidate}"``. The Python ``SignalingClient`` creates the
mesh lobby (so it is the host, id 1), receives the browsers' offers and candidates, seals the
lobby, then leaves, which must close the browsers' sockets with 4000.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Any

from playwright.sync_api import sync_playwright

from tests.signaling import browser_kit
from webrtc.signaling.client import (
    CandidateReceived,
    Connected,
    Event,
    LobbyJoined,
    OfferReceived,
    PeerConnected,
    SignalingClient,
)
from webrtc.signaling.protocol import decode_candidate

STEP_TIMEOUT = 20.0

PAGE = r"""<!doctype html><html><head><meta charset="utf-8"><title>signaling interop</title>
<script>
const S = {id: 0, lobby: "", mesh: null, peers: [], pcs: {}, pending: {}, received: [],
           opened: [], sealed: false, closed: null, errors: [], chain: Promise.resolve()};
function send(type, id, data) { S.ws.send(JSON.stringify({type: type, id: id, data: data})); }
function pcFor(peer) {
  const pc = new RTCPeerConnection({iceServers: []});
  S.pcs[peer] = pc; S.pending[peer] = [];
  pc.onicecandidate = (e) => {
    if (e.candidate && e.candidate.candidate)
      send(6, peer, "\n" + e.candidate.sdpMid + "\n" + e.candidate.sdpMLineIndex + "\n" +
           e.candidate.candidate);
  };
  const ch = pc.createDataChannel("chat", {negotiated: true, id: 1});
  ch.onopen = () => { S.opened.push(peer); ch.send("hello from " + S.id); };
  ch.onmessage = (e) => S.received.push([peer, e.data]);
  return pc;
}
async function flush(peer) {
  for (const c of S.pending[peer]) await S.pcs[peer].addIceCandidate(c);
  S.pending[peer] = [];
}
async function handle(m) {
  switch (m.type) {
    case 0: S.lobby = m.data; break;
    case 1: S.id = m.id; S.mesh = m.data === "true"; break;
    case 2: {
      S.peers.push(m.id);
      const pc = pcFor(m.id);
      if (m.id < S.id) {  // the demo's rule: offer to lower ids (so the host never offers)
        await pc.setLocalDescription(await pc.createOffer());
        send(4, m.id, pc.localDescription.sdp);
      }
      break;
    }
    case 3: S.peers = S.peers.filter((p) => p !== m.id); break;
    case 4: {
      const pc = S.pcs[m.id];
      await pc.setRemoteDescription({type: "offer", sdp: m.data});
      await flush(m.id);
      await pc.setLocalDescription(await pc.createAnswer());
      send(5, m.id, pc.localDescription.sdp);
      break;
    }
    case 5:
      await S.pcs[m.id].setRemoteDescription({type: "answer", sdp: m.data});
      await flush(m.id);
      break;
    case 6: {
      const parts = m.data.split("\n").filter((x) => x);
      const c = {sdpMid: parts[0], sdpMLineIndex: parseInt(parts[1]), candidate: parts[2]};
      if (S.pcs[m.id].remoteDescription) await S.pcs[m.id].addIceCandidate(c);
      else S.pending[m.id].push(c);
      break;
    }
    case 7: S.sealed = true; break;
  }
}
function start(lobby) {
  S.ws = new WebSocket("ws://" + location.host + "/");
  S.ws.onopen = () => send(0, 0, lobby);
  S.ws.onclose = (e) => { S.closed = [e.code, e.reason]; };
  S.ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    S.chain = S.chain.then(() => handle(m)).catch((err) => S.errors.push(String(err)));
  };
}
</script></head><body><h1>signaling interop</h1></body></html>
"""


wait = functools.partial(browser_kit.wait, timeout=STEP_TIMEOUT)


def _lobby_known(page: Any) -> bool:
    return bool(page.evaluate("S.lobby"))


def main() -> int:
    events: list[Event] = []
    with browser_kit.serving(PAGE, "webrtc.signaling") as (ws_url, http_url):
        host = SignalingClient()
        try:

            def pump() -> None:
                events.extend(host.poll())

            host.connect(ws_url)
            wait("host connected", lambda: any(isinstance(e, Connected) for e in events), pump)
            assert host.join("", mesh=True)
            wait("host joined", lambda: any(isinstance(e, LobbyJoined) for e in events), pump)
            lobby = host.lobby
            assert host.peer_id == 1 and host.mesh

            with sync_playwright() as pw, browser_kit.chromium(pw) as browser:
                pages = [browser.new_page(), browser.new_page()]
                for page in pages:
                    page.goto(http_url)
                    page.evaluate("(lobby) => start(lobby)", lobby)
                    wait("browser joined", functools.partial(_lobby_known, page), pump)

                def state(page: Any) -> dict[str, Any]:
                    return dict(
                        page.evaluate(
                            "({id: S.id, lobby: S.lobby, mesh: S.mesh, peers: S.peers,"
                            " opened: S.opened, received: S.received, sealed: S.sealed,"
                            " closed: S.closed, errors: S.errors})"
                        )
                    )

                ids = [state(p)["id"] for p in pages]
                assert all(i >= 2 for i in ids) and ids[0] != ids[1], ids
                # Browser data channels open through candidates relayed by our server.
                wait(
                    "data channels open",
                    lambda: all(len(state(p)["received"]) >= 1 for p in pages),
                    pump,
                )
                a, b = (state(p) for p in pages)
                assert a["received"] == [[ids[1], f"hello from {ids[1]}"]], a
                assert b["received"] == [[ids[0], f"hello from {ids[0]}"]], b
                assert a["peers"] == [1, ids[1]] and b["peers"] == [1, ids[0]], (a, b)

                # The Python host saw both browsers and got their offers and candidates.
                def host_saw() -> bool:
                    offers = {e.peer_id for e in events if isinstance(e, OfferReceived)}
                    cands = {e.peer_id for e in events if isinstance(e, CandidateReceived)}
                    return offers == set(ids) and cands == set(ids)

                wait("offers and candidates at the host", host_saw, pump)
                assert {e.peer_id for e in events if isinstance(e, PeerConnected)} == set(ids)
                for e in events:
                    if isinstance(e, OfferReceived):
                        assert e.sdp.startswith("v=0"), e.sdp[:40]
                    if isinstance(e, CandidateReceived):
                        assert e.candidate.startswith("candidate:"), e
                        assert decode_candidate(f"\n{e.mid}\n{e.index}\n{e.candidate}")

                assert host.seal()
                wait("browsers sealed", lambda: all(state(p)["sealed"] for p in pages), pump)
                host.close()
                wait(
                    "browsers closed by host leaving",
                    lambda: all(state(p)["closed"] for p in pages),
                    pump,
                )
                finals = [state(p) for p in pages]
                for s in finals:
                    assert s["closed"] == [4000, "Room host has disconnected"], s
                    assert s["errors"] == [], s["errors"]
                n_cands = sum(isinstance(e, CandidateReceived) for e in events)
                print(
                    json.dumps(
                        {
                            "browser_ids": ids,
                            "lobby": lobby,
                            "candidates_at_host": n_cands,
                            "ok": True,
                        }
                    )
                )
        finally:
            host.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
