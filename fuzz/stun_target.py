"""Fuzz target: STUN decoder (ice.stun.Message.parse), integrity checks and re-encoding."""

from __future__ import annotations

import sys

from ice.stun import Attr, Message, StunError, is_stun

_COMPUTED = {Attr.MESSAGE_INTEGRITY, Attr.MESSAGE_INTEGRITY_SHA256, Attr.FINGERPRINT}


def test_one_input(data: bytes) -> None:
    is_stun(data)
    try:
        msg = Message.parse(data)
    except StunError:
        return
    msg.check_fingerprint()
    msg.check_integrity(b"key")
    msg.check_integrity_sha256(b"key")
    msg.unknown_comprehension_required()
    again = Message.parse(msg.encode(integrity_key=b"key"))
    assert again.check_integrity(b"key") and again.check_fingerprint()
    kept = {k: v for k, v in msg.attributes.items() if k not in _COMPUTED}
    assert {k: v for k, v in again.attributes.items() if k not in _COMPUTED} == kept


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
