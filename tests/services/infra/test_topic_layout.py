"""The topic layout of docs/streaming.md, and which existing topics fit it (no broker needed)."""

from __future__ import annotations

import pytest

from services.infra.topic_names import COMPACTED, ORDERED, PER_FRAME, SINGLE, TopicNames
from services.infra.topics import TopicSpec, TopicState, layout_problem, topic_layout

WEEK_MS = 168 * 3_600_000


def test_layout_follows_the_streaming_contract() -> None:
    layout = {spec.name: spec for spec in topic_layout(TopicNames("t1-"), partitions=6, retention_hours=168)}
    assert list(layout) == [f"t1-{base}" for base in PER_FRAME + SINGLE]
    for base in PER_FRAME:
        partitions = 1 if base in ORDERED else 6  # comparisons: one partition, so the aggregator counts in topic order
        assert layout[f"t1-{base}"] == TopicSpec(f"t1-{base}", partitions, "delete", WEEK_MS)
    assert ORDERED == ("comparisons",)
    for base in SINGLE:
        assert layout[f"t1-{base}"].partitions == 1
    for base in COMPACTED:
        spec = layout[f"t1-{base}"]
        assert (spec.cleanup_policy, spec.retention_ms, spec.configs()) == ("compact", None,
                                                                           {"cleanup.policy": "compact"})
    assert layout["t1-dead-letters"].configs() == {"cleanup.policy": "delete", "retention.ms": str(WEEK_MS)}


def test_fractional_retention_hours() -> None:
    frames = topic_layout(TopicNames(), partitions=4, retention_hours=0.5)[0]
    assert (frames.name, frames.retention_ms) == ("frames", 1_800_000)


SPEC = TopicSpec("t-frames", 4, "delete", WEEK_MS)


@pytest.mark.parametrize(("state", "problem"), [
    (TopicState("t-frames", 4, "delete", WEEK_MS), None),
    (TopicState("t-frames", 4, "delete", 1000), None),  # retention is a setting, not the layout
    (TopicState("t-frames", 2, "delete", WEEK_MS), "topic 't-frames' has 2 partitions, the layout wants 4"),
    (TopicState("t-frames", 4, "compact", None),
     "topic 't-frames' has cleanup.policy=compact, the layout wants delete"),
])
def test_layout_problem(state: TopicState, problem: str | None) -> None:
    assert layout_problem(SPEC, state) == problem
