"""Fuzz target: remote descriptions as `set_remote_description` sees them (webrtc.jsep)."""

from __future__ import annotations

import sys

from webrtc.jsep import JsepError, parse_description


def test_one_input(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    for sdp_type in ("offer", "answer"):
        try:
            parse_description(sdp_type, text)
        except JsepError:
            pass


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
