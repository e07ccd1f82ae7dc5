"""Headless Chromium as a synchronous WebRTC data-channel test peer.

Run it only inside a private network namespace (tests/interop/netns.py): Chromium gathers every
interface and tries to reach Google servers. Typical use from a scenario script::

    with ChromiumPeer(mdns=True, auto_echo=True) as chrome:
        chrome.create_channel("chat", {"ordered": True})
        offer = chrome.create_offer()                 # trickle: no candidates in the SDP yet
        ours.set_remote_description("offer", offer)   # ... our poll()-driven peer
        chrome.set_answer(answer_sdp)
        for mid, index, cand in chrome.local_candidates():   # forward trickled candidates
            ours.add_ice_candidate(mid, index, cand)
        chrome.wait_channel_open("chat", timeout=10, pump=ours.poll)
        chrome.send("chat", "hi"); chrome.send("chat", b"\\x00\\x01")
        chrome.wait_messages("chat", 2, timeout=5, pump=ours.poll)
        chrome.messages("chat")                       # ["...", b"..."]: str = text, bytes = binary

Every waiting method polls Chromium every few milliseconds until its bounded `timeout` and calls
`pump()` (if given) between polls, so a poll()-driven peer in the same thread keeps running.
Waits raise `TimeoutError` with the page's event log. Channels are addressed by label (the last
channel opened with a label wins). Candidate forms: mDNS host names (`<uuid>.local`) by default;
`mdns=False` passes `--disable-features=WebRtcHideLocalIpsWithMdns` and Chromium signals raw IPs.

Quirks seen here (Chromium 156, Playwright 1.65, inside tests/interop/netns.py's namespace):
- Start-up takes ~0.7-1.5 s; gathering completes ~20-50 ms after setLocalDescription with one
  UDP host candidate on `va` (none on `lo`, none on `vb`): `<uuid>.local` by default, which
  aioice cannot resolve here (1 s mDNS timeout, candidate dropped): the other side must accept
  Chromium as peer-reflexive from its connectivity checks.
- Its UDP socket is bound to the wildcard address: a check sent to a 10.x.0.2 candidate leaves
  with source 10.x.0.2 (same port), not the signaled 10.x.0.1, so even with `mdns=False` the
  remote often learns a peer-reflexive address.
- To reach a peer whose only candidates are 127.0.0.1, pass `allow_loopback=True`. With
  `allow_loopback=True, media_permission=True` it signals raw candidates on every interface incl.
  `127.0.0.1`, and also TCP `tcptype active` candidates with port 9: parsers must tolerate them.
- addIceCandidate before setRemoteDescription fails (InvalidStateError): check
  remote_description_set() before forwarding. Duplicate candidates and a second end-of-candidates
  are accepted silently.
- The page is served by Playwright's router at http://127.0.0.1/ (a secure context; about:blank
  is not and has no navigator.mediaDevices). No socket is opened for it.
"""

from __future__ import annotations

import base64
import shutil
import tempfile
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from tests.interop.waits import PeerWaits, Pump
from webrtc.conformance.peers.chromium_peer import CHROMIUM, FLAGS

PAGE_URL = "http://127.0.0.1/webrtc-harness.html"

