"""Counting a pipeline run from its topics: distinct keys, what is expected, and when the run is settled."""

from __future__ import annotations

import orjson
import pytest

from services.loop.tally import Tally
from tests.services.loop.messages.samples import T, sample


def add(tally: Tally, topic: str, **changes: object) -> None:
    tally.add(topic, orjson.dumps(sample(topic, **changes)))


def task(tally: Tally, frame_id: str, copy: int, topic: str = "manual-queue") -> None:
    add(tally, topic, frame_id=frame_id, task_id=f"{frame_id}/{copy}", copy=copy)


def comparison(tally: Tally, frame_id: str, kind: str) -> None:
    add(tally, "comparisons", frame_id=frame_id, kind=kind)


def stats(tally: Tally, stratum: str, n: int, floor: int | None, time: float = T) -> None:
    human_floor = None if floor is None else {"estimate": 0.9, "lower": 0.8, "upper": 0.95, "n": floor}
    add(tally, "agreement-stats", stratum=stratum, n=n, human_floor=human_floor, time=time)


def test_records_are_counted_by_distinct_key() -> None:
    t = Tally()
    for _ in range(2):  # every record delivered twice
        add(t, "automation-results", frame_id="a")
        add(t, "automation-results", frame_id="b", error="decode failed", confidence=None)
        add(t, "deliveries", frame_id="a")
        task(t, "b", 1)
        task(t, "b", 2)
        task(t, "b", 1, "manual-annotations")
        comparison(t, "b", "consensus")
    assert (t.results, t.failed, t.shipped, t.queued) == ({"a", "b"}, {"b"}, {"a"}, {"b"})
    assert (t.tasks, t.annotated) == ({("b", 1), ("b", 2)}, {("b", 1)})
    assert (t.comparisons, t.comparison_records) == ({("b", "consensus")}, 2)
    assert t.routed == 2


def test_dead_letters_tombstones_recommendations_and_policies() -> None:
    t = Tally()
    t.add("dead-letters", b"\xff not even json")
    t.add("dead-letters", orjson.dumps(sample("dead-letters")))
    t.add("comparisons", None)
    t.add("automation-results", None)
    add(t, "recommendations", automation_rate=0.1)
    add(t, "recommendations", automation_rate=0.3, action="hold")
    add(t, "policies")
    add(t, "policies", version=5)
    assert (t.dead_letters, t.policies, t.comparison_records, t.results) == (2, 2, 0, set())
    assert t.recommendation is not None
    assert (t.recommendation.automation_rate, t.recommendation.action) == (0.3, "hold")


@pytest.mark.parametrize(("topic", "value"), [
    ("automation-results", b"not json"),
    ("comparisons", orjson.dumps(sample("comparisons", kind="other"))),
    ("manual-queue", orjson.dumps(sample("manual-queue", task_id="x/1"))),  # task id names another frame
    ("agreement-stats", b"{}"),
    ("unknown-topic", b"{}"),
])
def test_invalid_records_are_counted_apart(topic: str, value: bytes) -> None:
    t = Tally()
    t.add(topic, value)
    t.add(topic, value)
    assert t.invalid == 2
    assert t == Tally(invalid=2)


@pytest.mark.parametrize(("updates", "kept"), [
    # (n, time) of the stats in arrival order -> the one kept
    ([(100, 1.0), (120, 2.0)], (120, 2.0)),
    ([(120, 2.0), (100, 3.0)], (120, 2.0)),  # a late, smaller update does not go back
    ([(120, 2.0), (120, 1.0)], (120, 2.0)),
    ([(120, 1.0), (120, 2.0)], (120, 2.0)),
])
def test_the_latest_stats_per_stratum_are_kept(updates: list[tuple[int, float]], kept: tuple[int, float]) -> None:
    t = Tally()
    for n, time in updates:
        stats(t, "all", n, None, time)
    stats(t, "weather=rain", 3, None)
    assert (t.stats["all"].n, t.stats["all"].time) == kept
    assert t.stats["weather=rain"].n == 3


def test_expected_comparisons_skip_machine_comparisons_of_failed_frames() -> None:
    t = Tally()
    add(t, "automation-results", frame_id="ok")
    add(t, "automation-results", frame_id="broken", error="engine failed", confidence=None)
    for frame_id, copy in [("ok", 1), ("ok", 2), ("single", 1), ("broken", 1), ("broken", 2), ("ok", 1)]:
        task(t, frame_id, copy, "manual-annotations")
    assert t.expected_comparisons == 2 + 1 + 1  # ok: machine and consensus; single: machine; broken: consensus


def test_aggregated_counts_machine_and_consensus_comparisons_of_the_latest_stats() -> None:
    t = Tally()
    stats(t, "all", 100, 40, time=1.0)
    stats(t, "all", 120, 45, time=2.0)
    stats(t, "weather=rain", 10, None)
    assert t.aggregated == 120 + 45 + 10


def settled_run() -> Tally:
    """Frame a shipped; b to people with a consensus copy; c to people, the engine failed on it."""
    t = Tally()
    add(t, "automation-results", frame_id="a")
    add(t, "deliveries", frame_id="a")
    add(t, "automation-results", frame_id="b")
    add(t, "automation-results", frame_id="c", error="engine failed", confidence=None)
    for frame_id, copy in [("b", 1), ("b", 2), ("c", 1)]:
        task(t, frame_id, copy)
        task(t, frame_id, copy, "manual-annotations")
    comparison(t, "b", "machine")
    comparison(t, "b", "consensus")
    stats(t, "all", 1, 1)
    return t


def test_a_run_is_settled_once_everything_is_routed_annotated_compared_and_aggregated() -> None:
    t = settled_run()
    assert t.expected_comparisons == 2
    assert t.settled(3)
    assert not t.settled(4)  # a fourth frame was fed but not routed yet


@pytest.mark.parametrize("missing", ["annotation", "comparison", "aggregation"])
def test_a_run_is_not_settled_while_something_is_missing(missing: str) -> None:
    t = settled_run()
    if missing == "annotation":
        task(t, "d", 1)  # a new task nobody has annotated
        add(t, "automation-results", frame_id="d")
    elif missing == "comparison":
        task(t, "e", 1)
        task(t, "e", 1, "manual-annotations")
    else:
        comparison(t, "c", "consensus")  # one more comparison than the stats include
    assert not t.settled(3)


def test_line_without_stats() -> None:
    t = Tally()
    add(t, "automation-results", frame_id="a")
    assert t.line(1234) == ("frames in 1,234 | engine 1 | shipped 0 | queued 0 | annotated 0 | compared 0")


def test_line_with_stats_recommendation_and_dead_letters() -> None:
    t = settled_run()
    add(t, "agreement-stats", stratum="all", n=1500, estimate=0.9, lower=0.8, upper=0.95, time=T + 1)
    add(t, "recommendations", automation_rate=0.2, action="raise")
    t.add("dead-letters", b"{}")
    assert t.line(12_345) == (
        "frames in 12,345 | engine 3 | shipped 1 | queued 2 | annotated 3 | compared 2"
        " | acceptance 0.900 [0.800, 0.950] n=1500 | recommend 20% (raise) | dead letters 1"
    )


def test_line_shows_no_estimate_before_one_exists() -> None:
    t = Tally()
    add(t, "agreement-stats", stratum="all", n=0, estimate=None, lower=0.0, upper=1.0, human_floor=None)
    add(t, "agreement-stats", stratum="weather=rain", n=10, estimate=0.5)
    assert "acceptance" not in t.line(0)
