"""``python -m webrtc.signaling``: run the signaling server."""

import sys

from .server import main

sys.exit(main(prog="python -m webrtc.signaling"))
