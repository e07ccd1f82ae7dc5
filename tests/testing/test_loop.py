"""The one virtual-time loop (webrtc.testing.run) and its deadline rule."""

from __future__ import annotations

from webrtc.testing import Ticker, VirtualClock, run


class _Timer:
    """An actor with fixed wake-up times; records when it ran."""

    def __init__(self, times: list[float]) -> None:
        self.times = list(times)
        self.ran: list[float] = []

    def step(self, now: float) -> None:
        self.ran.append(now)
        while self.times and self.times[0] <= now:
            self.times.pop(0)

    def next_time(self) -> float | None:
        return self.times[0] if self.times else None


def test_jumps_from_event_to_event() -> None:
    clock = VirtualClock()
    timer = _Timer([0.5, 1.25, 7.0])
    assert not run(clock, [timer], lambda: False, max_time=10.0)
    assert timer.ran == [0.0, 0.5, 1.25, 7.0]


def test_clock_is_left_at_the_deadline_when_the_next_event_is_later() -> None:
    clock = VirtualClock(2.0)
    timer = _Timer([2.5, 9.0])
    assert not run(clock, [timer], lambda: False, max_time=3.0)
    assert clock.now == 5.0 and timer.ran == [2.0, 2.5]  # 9.0 not reached, never passed


def test_clock_moves_to_the_deadline_when_nothing_is_scheduled() -> None:
    clock = VirtualClock()
    assert not run(clock, [], lambda: False, max_time=4.0)
    assert clock.now == 4.0
    assert not run(clock, [], lambda: False, max_time=1.5)  # bounded runs add up
    assert clock.now == 5.5


def test_event_exactly_at_the_deadline_is_processed() -> None:
    clock = VirtualClock()
    timer = _Timer([1.0])
    run(clock, [timer], lambda: False, max_time=1.0)
    assert timer.ran == [0.0, 1.0] and clock.now == 1.0


def test_stops_as_soon_as_until_holds() -> None:
    clock = VirtualClock()
    timer = _Timer([1.0, 2.0, 3.0])
    assert run(clock, [timer], lambda: clock.now >= 2.0, max_time=10.0)
    assert clock.now == 2.0


def test_ticker_fires_on_its_period() -> None:
    clock = VirtualClock()
    fired: list[float] = []
    ticker = Ticker(0.25, fired.append, 0.0)
    run(clock, [ticker], lambda: False, max_time=1.0)
    assert fired == [0.0, 0.25, 0.5, 0.75, 1.0]
    ticker.stop()
    run(clock, [ticker], lambda: False, max_time=1.0)
    assert len(fired) == 5 and clock.now == 2.0