# shared/interop/README.md: keeps Chromium from calling home (the namespace blocks the rest).
BASE_FLAGS = FLAGS


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>webrtc-harness</title>
<style>body{font:13px monospace;margin:8px}h1{font-size:15px}</style></head>
<body><h1>Chromium WebRTC test peer</h1><pre id="log"></pre></body></html>"""

_JS = r"""
() => {
  const H = {pc: null, ch: {}, msgs: {}, echo: {}, remote: [], cands: [], log: [],
             autoEcho: false, errors: [], end: null};
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
  H.note = (s) => {
    const line = ((performance.now() / 1000).toFixed(3)) + ' ' + s;
    H.log.push(line);
    const el = document.getElementById('log');
    if (el) el.textContent += line + '\n';
  };
  H.get = (l) => {
    const c = H.ch[l];
    if (!c) throw new Error(`no channel labelled "${l}"`);
    return c;
  };
  H.pair = async () => {
    const stats = await H.pc.getStats();
    let pair = null;
    stats.forEach((r) => {
      if (r.type === 'transport' && r.selectedCandidatePairId)
        pair = stats.get(r.selectedCandidatePairId);
    });
    if (!pair) return null;
    const side = (id) => {
      const c = stats.get(id);
      return c ? {type: c.candidateType, address: c.address, port: c.port,
                  protocol: c.protocol} : null;
    };
    return {local: side(pair.localCandidateId), remote: side(pair.remoteCandidateId),
            nominated: pair.nominated, state: pair.state};
  };
  H.wire = (c) => {
    c.binaryType = 'arraybuffer';
    H.ch[c.label] = c;
    if (!H.msgs[c.label]) H.msgs[c.label] = [];
    c.onopen = () => H.note(`channel "${c.label}" open id=${c.id}`);
    c.onclose = () => H.note(`channel "${c.label}" closed`);
    c.onerror = (e) => {
      H.errors.push(String(e.error));
      H.note(`channel "${c.label}" error ${e.error}`);
    };
    c.onmessage = (e) => {
      const text = typeof e.data === 'string';
      H.msgs[c.label].push(text ? ['t', e.data] : ['b', enc(e.data)]);
      if (H.echo[c.label] && c.readyState === 'open') c.send(e.data);
    };
  };
  H.init = (config, autoEcho) => {
    H.autoEcho = autoEcho;
    const pc = new RTCPeerConnection(config);
    H.pc = pc;
    pc.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate) {
        H.cands.push([e.candidate.sdpMid, e.candidate.sdpMLineIndex, e.candidate.candidate]);
        H.note('local ' + e.candidate.candidate);
      } else if (!e.candidate) {
        const m = /a=mid:(\S+)/.exec(pc.localDescription ? pc.localDescription.sdp : '');
        H.end = [m ? m[1] : '0', 0, ''];
        H.note('gathering complete');
      }
    };
    pc.ondatachannel = (e) => {
      const c = e.channel;
      H.remote.push(c.label);
      if (H.autoEcho) H.echo[c.label] = true;
      H.wire(c);
      H.note(`remote channel "${c.label}" id=${c.id} proto="${c.protocol}"`);
    };
    pc.onconnectionstatechange = () => H.note('connection ' + pc.connectionState);
    pc.oniceconnectionstatechange = () => H.note('ice ' + pc.iceConnectionState);
  };
  window.H = H;
}
"""


def _decode(messages: list[list[str]]) -> list[str | bytes]:
    return [m[1] if m[0] == "t" else base64.b64decode(m[1]) for m in messages]


class ChromiumPeer(PeerWaits):
    """One headless Chromium with one in-page RTCPeerConnection, driven synchronously."""

    def __init__(
        self,
        *,
        mdns: bool = True,
        allow_loopback: bool = False,
        media_permission: bool = False,
        auto_echo: bool = False,
        ice_servers: list[dict[str, Any]] | None = None,
        extra_args: Sequence[str] = (),
        disable_features: Sequence[str] = (),
        executable: str = CHROMIUM,
        poll_interval: float = 0.005,
    ) -> None:
        """mdns=False: raw IP host candidates. allow_loopback: `--allow-loopback-in-peer-
        connection`. media_permission: fake media + a getUserMedia call (Chromium then signals
        real IPs, incl. 127.0.0.1 with allow_loopback). auto_echo: echo on remote channels."""
        features = list(disable_features)
        if not mdns:
            features.append("WebRtcHideLocalIpsWithMdns")
        args = list(BASE_FLAGS)
        if allow_loopback:
            args.append("--allow-loopback-in-peer-connection")
        if media_permission:
            args += ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
        if features:
            # Only the last --disable-features flag counts: one comma-separated flag.
            args.append("--disable-features=" + ",".join(features))
        args += list(extra_args)
        self.args = args
        self.executable = executable
        self.media_permission = media_permission
        self.auto_echo = auto_echo
        self.config: dict[str, Any] = {"iceServers": ice_servers or []}
        self.poll_interval = poll_interval
        self.wait_interval = poll_interval
        self.peer_name = "chromium"
        self._pw: Any = None
        self._context: Any = None
        self._page: Any = None
        self._profile: str | None = None
        self._cursor = 0
        self._end_taken = False

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> ChromiumPeer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        from playwright.sync_api import sync_playwright

        self._profile = tempfile.mkdtemp(prefix="chromium-peer-")
        self._pw = sync_playwright().start()
        try:
            self._context = self._pw.chromium.launch_persistent_context(
                self._profile,
                executable_path=self.executable,
                headless=True,
                args=self.args,
            )
            self._page = self._context.pages[0] if self._context.pages else self._context.new_page()
            self._page.set_default_timeout(30_000)
            # Served by Playwright's router, not a socket: http://127.0.0.1 is a secure context
            # (about:blank is not: no navigator.mediaDevices there).
            self._page.route(
                PAGE_URL,
                lambda route: route.fulfill(status=200, content_type="text/html", body=_PAGE),
            )
            self._page.goto(PAGE_URL)
            self._page.evaluate(_JS)
            if self.media_permission:
                self._page.evaluate(
                    "async () => { const s = await navigator.mediaDevices.getUserMedia("
                    "{audio: true}); window.H.media = s; }"
                )
            self._page.evaluate("([c, e]) => window.H.init(c, e)", [self.config, self.auto_echo])
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the page's connection, the browser and the temporary profile (idempotent)."""
        if self._page is not None:
            try:
                self._page.evaluate("() => { if (window.H && H.pc) H.pc.close(); }")
            except Exception:
                pass
            self._page = None
        if self._context is not None:
            try:
                self._context.close()
            except Exception:
                pass
            self._context = None
        if self._pw is not None:
            try:
                self._pw.stop()
            except Exception:
                pass
            self._pw = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    # -- plumbing --------------------------------------------------------------------------

    def eval(self, js: str, arg: Any = None) -> Any:
        """Evaluate a JS function expression in the page (`window.H` is the harness state)."""
        if self._page is None:
            raise RuntimeError("ChromiumPeer is not started")
        return self._page.evaluate(js, arg)

    def log(self) -> list[str]:
        """The page's event log (states, candidates, channel events)."""
        if self._page is None:
            return []
        try:
            return list(self.eval("() => window.H.log"))
        except Exception as exc:
            return [f"<log unavailable: {exc}>"]

    def screenshot(self, path: str) -> None:
        """Save a PNG of the page (it shows the event log)."""
        if self._page is not None:
            self._page.screenshot(path=path, full_page=True)

    # -- signaling -------------------------------------------------------------------------

    def create_channel(self, label: str, options: dict[str, Any] | None = None) -> None:
        """RTCPeerConnection.createDataChannel(label, options) with W3C option names."""
        self.eval(
            "([l, o]) => { const c = H.pc.createDataChannel(l, o); H.wire(c); "
            'H.note(`local channel "${l}" ` + JSON.stringify(o)); }',
            [label, options or {}],
        )

    def create_offer(
        self, wait_gathering: bool = False, timeout: float = 10.0, pump: Pump = None
    ) -> str:
        """createOffer + setLocalDescription; the SDP (with every candidate if wait_gathering)."""
        sdp: str = self.eval(
            "async () => { const o = await H.pc.createOffer(); "
            "await H.pc.setLocalDescription(o); return H.pc.localDescription.sdp; }"
        )
        if wait_gathering:
            self.wait_gathering_complete(timeout, pump)
            sdp = self.eval("() => H.pc.localDescription.sdp")
        return sdp

    def accept_offer(
        self, sdp: str, wait_gathering: bool = False, timeout: float = 10.0, pump: Pump = None
    ) -> str:
        """setRemoteDescription(offer) + createAnswer + setLocalDescription; the answer SDP."""
        answer: str = self.eval(
            "async (s) => { await H.pc.setRemoteDescription({type: 'offer', sdp: s}); "
            "const a = await H.pc.createAnswer(); await H.pc.setLocalDescription(a); "
            "return H.pc.localDescription.sdp; }",
            sdp,
        )
        if wait_gathering:
            self.wait_gathering_complete(timeout, pump)
            answer = self.eval("() => H.pc.localDescription.sdp")
        return answer

    def set_answer(self, sdp: str) -> None:
        self.eval(
            "async (s) => { await H.pc.setRemoteDescription({type: 'answer', sdp: s}); }", sdp
        )

    def add_candidate(self, mid: str | None, index: int | None, candidate: str) -> None:
        """addIceCandidate; `candidate` with or without `a=`; "" = end-of-candidates."""
        if candidate.startswith("a="):
            candidate = candidate[2:]
        self.eval(
            "async ([m, i, c]) => { await H.pc.addIceCandidate("
            "{candidate: c, sdpMid: m, sdpMLineIndex: i}); H.note('remote ' + (c || '<end>')); }",
            [mid, index, candidate],
        )

    def local_candidates(self) -> list[tuple[str, int, str]]:
        """Trickled local candidates so far as (mid, m-line index, "candidate:...")."""
        return [(m, i, c) for m, i, c in self.eval("() => H.cands")]

    def new_candidates(self) -> list[tuple[str, int, str]]:
        """Trickled candidates not returned by an earlier call, then (once gathering is complete)
        one (mid, 0, "") end-of-candidates entry: feed each straight to add_ice_candidate."""
        cands, end = self.eval("(n) => [H.cands.slice(n), H.end]", self._cursor)
        out = [(m, i, c) for m, i, c in cands]
        self._cursor += len(out)
        if end is not None and not self._end_taken:
            self._end_taken = True
            out.append((end[0], end[1], end[2]))
        return out

    def gathering_state(self) -> str:
        return str(self.eval("() => H.pc.iceGatheringState"))

    def wait_gathering_complete(self, timeout: float = 10.0, pump: Pump = None) -> None:
        self.wait_until(
            lambda: self.gathering_state() == "complete", timeout, pump, "gathering complete"
        )

    def local_description(self) -> str | None:
        return self.eval("() => H.pc.localDescription ? H.pc.localDescription.sdp : null")  # type: ignore[no-any-return]

    def remote_description(self) -> str | None:
        return self.eval("() => H.pc.remoteDescription ? H.pc.remoteDescription.sdp : null")  # type: ignore[no-any-return]

    def remote_description_set(self) -> bool:
        """addIceCandidate fails (InvalidStateError) until this is true."""
        return bool(self.eval("() => H.pc.remoteDescription !== null"))

    # -- state -----------------------------------------------------------------------------

    def connection_state(self) -> str:
        return str(self.eval("() => H.pc.connectionState"))

    def ice_connection_state(self) -> str:
        return str(self.eval("() => H.pc.iceConnectionState"))

    def selected_pair(self) -> dict[str, Any] | None:
        """The selected ICE candidate pair from getStats(): local/remote type, address, port."""
        return self.eval("() => H.pair()")  # type: ignore[no-any-return]

    def channel_state(self, label: str) -> str | None:
        """readyState of the channel with that label, None if there is none."""
        return self.eval("(l) => H.ch[l] ? H.ch[l].readyState : null", label)  # type: ignore[no-any-return]

    def channel_info(self, label: str) -> dict[str, Any] | None:
        """id, ordered, maxRetransmits, maxPacketLifeTime, protocol, negotiated, readyState."""
        return self.eval(  # type: ignore[no-any-return]
            "(l) => { const c = H.ch[l]; if (!c) return null; return {id: c.id, ordered: "
            "c.ordered, maxRetransmits: c.maxRetransmits, maxPacketLifeTime: "
            "c.maxPacketLifeTime, protocol: c.protocol, negotiated: c.negotiated, "
            "readyState: c.readyState, bufferedAmount: c.bufferedAmount}; }",
            label,
        )

    def remote_channels(self) -> list[str]:
        """Labels of channels the remote opened (ondatachannel), in arrival order."""
        return list(self.eval("() => H.remote"))

    # -- data ------------------------------------------------------------------------------

    def send(self, label: str, data: str | bytes) -> None:
        """str is sent as a text message, bytes as binary."""
        if isinstance(data, str):
            self.eval("([l, d]) => H.get(l).send(d)", [label, data])
        else:
            self.eval(
                "([l, d]) => H.get(l).send(H.dec(d))", [label, base64.b64encode(data).decode()]
            )

    def messages(self, label: str) -> list[str | bytes]:
        """Messages received on the channel: str for text, bytes for binary."""
        return _decode(self.eval("(l) => H.msgs[l] || []", label))

    def message_count(self, label: str) -> int:
        return int(self.eval("(l) => (H.msgs[l] || []).length", label))

    def wait_messages(
        self, label: str, count: int, timeout: float = 10.0, pump: Pump = None
    ) -> list[str | bytes]:
        """Wait until `count` messages arrived on the channel; return all of them."""
        self.wait_until(
            lambda: self.message_count(label) >= count,
            timeout,
            pump,
            f"{count} messages on {label!r}",
        )
        return self.messages(label)

    def enable_echo(self, label: str, on: bool = True) -> None:
        """The page sends every message received on that channel straight back."""
        self.eval("([l, on]) => { H.echo[l] = on; }", [label, on])

    def buffered_amount(self, label: str) -> int:
        return int(self.eval("(l) => H.get(l).bufferedAmount", label))

    def close_channel(self, label: str) -> None:
        self.eval("(l) => H.get(l).close()", label)

    def close_connection(self) -> None:
        """RTCPeerConnection.close() (the browser stays up)."""
        self.eval("() => H.pc.close()")

    def errors(self) -> list[str]:
        """Channel error events seen (e.g. from an abrupt remote close)."""
        return list(self.eval("() => H.errors"))
