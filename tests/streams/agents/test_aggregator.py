"""The aggregator's folds (``services/loop/aggregation.py``): independent of batching, rebuilt exactly by a restart
that re-reads the topic, and carried over by their plain-data state."""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson
import pytest

from analysis.recommend import Recommendation
from services.loop.aggregate import fold_all
from services.loop.aggregation import Aggregation
from services.loop.config import LoopConfig
from services.loop.messages import ComparisonMessage
from tests.services.loop.records import comparison, random_comparisons

CFG = LoopConfig(window=50)
SEEDS = [0, 1, 4]  # with 1500 comparisons the recommender raises the rate under 0 and 1, not under 4
N = 1500


def summary(recs: list[Recommendation]) -> list[tuple[Any, ...]]:
    """What a recommendation publishes (its evidence holds NaN estimates, which never compare equal)."""
    return [(r.policy, r.automation_rate, r.action, r.reason, r.thresholds) for r in recs]


def feed(comparisons: list[ComparisonMessage], size: int) -> tuple[Aggregation, list[Recommendation]]:
    derived, recs = Aggregation(CFG), []
    for start in range(0, len(comparisons), size):
        recs += derived.add(comparisons[start:start + size])
    return derived, recs


def folds_of(derived: Aggregation) -> dict[str, dict[str, Any]]:
    return {s: f.to_dict() for s, f in derived.folds.items()}


@cache
def whole(seed: int) -> tuple[list[ComparisonMessage], Aggregation, list[Recommendation]]:
    """A stream of N comparisons fed in one batch (shared by tests: do not add to the Aggregation)."""
    comparisons = random_comparisons(seed, N)
    return comparisons, *feed(comparisons, N)


def test_the_generated_streams_move_the_recommender() -> None:
    """A sanity check of the test data: the recommender raises the automation rate on some of them."""
    raised = []
    for seed in SEEDS:
        comparisons, derived, recs = whole(seed)
        assert len(recs) == sum(c.kind == "machine" for c in comparisons) // CFG.window
        state = derived.recommending.recommender
        assert state is not None and state.updates >= len(recs)  # one update per weight bound
        assert derived.counted == N
        raised.append(any(r.action == "raise" for r in recs) and recs[-1].automation_rate > 0.0)
    assert any(raised) and not all(raised)


@pytest.mark.parametrize("seed", SEEDS)
def test_batching_does_not_matter(seed: int) -> None:
    comparisons, one, recs = whole(seed)
    assert folds_of(one) == {s: f.to_dict() for s, f in fold_all(comparisons).items()}
    for size in (1, 7, 149):
        other, other_recs = feed(comparisons, size)
        assert folds_of(other) == folds_of(one), size
        assert summary(other_recs) == summary(recs), size
        assert other.recommending.recommender == one.recommending.recommender, size
        assert other.recommending.window == one.recommending.window and other.counted == one.counted == len(comparisons)
        assert other.recommender == one.recommender


def test_the_recommender_steps_once_per_window_of_machine_comparisons() -> None:
    cfg = LoopConfig(window=3)
    derived = Aggregation(cfg)
    consensus = [comparison(f"p{i}", "consensus", inclusion_prob=0.1) for i in range(5)]
    machine = [comparison(f"m{i}", confidence=0.5 + i / 20) for i in range(7)]
    assert derived.add(consensus) == []
    assert derived.recommender is None
    assert len(derived.add(machine[:2])) == 0
    assert len(derived.add(machine[2:])) == 2  # the 3rd and the 6th machine comparison close a window
    assert [c.frame_id for c in derived.recommending.window] == ["m6"]
    state = derived.recommending.recommender
    assert state is not None and state.updates == 2
    assert state.human.n == 5 and state.machine.n == 6
    assert derived.recommender is not None
    assert derived.recommender.config.target == cfg.target and derived.recommender.config.alpha == cfg.alpha


def counted_once(comparisons: list[ComparisonMessage], seen: set[tuple[str, str]]) -> list[ComparisonMessage]:
    """The aggregator task's rule (inline in ``register``): a (frame, kind) seen before is dropped."""
    fresh = []
    for c in comparisons:
        if (c.frame_id, c.kind) not in seen:
            seen.add((c.frame_id, c.kind))
            fresh.append(c)
    return fresh


@pytest.mark.parametrize(("seed", "cut"), [(0, 1), (0, 901), (1, 333), (4, N)])
def test_a_restart_that_rereads_the_topic_reproduces_the_live_state(seed: int, cut: int) -> None:
    """Live: batches of 64, with the comparator replaying a third of the records after a crash. Restart: the
    topic read again from the beginning in the same order, in one go. Both must agree, and go on alike."""
    comparisons = whole(seed)[0]
    before, after = comparisons[:cut], comparisons[cut:]
    topic = before[: 2 * cut // 3] + before[cut // 3:]  # the middle third comes twice
    live, seen = Aggregation(CFG), set[tuple[str, str]]()
    for start in range(0, len(topic), 64):
        live.add(counted_once(topic[start:start + 64], seen))
    restarted = Aggregation(CFG)
    restarted.add(counted_once(topic, set()))
    assert folds_of(restarted) == folds_of(live)
    assert restarted.counted == live.counted == cut
    assert restarted.recommending.window == live.recommending.window
    assert restarted.recommending.recommender == live.recommending.recommender
    assert restarted.recommender == live.recommender
    assert summary(restarted.add(after)) == summary(live.add(after))
    assert restarted.recommending.recommender == live.recommending.recommender


@pytest.mark.parametrize(("seed", "cut"), [(0, 1), (0, 777), (1, 1000), (4, N - 1)])
def test_the_folds_state_as_plain_json_carries_on_exactly(seed: int, cut: int) -> None:
    """A checkpoint's view: the state written as JSON after ``cut`` comparisons and read back goes on as if
    nothing had happened (same folds, recommender state and recommendations)."""
    comparisons, whole_run, recs = whole(seed)
    first = Aggregation(CFG)
    before = first.add(comparisons[:cut])
    doc = orjson.loads(orjson.dumps(first.to_dict()))  # the checkpoint's codec (NaN and inf as strings)
    restored = Aggregation.from_dict(CFG, doc)
    assert restored.to_dict() == first.to_dict()
    after = restored.add(comparisons[cut:])
    assert summary(before + after) == summary(recs)
    assert folds_of(restored) == folds_of(whole_run)
    assert restored.recommending == whole_run.recommending and restored.counted == N
