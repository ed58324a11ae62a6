"""The restart benchmark's synthetic history: every record valid, each (frame, kind) once, pairs of real frames."""

from __future__ import annotations

from benchmarks.aggregator_restart import STRATA, _record
from services.loop.messages import ComparisonMessage, decode


def test_the_history_counts_each_frame_and_kind_once_with_one_consensus_pair_in_ten() -> None:
    history = [decode(ComparisonMessage, _record(i)) for i in range(1000)]
    keys = {(c.frame_id, c.kind) for c in history}
    machine = {c.frame_id for c in history if c.kind == "machine"}
    pairs = [c for c in history if c.kind == "consensus"]
    assert len(keys) == 1000 and len(pairs) == 100
    assert {c.frame_id for c in pairs} <= machine, "a consensus pair is of a frame the machine was compared on"
    assert {c.stratum for c in history} == set(STRATA)
    assert all(c.policy_version == 1 or c.inclusion_prob == 1.0 for c in history), "π < 1 needs a shipping policy"
