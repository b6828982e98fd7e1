"""Pacing: sliding windows, per-target spacing, retry-after blocks (on a fake clock)."""

from __future__ import annotations

import itertools

import pytest

from bot.pacing import Limit, Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def send_times(pacer: Pacer, clock: Clock, targets: list[str]) -> list[float]:
    """Send to each target in turn as early as the pacer allows; the send times."""
    times = []
    for target in targets:
        clock.now = max(clock.now, pacer.ready_at(target))
        pacer.record(target)
        times.append(clock.now)
    return times


def max_in_window(times: list[float], period: float) -> int:
    return max(sum(1 for u in times if t <= u < t + period) for t in times)


def test_global_window_caps_the_rate() -> None:
    clock = Clock()
    pacer = Pacer((Limit(29, 1.0), Limit(1, 1 / 35)), clock=clock)
    times = send_times(pacer, clock, [f"chat{i}" for i in range(300)])
    assert max_in_window(times, 1.0) <= 29
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert 27 <= rate <= 29.5


def test_per_target_spacing_and_group_minute_limit() -> None:
    clock = Clock()
    pacer = Pacer(target_limits=lambda t: (Limit(1, 1.05), Limit(20, 61.0)) if t.startswith("-")
                  else (Limit(1, 1.05),), clock=clock)
    private = send_times(pacer, clock, ["7"] * 5)
    assert all(b - a >= 1.05 - 1e-9 for a, b in itertools.pairwise(private))
    group = send_times(pacer, clock, ["-100"] * 25)
    assert max_in_window(group, 61.0) <= 20


@pytest.mark.parametrize("whole", [False, True])
def test_retry_after_blocks(whole: bool) -> None:
    clock = Clock()
    pacer = Pacer(clock=clock)
    if whole:
        pacer.block_all(30)
    else:
        pacer.block("7", 30)
    assert pacer.ready_at("7") == pytest.approx(130.0)
    assert pacer.ready_at("8") == pytest.approx(130.0 if whole else 0.0)


def test_idle_targets_are_forgotten() -> None:
    clock = Clock()
    pacer = Pacer(target_limits=lambda t: (Limit(1, 1.0),), clock=clock)
    for i in range(100):
        pacer.record(str(i))
    clock.now += 7200
    pacer.forget_idle(3600)
    assert pacer._targets == {}


def test_spacing_counts_from_a_slow_send_completing() -> None:
    clock = Clock()
    pacer = Pacer(target_limits=lambda t: (Limit(1, 1.05), Limit(20, 61.0)), clock=clock)
    pacer.record("7")
    clock.now += 2.0  # the platform took two seconds to answer
    pacer.settle("7")
    assert pacer.ready_at("7") == pytest.approx(clock.now + 1.05)
