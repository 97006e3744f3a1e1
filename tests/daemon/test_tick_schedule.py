"""The main loop's tick schedule: a steady rhythm, and no burst after a late tick."""

from dx7d.daemon.service import TICK_S, next_tick_after


def test_a_tick_on_time_keeps_the_rhythm() -> None:
    assert next_tick_after(10.0, 10.002) == 10.0 + TICK_S


def test_a_late_tick_is_not_followed_by_catch_up_ticks() -> None:
    # the tick due at 10 s ran at 13 s (a stream that would not close held the loop)
    following = next_tick_after(10.0, 13.0)
    assert following >= 13.0 + TICK_S / 2
    assert next_tick_after(following, following) == following + TICK_S
