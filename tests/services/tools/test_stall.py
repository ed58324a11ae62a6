"""A run is stuck only when nothing has moved for the stall window, and the stage to blame is the first one with
work waiting. Counts built from sample records, time from a fake clock."""

from __future__ import annotations

import pytest

from services.loop.tally import Tally
from services.tools.stall import StallWatch, movement, stall_message, stalled_stage
from tests.services.loop.test_tally import add, comparison, stats, task


def _run(engine: int = 4, routed: int = 4, annotated: int = 4, compared: int = 4, aggregated: int = 4) -> Tally:
    """Four frames fed, each sent to people (copy 1); the first ``k`` of them through each stage."""
    t = Tally()
    frames = [f"f{i}" for i in range(4)]
    for f in frames[:engine]:
        add(t, "automation-results", frame_id=f)
    for f in frames[:routed]:
        task(t, f, 1)
    for f in frames[:annotated]:
        task(t, f, 1, "manual-annotations")
    for f in frames[:compared]:
        comparison(t, f, "machine")
    stats(t, "all", aggregated, None)
    return t


@pytest.mark.parametrize(("tally", "fed", "stage", "counts"), [
    (Tally(), 2, "the feed", (2, 4)),
    (_run(engine=1, routed=1, annotated=1, compared=1, aggregated=1), 4, "the engine", (1, 4)),
    (_run(routed=3, annotated=3, compared=3, aggregated=3), 4, "the router", (3, 4)),
    (_run(annotated=2, compared=2, aggregated=2), 4, "the annotators", (2, 4)),
    (_run(compared=3, aggregated=3), 4, "the comparator", (3, 4)),
    (_run(aggregated=1), 4, "the aggregator", (1, 4)),
    (_run(), 4, None, None),
], ids=["feed", "engine", "router", "annotators", "comparator", "aggregator", "settled"])
def test_the_first_stage_with_work_waiting_is_the_one_named(tally: Tally, fed: int, stage: str | None,
                                                            counts: tuple[int, int] | None) -> None:
    found = stalled_stage(tally, fed, 4)
    assert (None if found is None else (found.name, (found.done, found.of))) == (
        None if stage is None else (stage, counts))


def test_the_message_names_the_stage_and_every_count() -> None:
    text = stall_message(_run(annotated=2, compared=2, aggregated=2), 4, 4, 120.4)
    assert text.startswith("the annotators stalled: nothing moved for 120 s with 2 of 4 tasks annotated (")
    assert "the engine: 4 of 4 frames through the engine" in text and "the aggregator: 2 of 2 comparisons" in text


def test_the_watch_measures_how_long_nothing_has_moved() -> None:
    now = [0.0]
    watch = StallWatch(clock=lambda: now[0])
    tally = _run(engine=1, routed=1, annotated=1, compared=1, aggregated=1)
    assert watch.still_s(movement(tally, 4)) == 0.0
    now[0] = 90.0
    assert watch.still_s(movement(tally, 4)) == 90.0  # nothing moved
    add(tally, "automation-results", frame_id="f1")
    now[0] = 100.0
    assert watch.still_s(movement(tally, 4)) == 0.0  # one more frame through the engine: the clock restarts
    now[0] = 150.0
    assert watch.still_s(movement(tally, 4)) == 50.0


@pytest.mark.parametrize("topic", ["deliveries", "manual-queue", "manual-annotations", "comparisons",
                                   "agreement-stats", "dead-letters"])
def test_any_new_record_is_movement(topic: str) -> None:
    tally = _run(engine=2, routed=2, annotated=1, compared=1, aggregated=1)
    before = movement(tally, 4)
    if topic == "dead-letters":
        tally.add(topic, b"{}")
    elif topic == "agreement-stats":
        stats(tally, "weather=fog", 1, None)
    elif topic in ("manual-queue", "manual-annotations"):
        task(tally, "f3", 1, topic)
    elif topic == "comparisons":
        comparison(tally, "f3", "machine")
    else:
        add(tally, topic, frame_id="f3")
    assert movement(tally, 4) != before
