"""Calibration of confidence scores: does a stated 0.9 come true 90% of the time?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Calibration:
    """Expected calibration error over equal-width bins, and the bins themselves."""

    ece: float
    bin_confidence: tuple[float, ...]
    bin_accuracy: tuple[float, ...]
    bin_count: tuple[int, ...]


def expected_calibration_error(
    confidence: npt.ArrayLike, correct: npt.ArrayLike, bins: int = 15
) -> Calibration:
    """ECE (Guo et al., 2017): count-weighted mean |accuracy - confidence| over ``bins``
    equal-width confidence bins (right-closed, the first also containing 0)."""
    conf = np.asarray(confidence, dtype=np.float64)
    hit = np.asarray(correct, dtype=np.float64)
    which = np.clip(np.ceil(conf * bins).astype(np.int64) - 1, 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    conf_sum = np.bincount(which, weights=conf, minlength=bins)
    hit_sum = np.bincount(which, weights=hit, minlength=bins)
    used = count > 0
    mean_conf = conf_sum[used] / count[used]
    accuracy = hit_sum[used] / count[used]
    ece = float(np.sum(count[used] * np.abs(accuracy - mean_conf)) / max(1, len(conf)))
    return Calibration(ece, tuple(mean_conf.tolist()), tuple(accuracy.tolist()), tuple(count[used].tolist()))
