"""The libdatachannel side of the `libdatachannel` peer kind, run as a child process.

libdatachannel-py ships wheels for Python >= 3.13 only, so this file runs under such an
interpreter (its own venv) and imports nothing from this project: standard library plus
`libdatachannel`. It reads one JSON request per line on stdin (`{"id", "op", ...}`) and writes
one JSON reply per line on stdout (`{"id", "ok", "result"}` or `{"id", "ok": false, "error"}`);
the first line it writes is `{"ready": true}` (or `{"ready": false, "error": ...}`).
libdatachannel's callbacks run on its own threads; they only touch state under a lock. It exits
when stdin closes or after `--lifetime` seconds.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import sys
import threading
import time
from typing import Any

MAX_MESSAGES = 10_000
GATHER_TIMEOUT = 10.0
CLOSE_GRACE = 10.0  # seconds close() may take before the process exits anyway
STATES = {
    "New": "new",
    "Connecting": "connecting",
    "Connected": "connected",
    "Disconnected": "disconnected",
    "Failed": "failed",
    "Closed": "closed",
}


class Child:
    def __init__(self, ldc: Any, host: str) -> None:
        self.ldc = ldc
        self.lock = threading.Lock()
        config = ldc.Configuration()
        config.bind_address = host
        config.ice_servers = []
        self.pc = ldc.PeerConnection(config)
        self.channels: dict[str, Any] = {}
        self.remote: set[str] = set()
        self.messages: dict[str, list[list[str]]] = {}
        self.errors: list[str] = []
        self.candidates: list[str] = []
        self.gathered = threading.Event()
        self.pc.on_local_candidate(self._on_candidate)
        self.pc.on_gathering_state_change(self._on_gathering)
        self.pc.on_data_channel(self._on_channel)

    def _on_candidate(self, cand: Any) -> None:
        with self.lock:
            if len(self.candidates) < 64:
                self.candidates.append(str(cand))

    def _on_gathering(self, state: Any) -> None:
        if state == self.ldc.PeerConnection.GatheringState.Complete:
            self.gathered.set()

    def _on_channel(self, channel: Any) -> None:
        with self.lock:
            self.remote.add(channel.label())
        self._wire(channel)

    def _wire(self, channel: Any) -> None:
        label = channel.label()
        with self.lock:
            self.channels[label] = channel
            self.messages.setdefault(label, [])

        def binary(data: Any) -> None:
            self._store(label, ["b", base64.b64encode(bytes(data)).decode()])

        def text(data: Any) -> None:
            self._store(label, ["t", str(data)])

        def error(text_: Any) -> None:
            with self.lock:
                if len(self.errors) < 100:
                    self.errors.append(f"{label}: {text_}")

        channel.on_message(binary, text)
        channel.on_error(error)

    def _store(self, label: str, item: list[str]) -> None:
        with self.lock:
            got = self.messages.setdefault(label, [])
            if len(got) < MAX_MESSAGES:
                got.append(item)

    def _description(self) -> str:
        self.gathered.wait(GATHER_TIMEOUT)
        return str(self.pc.local_description())

    # -- operations (one per request) ------------------------------------------------------------

    def op_create_channel(self, label: str, options: dict[str, Any]) -> None:
        init = self.ldc.DataChannelInit()
        rel = self.ldc.Reliability()
        rel.unordered = not options.get("ordered", True)
        if options.get("maxRetransmits") is not None:
            rel.max_retransmits = int(options["maxRetransmits"])
        if options.get("maxPacketLifeTime") is not None:
            rel.max_packet_lifetime = datetime.timedelta(milliseconds=options["maxPacketLifeTime"])
        init.reliability = rel
        init.protocol = options.get("protocol", "")
        if options.get("negotiated"):
            init.negotiated = True
            init.id = options.get("id")
        self._wire(self.pc.create_data_channel(label, init))

    def op_create_offer(self) -> str:
        self.pc.set_local_description(self.ldc.Description.Type.Offer)
        return self._description()

    def op_accept_offer(self, sdp: str) -> str:
        self.pc.set_remote_description(self.ldc.Description(sdp, "offer"))
        return self._description()  # auto-negotiation answers

    def op_set_answer(self, sdp: str) -> None:
        self.pc.set_remote_description(self.ldc.Description(sdp, "answer"))

    def op_add_candidate(self, candidate: str, mid: str) -> None:
        self.pc.add_remote_candidate(self.ldc.Candidate(candidate, mid))

    def op_take_candidates(self) -> list[str]:
        with self.lock:
            out, self.candidates = self.candidates, []
        return out

    def op_state(self) -> str:
        return STATES.get(self.pc.state().name, "new")

    def op_channels(self) -> list[list[Any]]:
        with self.lock:
            items = list(self.channels.items())
            remote = set(self.remote)
        out = []
        for label, c in items:
            rel = c.reliability()
            life = rel.max_packet_lifetime
            life_ms = None if life is None else int(life.total_seconds() * 1000)
            state = "closed" if c.is_closed() else "open" if c.is_open() else "connecting"
            out.append([label, c.id(), c.protocol(), not rel.unordered, rel.max_retransmits,
                        life_ms, state, label in remote])  # fmt: skip
        return out

    def op_send(self, label: str, data: str, binary: bool) -> None:
        c = self.channels[label]
        payload: bytes | str = base64.b64decode(data) if binary else data
        if not c.send(payload):
            raise RuntimeError("send() returned false (buffered)")

    def op_messages(self, label: str) -> list[list[str]]:
        with self.lock:
            return list(self.messages.get(label, []))

    def op_close_channel(self, label: str) -> None:
        self.channels[label].close()

    def op_errors(self) -> list[str]:
        with self.lock:
            return list(self.errors)

    def op_close(self) -> None:
        # PeerConnection.close() can block for seconds (graceful SCTP close): in the background
        self.closing = threading.Thread(target=self.pc.close, daemon=True)
        self.closing.start()


def main() -> int:
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    lifetime = float(sys.argv[2]) if len(sys.argv) > 2 else 600.0
    out = sys.stdout
    try:
        import libdatachannel as ldc  # type: ignore[import-not-found]

        child = Child(ldc, host)
    except Exception as exc:
        out.write(json.dumps({"ready": False, "error": repr(exc)}) + "\n")
        out.flush()
        return 1
    out.write(json.dumps({"ready": True, "version": getattr(ldc, "__version__", "?")}) + "\n")
    out.flush()
    timer = threading.Timer(lifetime, lambda: os._exit(0))  # stops by itself
    timer.daemon = True
    timer.start()
    deadline = time.monotonic() + lifetime
    for line in sys.stdin:
        if time.monotonic() > deadline:
            break
        try:
            req = json.loads(line)
            op = getattr(child, "op_" + str(req.pop("op")))
            rid = req.pop("id")
        except Exception as exc:
            out.write(
                json.dumps({"id": None, "ok": False, "error": f"bad request: {exc!r}"}) + "\n"
            )
            out.flush()
            continue
        try:
            reply = {"id": rid, "ok": True, "result": op(**req)}
        except Exception as exc:
            reply = {"id": rid, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()
        if op == child.op_close:
            break
    closing = getattr(child, "closing", None)
    if closing is not None:
        closing.join(CLOSE_GRACE)
    os._exit(0)  # libdatachannel's threads must not keep the process alive


if __name__ == "__main__":
    sys.exit(main())
