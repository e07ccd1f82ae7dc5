"""The soak's books catch what they must: corruption, duplicates, reordering, loss, kinds."""

from __future__ import annotations

import pytest

from tests.soak.soak import Channel, Ledger, Violation


def _channel(ordered: bool, reliable: bool) -> Channel:
    opts = {"ordered": ordered} if reliable else {"ordered": ordered, "maxRetransmits": 0}
    return Channel("c", "ours", False, ordered, reliable, opts)


def _send(ledger: Ledger, ch: Channel, n: int) -> list[tuple[bool, bytes]]:
    return [ledger.make_message(ch, ch.to_aiortc) for _ in range(n)]


@pytest.mark.parametrize("ordered", [True, False])
def test_reliable_in_order_passes_and_settles(ordered: bool) -> None:
    ledger, ch = Ledger(1, "ours"), _channel(ordered, True)
    sent = _send(ledger, ch, 300)
    assert any(not data for _, data in sent) == ordered  # empty messages only when ordered
    assert {text for text, _ in sent} == {True, False}
    assert max(len(data) for _, data in sent) <= 65536
    for text, data in sent:
        ledger.receive(ch, ch.to_aiortc, text, data)
    assert ch.to_aiortc.inflight == 0 and not ch.to_aiortc.expected
    ledger.settle(ch)


def test_corruption_is_caught() -> None:
    ledger, ch = Ledger(2, "ours"), _channel(True, True)
    text, data = next((t, d) for t, d in _send(ledger, ch, 50) if len(d) > 40)
    bad = bytearray(data)
    bad[-1] ^= 1  # the checksum is checked before the sequence number
    with pytest.raises(Violation, match="corrupted"):
        ledger.receive(ch, ch.to_aiortc, text, bytes(bad))


def test_duplicate_reorder_kind_and_loss_are_caught() -> None:
    ledger = Ledger(3, "ours")
    ch = _channel(False, True)
    (t0, d0), (t1, d1) = _send(ledger, ch, 2)
    ledger.receive(ch, ch.to_aiortc, t1, d1)  # unordered: any order is fine
    with pytest.raises(Violation, match="duplicate"):
        ledger.receive(ch, ch.to_aiortc, t1, d1)
    with pytest.raises(Violation, match=r"arrived as|bad text header"):
        ledger.receive(ch, ch.to_aiortc, not t0, d0)  # text sent, binary received (or back)
    with pytest.raises(Violation, match="never arrived"):
        ledger.settle(ch)  # reliable: d0 still missing at the close
    ordered = _channel(True, True)
    msgs = [m for m in _send(ledger, ordered, 40) if m[1]]
    with pytest.raises(Violation, match=r"order|empty"):
        ledger.receive(ordered, ordered.to_aiortc, *msgs[1])


def test_partial_reliability_allows_loss_not_going_back() -> None:
    ledger, ch = Ledger(4, "ours"), _channel(True, False)
    sent = _send(ledger, ch, 5)
    ledger.receive(ch, ch.to_aiortc, *sent[2])  # 0 and 1 are lost
    assert ledger.stats["partially_reliable_lost"] == 2
    with pytest.raises(Violation):
        ledger.receive(ch, ch.to_aiortc, *sent[1])
    ledger.receive(ch, ch.to_aiortc, *sent[4])
    ledger.settle(ch)
    assert ledger.stats["partially_reliable_lost"] == 3
