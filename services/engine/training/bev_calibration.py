"""Choosing the 3D detector's score threshold, and calibrating its frame confidence to P(frame accepted).

Both on held-out frames of a seed that is neither trained nor scored on, against the driving3d
reference spec (:mod:`services.datasets.driving3d.qa_spec`). The score threshold is the one of
:data:`THRESHOLDS` under which most frames pass the spec (the operating point a QA team would pick;
nuScenes-style AP is lower with a higher threshold, as its precision-recall curve is cut short).
The frame confidence is calibrated as the 2D detector's (:mod:`services.engine.training.calibration`):
a one-feature logistic regression from the log-certainty of a frame's candidate peaks to whether the
frame passes the spec at that threshold.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

from services.datasets.driving3d.qa_spec import REFERENCE_SPEC
from services.engine.decode_bev import decode_bev
from services.engine.evaluate3d import compare_cuboids, cuboid_automation, cuboid_truth
from services.engine.frames import Frame, FrameSource
from services.engine.points import check_points, normalised, voxelise
from services.engine.results import AutomationResult
from services.engine.run import run_frames
from services.engine.runner import TorchRunner
from services.engine.spec import ModelSpec
from services.engine.training.calibration import with_calibration

THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def log_certainties(runner: TorchRunner, frames: Sequence[Frame], batch_size: int = 32) -> np.ndarray:
    spec, grid = runner.spec, runner.spec.grid
    assert grid is not None, "a detector3d spec has a grid"
    out: list[float] = []
    for start in range(0, len(frames), batch_size):
        clouds = [check_points(f) for f in frames[start : start + batch_size]]
        x = normalised(voxelise(clouds, grid, runner.device), spec.input).contiguous(memory_format=runner.memory_format)
        with torch.inference_mode():
            outputs = runner.module(x)
        out += [d.log_certainty for d in decode_bev(tuple(outputs), spec.decode, grid)]  # type: ignore[arg-type]
    return np.array(out)


def acceptance_by_threshold(runner: TorchRunner, frames: Sequence[Frame], source: FrameSource,
                            thresholds: Sequence[float] = THRESHOLDS) -> dict[float, np.ndarray]:
    """Whether each frame's cuboids scoring at least each threshold pass the reference spec (the runner's
    own threshold is at most the lowest)."""
    results = run_frames(runner, frames, batch_size=32).results
    doc = source.ground_truth()
    assert doc is not None, f"{source.name} has ground truth"
    manual = cuboid_truth(doc, source.name, [r.frame_id for r in results])
    out = {}
    for t in thresholds:
        kept = [_at_least(r, t) for r in results]
        automation = cuboid_automation(kept, manual, runner.spec.categories)
        out[t] = compare_cuboids(automation, manual, REFERENCE_SPEC).frames.accepted
    return out


def calibrate_bev(runner: TorchRunner, source: FrameSource) -> ModelSpec:
    """The runner's spec with the score threshold chosen and the confidence calibrated on ``source`` (swept once)."""
    frames = list(source)
    low = dataclasses.replace(runner.spec, decode=dataclasses.replace(runner.spec.decode,
                                                                      score_threshold=THRESHOLDS[0]))
    runner = TorchRunner(runner.module, low, runner.model_version, runner.device, runner.memory_format,
                         runtime=runner.runtime)
    accepted = acceptance_by_threshold(runner, frames, source)
    best = max(THRESHOLDS, key=lambda t: (float(accepted[t].mean()), -t))
    chosen = dataclasses.replace(low, decode=dataclasses.replace(low.decode, score_threshold=best))
    return with_calibration(chosen, log_certainties(runner, frames), accepted[best])


def _at_least(r: AutomationResult, threshold: float) -> AutomationResult:
    keep = r.scores >= threshold
    return dataclasses.replace(r, boxes=r.boxes[keep], category_ids=r.category_ids[keep], scores=r.scores[keep])
