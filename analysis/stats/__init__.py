"""Estimators and intervals: proportions, weighted ratios, inter-rater reliability."""

from analysis.stats.calibration import Calibration, expected_calibration_error
from analysis.stats.proportions import Interval, clopper_pearson_interval, wilson_interval
from analysis.stats.ratio import RatioState, ratio_interval
from analysis.stats.reliability import cohen_kappa, krippendorff_alpha

__all__ = [
    "Calibration",
    "Interval",
    "RatioState",
    "clopper_pearson_interval",
    "cohen_kappa",
    "expected_calibration_error",
    "krippendorff_alpha",
    "ratio_interval",
    "wilson_interval",
]
