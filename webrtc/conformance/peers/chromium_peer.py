"""Headless Chromium as a peer under test: an RTCPeerConnection in a page driven by Playwright.

Debian's `/usr/bin/chromium` is used (never Playwright's browser download). One browser serves a
whole run (`ChromiumBrowser`); each peer is a fresh page with one RTCPeerConnection
(`iceServers: []`). The page is served by Playwright's router at http://127.0.0.1/ (no socket).
Chromium gathers every interface and tries to reach Google servers, so the command line runs it
inside a private network namespace. Its host candidates are mDNS names (`<uuid>.local`), so the
proxy learns its address from its first datagram. Playwright is imported lazily (a test extra).
"""

from __future__ import annotations

import base64
import os
from typing import Any

from .base import ChannelView, PeerUnavailable

__all__ = ["ChromiumBrowser", "ChromiumPeer"]

CHROMIUM = "/usr/bin/chromium"
PAGE_URL = "http://127.0.0.1/webrtc-conformance.html"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
_PAGE = "<!doctype html><meta charset='utf-8'><title>webrtc conformance peer</title>"
MAX_MESSAGES = 10_000
_JS = r"""
() => {
  const H = {pc: null, ch: {}, msgs: {}, remote: {}, cands: [], errors: []};
  const enc = (buf) => {
    const u = new Uint8Array(buf); let s = '';
    for (let i = 0; i < u.length; i += 0x8000)
      s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000));
    return btoa(s);
  };
  H.dec = (s) => {
    const b = atob(s); const u = new Uint8Array(b.length);
    for (let i = 0; i < b.length; i++) u[i] = b.charCodeAt(i);
    return u;
  };
  H.wire = (c, remote) => {
    c.binaryType = 'arraybuffer';
    H.ch[c.label] = c; H.remote[c.label] = remote;
    if (!H.msgs[c.label]) H.msgs[c.label] = [];
    c.onerror = (e) => { if (H.errors.length < 100) H.errors.push(String(e.error)); };
    c.onmessage = (e) => {
      if (H.msgs[c.label].length >= %d) return;
      H.msgs[c.label].push(typeof e.data === 'string' ? ['t', e.data] : ['b', enc(e.data)]);
    };
  };
  H.pc = new RTCPeerConnection({iceServers: []});
  H.pc.onicecandidate = (e) => {
    if (e.candidate && e.candidate.candidate) H.cands.push(e.candidate.candidate);
  };
  H.pc.ondatachannel = (e) => H.wire(e.channel, true);
  H.views = () => Object.values(H.ch).map((c) => [c.label, c.id, c.protocol, c.ordered,
    c.maxRetransmits, c.maxPacketLifeTime, c.readyState, H.remote[c.label]]);
  window.H = H;
}
""".replace("%d", str(MAX_MESSAGES))


class ChromiumBrowser:
    """One headless Chromium for a run; `page()` opens a fresh page for each peer."""

    def __init__(self, executable: str = CHROMIUM) -> None:
        if not os.path.exists(executable):
            raise PeerUnavailable(f"{executable} is not installed")
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise PeerUnavailable(f"playwright is not installed ({exc})") from None
        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(
                executable_path=executable, headless=True, args=list(FLAGS)
            )
        except Exception as exc:
            self._pw.stop()
            raise PeerUnavailable(f"chromium does not start: {exc}") from None

    def page(self) -> Any:
        page = self._browser.new_page()
        page.set_default_timeout(15_000)
        page.route(
            PAGE_URL, lambda route: route.fulfill(status=200, content_type="text/html", body=_PAGE)
        )
        page.goto(PAGE_URL)
        page.evaluate(_JS)
        return page

    def close(self) -> None:
        try:
            self._browser.close()
        finally:
            self._pw.stop()


class ChromiumPeer:
    """One page's RTCPeerConnection behind the adapter interface (peers/base.py)."""

    kind = "chromium"

    def __init__(self, browser: ChromiumBrowser, host: str) -> None:
        self.host = host
        self._page = browser.page()
        self._taken = 0
        self.closed = False

    def _eval(self, js: str, arg: Any = None) -> Any:
        if self.closed:
            raise RuntimeError("the chromium peer was closed")
        return self._page.evaluate(js, arg)

    def create_channel(self, label: str, options: dict[str, Any] | None = None) -> None:
        self._eval(
            "([l, o]) => H.wire(H.pc.createDataChannel(l, o), false)", [label, options or {}]
        )

    def create_offer(self) -> str:
        return str(
            self._eval(
                "async () => { await H.pc.setLocalDescription(await H.pc.createOffer()); "
                "return H.pc.localDescription.sdp; }"
            )
        )

    def accept_offer(self, sdp: str) -> str:
        return str(
            self._eval(
                "async (s) => { await H.pc.setRemoteDescription({type: 'offer', sdp: s}); "
                "await H.pc.setLocalDescription(await H.pc.createAnswer()); "
                "return H.pc.localDescription.sdp; }",
                sdp,
            )
        )

    def set_answer(self, sdp: str) -> None:
        self._eval("async (s) => H.pc.setRemoteDescription({type: 'answer', sdp: s})", sdp)

    def add_candidate(self, mid: str, index: int, candidate: str) -> None:
        self._eval(
            "async ([m, i, c]) => H.pc.addIceCandidate({candidate: c, sdpMid: m, "
            "sdpMLineIndex: i})",
            [mid, index, candidate.removeprefix("a=")],
        )

    def take_candidates(self) -> list[str]:
        if self.closed:
            return []
        new = [str(c) for c in self._eval("(n) => H.cands.slice(n)", self._taken)]
        self._taken += len(new)
        return new

    def pump(self) -> None:
        pass

    def connection_state(self) -> str:
        return "closed" if self.closed else str(self._eval("() => H.pc.connectionState"))

    def channels(self) -> list[ChannelView]:
        return [
            ChannelView(str(label), cid, str(protocol), bool(ordered), mr, ml, str(state), bool(r))
            for label, cid, protocol, ordered, mr, ml, state, r in self._eval("() => H.views()")
        ]

    def send(self, label: str, data: str | bytes) -> None:
        if isinstance(data, str):
            self._eval("([l, d]) => H.ch[l].send(d)", [label, data])
        else:
            self._eval(
                "([l, d]) => H.ch[l].send(H.dec(d))", [label, base64.b64encode(data).decode()]
            )

    def messages(self, label: str) -> list[str | bytes]:
        got = self._eval("(l) => H.msgs[l] || []", label)
        return [m[1] if m[0] == "t" else base64.b64decode(m[1]) for m in got]

    def close_channel(self, label: str) -> None:
        self._eval("(l) => H.ch[l].close()", label)

    def errors(self) -> list[str]:
        return [str(e) for e in self._eval("() => H.errors")]

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._eval("() => H.pc.close()")
            self._page.close()
        except Exception:  # the page may already be gone
            pass
        self.closed = True
