"""The errors of compared clips, by the chain step that introduced them: the aggregator's counters and the run
summary's shares agree, and a frame's comparison or a consensus pair counts nothing."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY

from services.loop.messages import ComparisonMessage
from services.loop.step_shares import of_comparisons as step_shares
from streams import metrics
from tests.services.loop.messages.samples import sample

TRACKING = {"frames": 10, "frames_accepted": 9, "mota": 0.8, "motp": 0.7, "idf1": 0.9, "hota": 0.7,
            "id_switches": 1, "fragmentations": 0}


def _verdict(name: str, misses: int, fps: int, switches: int) -> dict[str, Any]:
    return {"name": name, "accepted": True, "has_ids": name != "detect", "objects": 20, "predictions": 20,
            "matched": 15, "switches": 0, "fragmentations": 0, "idtp": 15, "attributed_misses": misses,
            "attributed_false_positives": fps, "attributed_switches": switches}


def _clip(frame_id: str, *steps: tuple[str, int, int, int], kind: str = "machine") -> ComparisonMessage:
    return ComparisonMessage.model_validate(sample(
        "comparisons", frame_id=frame_id, kind=kind, tracking=TRACKING,
        steps=[_verdict(*s) for s in steps] if kind == "machine" else None))


def _value(step: str, error: str) -> float:
    return REGISTRY.get_sample_value("shadowqa_step_errors_attributed_total", {"step": step, "error": error}) or 0.0


def test_attributed_errors_are_counted_per_step_and_kind_and_shared_in_the_summary() -> None:
    clips = [_clip("clip-1", ("detect", 4, 2, 0), ("track", 0, 0, 1), ("post", 1, 0, 0)),
             _clip("clip-2", ("detect", 2, 0, 0), ("track", 1, 0, 0), ("post", 0, 1, 0)),
             _clip("clip-3", kind="consensus"), ComparisonMessage.model_validate(sample("comparisons"))]
    before = {(s, e): _value(s, e) for s in ("detect", "track", "post")
              for e in ("misses", "false_positives", "switches")}
    compared = REGISTRY.get_sample_value("shadowqa_clips_compared_total") or 0.0
    metrics.attributed(clips)
    assert {k: _value(*k) - v for k, v in before.items() if _value(*k) != v} == {
        ("detect", "misses"): 6, ("detect", "false_positives"): 2, ("track", "misses"): 1, ("track", "switches"): 1,
        ("post", "misses"): 1, ("post", "false_positives"): 1}
    assert (REGISTRY.get_sample_value("shadowqa_clips_compared_total") or 0.0) - compared == 2
    shares = step_shares(clips)
    assert shares.clips == 2
    assert [(s.name, s.attributed) for s in shares.steps] == [("detect", 8), ("track", 2), ("post", 2)]
    assert [s.weighted_share for s in shares.steps] == pytest.approx([8 / 12, 2 / 12, 2 / 12])
    assert "detect 66.7% (8)" in shares.line()


def test_no_clip_no_share() -> None:
    shares = step_shares([ComparisonMessage.model_validate(sample("comparisons"))])
    assert (shares.clips, shares.steps) == (0, ())
