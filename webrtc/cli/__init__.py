"""Command-line tools over the signaling server: `chat` (and `--echo` bot), `send`/`receive`.

Entry points (wired into `python -m webrtc` by `webrtc/__main__.py`): `webrtc.cli.chat.main`,
`webrtc.cli.transfer.send_main`, `webrtc.cli.transfer.receive_main`; each takes `argv` and
returns an exit code.
"""
