"""Harness self-test: Chromium <-> aiortc through ChromiumPeer and AiortcPeer.

Run inside a private namespace (see test_harness.py):
    python tests/interop/harness_scenario.py chromium|aiortc mdns|raw [screenshot.png]
    python tests/interop/harness_scenario.py candidates
The first argument names the offerer. Prints one JSON object on the last stdout line.

Flow: the offerer creates "chat", offers; the answerer answers; Chromium's trickled candidates
are forwarded by the pump (aiortc's are in its SDP) and end-of-candidates is sent once Chromium
finished gathering. The answerer then opens "back" in-band. Each side's remote channels echo, so
text and binary sent on "chat" (by the offerer) and "back" (by the answerer) come back unchanged.
A negotiated channel "neg" (same id on both sides, no DCEP) is echoed through enable_echo().
Finally the offerer closes "chat" and both sides must see it closed.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from tests.interop.aiortc_peer import AiortcPeer
from tests.interop.chromium_peer import ChromiumPeer

PAYLOADS: list[str | bytes] = [
    "hello from the harness \u2603",
    bytes(range(256)),
    "",
    bytes(50_000),
    "x" * 20_000,
]
NEGOTIATED_ID = 20


def run(offerer: str, mode: str, screenshot: str | None) -> dict[str, Any]:
    t0 = time.monotonic()
    marks: dict[str, float] = {}

    def mark(name: str) -> None:
        marks[name] = round(time.monotonic() - t0, 3)

    with (
        ChromiumPeer(mdns=(mode == "mdns"), auto_echo=True) as chrome,
        AiortcPeer(auto_echo=True) as aio,
    ):
        mark("started")
        forwarded: list[tuple[str, int, str]] = []

        def pump() -> None:
            # Trickle both ways: Chromium's candidates as they come (then end-of-candidates)
            # to aiortc; aiortc's (already in its SDP) to Chromium, as a trickle peer would.
            for cand in chrome.new_candidates():
                aio.add_candidate(*cand)
                forwarded.append(cand)
            if chrome.remote_description_set():
                for cand in aio.new_candidates():
                    chrome.add_candidate(*cand)

        first: ChromiumPeer | AiortcPeer
        second: ChromiumPeer | AiortcPeer
        first, second = (chrome, aio) if offerer == "chromium" else (aio, chrome)
        first.create_channel("chat", {"ordered": True})
        # Negotiated out of band (no DCEP): created on both sides with the same id.
        for peer in (first, second):
            peer.create_channel("neg", {"negotiated": True, "id": NEGOTIATED_ID})
        second.enable_echo("neg")
        offer = first.create_offer()
        answer = second.accept_offer(offer)
        first.set_answer(answer)
        mark("signaled")

        first.wait_channel_open("chat", 20, pump)
        second.wait_remote_channel("chat", 10, pump)
        second.wait_channel_open("chat", 10, pump)
        mark("chat_open")
        chrome.wait_connection_state("connected", 10, pump)
        aio.wait_connection_state("connected", 10, pump)

        second.create_channel("back", {"ordered": False, "maxRetransmits": 3, "protocol": "p"})
        second.wait_channel_open("back", 10, pump)
        first.wait_remote_channel("back", 10, pump)
        mark("back_open")

        for payload in PAYLOADS:
            first.send("chat", payload)
            second.send("back", payload)
        chat_echo = first.wait_messages("chat", len(PAYLOADS), 15, pump)
        back_echo = second.wait_messages("back", len(PAYLOADS), 15, pump)
        mark("echoed")

        first.wait_channel_open("neg", 10, pump)
        second.wait_channel_open("neg", 10, pump)
        first.send("neg", "n1")
        first.send("neg", b"n2")
        neg_echo = first.wait_messages("neg", 2, 10, pump)

        first.close_channel("chat")
        first.wait_channel_state("chat", "closed", 10, pump)
        second.wait_channel_state("chat", "closed", 10, pump)
        mark("chat_closed")

        if screenshot:
            chrome.screenshot(screenshot)
        return {
            "offerer": offerer,
            "mode": mode,
            "chat_echo_ok": chat_echo == PAYLOADS,
            "back_echo_ok": back_echo == PAYLOADS,
            "neg_echo_ok": neg_echo == ["n1", b"n2"],
            "neg_info": [first.channel_info("neg"), second.channel_info("neg")],
            "chat_echo_types": [type(m).__name__ for m in chat_echo],
            "received_by_answerer": [type(m).__name__ for m in second.messages("chat")],
            "chromium_state": chrome.connection_state(),
            "aiortc_state": aio.connection_state(),
            "chat_states": [first.channel_state("chat"), second.channel_state("chat")],
            "back_info": [first.channel_info("back"), second.channel_info("back")],
            "chromium_remote_channels": chrome.remote_channels(),
            "aiortc_remote_channels": aio.remote_channels(),
            "chromium_candidates": [c for _, _, c in chrome.local_candidates()],
            "forwarded_to_aiortc": forwarded,
            "aiortc_candidates": [c for _, _, c in aio.local_candidates()],
            "chromium_offer_or_answer_has_candidates": "a=candidate"
            in (chrome.local_description() or ""),
            "chromium_selected_pair": chrome.selected_pair(),
            "aiortc_selected_pair": aio.selected_pair(),
            "aiortc_errors": aio.errors(),
            "marks": marks,
            "chromium_log": chrome.log(),
            "aiortc_log": aio.log(),
        }


def candidates() -> dict[str, list[str]]:
    """Chromium's gathered candidates under each flag combination (no remote peer)."""
    variants: dict[str, dict[str, Any]] = {
        "default": {},
        "raw": {"mdns": False},
        "loopback_media": {"allow_loopback": True, "media_permission": True},
    }
    out: dict[str, list[str]] = {}
    for name, kw in variants.items():
        with ChromiumPeer(**kw) as chrome:
            chrome.create_channel("probe")
            chrome.create_offer(wait_gathering=True, timeout=10)
            out[name] = [c for _, _, c in chrome.local_candidates()]
    return out


def main() -> None:
    if sys.argv[1] == "candidates":
        print(json.dumps(candidates()))
        return
    offerer, mode = sys.argv[1], sys.argv[2]
    screenshot = sys.argv[3] if len(sys.argv) > 3 else None
    result = run(offerer, mode, screenshot)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
