"""`python -m webrtc ladder INPUT [--keylog FILE] -o OUT`: draw a trace or a capture.

INPUT is the JSON lines of `python -m webrtc demo --trace-json` (or any program writing
`webrtc.trace` records), or a pcap/pcapng capture (recognised by its first bytes), decrypted with
an NSS key log (`SSLKEYLOGFILE`) when `--keylog` is given. OUT ending in .html is one
self-contained page; anything else is SVG.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .capture import load_capture
from .html import write_file
from .model import MAX_ARROWS
from .pcap import CaptureError
from .record import load_trace_json

_CAPTURE_MAGICS = (
    b"\x0a\x0d\x0d\x0a",
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m webrtc ladder", description=__doc__)
    parser.add_argument("input", help="trace JSON lines, or a pcap/pcapng capture")
    parser.add_argument("-o", "--output", required=True, help="OUT.html or OUT.svg")
    parser.add_argument("--keylog", help="NSS key log (SSLKEYLOGFILE) to decrypt DTLS")
    parser.add_argument("--max-arrows", type=int, default=MAX_ARROWS, help="arrows drawn at most")
    parser.add_argument("--title", help="diagram title (default: the input's name)")
    parser.add_argument(
        "--name",
        action="append",
        default=[],
        metavar="ADDR=NAME",
        help="name a captured address's lifeline, e.g. 10.0.0.1:5000=browser (repeatable; "
        "addresses given the same name share a lifeline)",
    )
    args = parser.parse_args(argv)
    names: dict[tuple[str, int], str] = {}
    for spec in args.name:
        addr, sep, name = spec.partition("=")
        host, colon, port = addr.rpartition(":")
        if not sep or not name or not colon or not port.isdigit() or int(port) > 65535:
            parser.error(f"--name wants ADDR:PORT=NAME, got {spec!r}")
        names[(host.strip("[]"), int(port))] = name
    src = Path(args.input)
    try:
        with src.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        parser.error(f"cannot read {src}: {exc}")
    options: dict[str, Any] = {"max_arrows": max(1, args.max_arrows)}
    if args.title:
        options["title"] = args.title
    try:
        if magic in _CAPTURE_MAGICS:
            ladder = load_capture(src, args.keylog, names, **options)
        else:
            ladder = load_trace_json(src, **options)
    except (CaptureError, OSError) as exc:
        print(f"ladder: {src}: {exc}")
        return 1
    write_file(ladder, args.output)
    print(
        f"{args.output}: {len(ladder.arrows)} messages, {len(ladder.notes)} state changes, "
        f"{len(ladder.bands)} folded bands, lifelines {', '.join(ladder.lifelines)}"
    )
    return 0
