"""Calibrating the detector's frame confidence to P(frame accepted) on held-out frames.

The raw signal is the log-certainty Σ log max(p, 1 − p) over a frame's candidate
peaks; a one-feature logistic regression maps it to the probability that the
frame passes the reference driving QA spec against ground truth. The router
samples and the recommender thresholds on this number, so it should mean what
it says; the spec a customer uses may differ, which is why thresholds are
certified on shadow data and never read off this calibration.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from analysis.annotations import parse_automation, parse_ground_truth
from analysis.compare import Comparator, CompareOptions
from services.datasets.driving.qa_spec import REFERENCE_SPEC
from services.engine.decode import decode_centernet
from services.engine.frames import FrameSource
from services.engine.preprocess import to_batch
from services.engine.results import to_coco_results
from services.engine.run import run_frames
from services.engine.runner import TorchRunner
from services.engine.spec import ModelSpec


def log_certainties(runner: TorchRunner, source: FrameSource, batch_size: int = 32) -> np.ndarray:
    out: list[float] = []
    frames = list(source)
    for start in range(0, len(frames), batch_size):
        images = [f.image for f in frames[start : start + batch_size] if f.image is not None]
        batch = to_batch(images, runner.spec.input, runner.device, runner.memory_format)
        with torch.inference_mode():
            outputs = runner.module(batch.tensor)
        out.extend(d.log_certainty for d in decode_centernet(tuple(outputs), runner.spec.decode))  # type: ignore[arg-type]
    return np.array(out)


def accepted(runner: TorchRunner, source: FrameSource) -> np.ndarray:
    """Whether each frame's detections pass the reference spec against the ground truth."""
    manual = parse_ground_truth(source.ground_truth(), source.name)
    results = run_frames(runner, source, batch_size=32).results
    automation = parse_automation(to_coco_results(results), "calibration run", manual)
    return Comparator(CompareOptions(spec=REFERENCE_SPEC)).calculate(automation, manual).frames.accepted


def calibrate(runner: TorchRunner, source: FrameSource) -> ModelSpec:
    """The runner's spec with the logistic confidence calibration fitted on ``source``."""
    return with_calibration(runner.spec, log_certainties(runner, source), accepted(runner, source))


def with_calibration(spec: ModelSpec, log_certainty: np.ndarray, accepted: np.ndarray) -> ModelSpec:
    """``spec`` with frame confidence sigmoid(slope · log-certainty + bias) fitted to the frames' acceptance."""
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=1e6).fit(log_certainty[:, None], accepted)
    decode = dataclasses.replace(spec.decode, confidence_slope=round(float(fit.coef_[0, 0]), 6),
                                 confidence_bias=round(float(fit.intercept_[0]), 6))
    return dataclasses.replace(spec, decode=decode)
