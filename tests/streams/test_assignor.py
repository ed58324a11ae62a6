"""The co-partitioning assignor: partition P of every topic a role reads goes to one worker."""

from __future__ import annotations

import pytest

from streams.assignor import copartitioned

JOINED = ("automation-results", "deliveries", "manual-annotations", "manual-queue")


@pytest.mark.parametrize(("members", "partitions", "expected"), [
    (["a"], 4, {"a": [0, 1, 2, 3]}),
    (["a", "b"], 4, {"a": [0, 2], "b": [1, 3]}),
    (["c", "a", "b"], 4, {"a": [0, 3], "b": [1], "c": [2]}),  # round robin over all pairs split these
    (["a", "b", "c", "d", "e"], 4, {"a": [0], "b": [1], "c": [2], "d": [3], "e": []}),
])
def test_each_member_owns_the_same_partitions_of_every_joined_topic(
    members: list[str], partitions: int, expected: dict[str, list[int]],
) -> None:
    plan = copartitioned({m: JOINED for m in members}, {t: list(range(partitions)) for t in JOINED})
    assert {m: sorted({tuple(ps) for ps in plan[m].values()}) for m in members} == {
        m: [tuple(ps)] if ps else [] for m, ps in expected.items()}


def test_a_topic_goes_only_to_its_subscribers() -> None:
    plan = copartitioned({"a": ["x"], "b": ["x", "y"]}, {"x": [0, 1], "y": [0]})
    assert plan == {"a": {"x": [0]}, "b": {"x": [1], "y": [0]}}
