"""What a replay of clips adds to ``summary.json``: its clips and frames, and which step of the chain limits it.

``steps.estimate`` is what the shadow loop knows: the step verdicts of the clips people annotated, each
weighted by 1/π (:mod:`services.loop.step_shares`). ``steps.truth``, known only in replay, is the same over
every clip compared with person 1 (π = 1), so a reader sees the estimate beside what it estimates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.loop.step_shares import StepShares, step_shares

if TYPE_CHECKING:
    from services.replay.clip_data import ClipReplayData
    from services.replay.loop import LoopRun

ESTIMATE_METHOD = "compared clips, 1/π-weighted (Hájek); shares of the final errors weigh each error by its clip's 1/π"


def clip_summary(doc: dict[str, Any], data: ClipReplayData, run: LoopRun) -> dict[str, Any]:
    """``doc`` (a replay's summary, counted in clips) with the clips' frames and the per-step section."""
    return {**doc, "frames": data.frames, "unit": "clip", "clips": len(data.messages),
            "steps": steps_section(data, run)}


def steps_section(data: ClipReplayData, run: LoopRun) -> dict[str, Any]:
    estimate, truth = audited_shares(run), true_shares(data)
    return {"names": [s.name for s in truth.steps],
            "estimate": {**estimate.to_dict(), "method": ESTIMATE_METHOD},
            "truth": {**truth.to_dict(), "method": "every clip against person 1 (known only in replay)"}}


def audited_shares(run: LoopRun) -> StepShares:
    """The step shares over the clips the loop compared, weighted by 1/π."""
    return step_shares((run.steps[o.frame_id], o.weight) for o in run.observations if o.frame_id in run.steps)


def true_shares(data: ClipReplayData) -> StepShares:
    """The step shares over every clip against person 1."""
    return step_shares((c.steps, 1.0) for c in data.machine_vs_people if c.steps)
