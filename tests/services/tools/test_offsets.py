"""Commits never pass a task that is not done, whatever order the people finish in."""

from __future__ import annotations

import pytest

from services.tools.offsets import OffsetTracker, Partition

P0, P1 = ("q", 0), ("q", 1)


@pytest.mark.parametrize(("fetched", "done", "expected"), [
    ([], [], {}),
    ([0, 1, 2], [], {P0: 0}),
    ([0, 1, 2], [0], {P0: 1}),
    ([0, 1, 2], [1, 2], {P0: 0}),
    ([0, 1, 2], [2, 0], {P0: 1}),
    ([0, 1, 2], [0, 1, 2], {P0: 3}),
    ([5, 6, 9], [5, 6, 9], {P0: 10}),  # gaps (compaction, transaction markers) are skipped
    ([5, 6, 9], [5, 9], {P0: 6}),
])
def test_the_commit_is_the_first_offset_not_done(
    fetched: list[int], done: list[int], expected: dict[Partition, int],
) -> None:
    t = OffsetTracker()
    for o in fetched:
        t.fetched(P0, o)
    for o in done:
        t.done(P0, o)
    assert t.committable() == expected
    assert t.outstanding() == len(fetched) - len(done)


def test_only_moves_are_committed_and_partitions_are_independent() -> None:
    t = OffsetTracker()
    for o in range(3):
        t.fetched(P0, o)
        t.fetched(P1, o)
    t.done(P0, 0)
    assert t.committable() == {P0: 1, P1: 0}
    t.committed({P0: 1, P1: 0})
    assert t.committable() == {}
    t.done(P1, 0)
    t.done(P1, 1)
    assert t.committable() == {P1: 2}
    assert t.outstanding([P0]) == 2 and t.outstanding([P1]) == 1


def test_revoked_partitions_are_forgotten() -> None:
    t = OffsetTracker()
    t.fetched(P0, 0)
    t.fetched(P1, 4)
    t.forget([P0])
    assert t.committable() == {P1: 4} and t.outstanding() == 1
