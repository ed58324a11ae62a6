"""3D detection metrics on cuboids: nuScenes-style AP by centre distance and true-positive errors."""

from analysis.detection3d.average_precision import (
    NUSCENES_DISTANCES,
    TP_DISTANCE,
    ClassScores,
    Detection3DResult,
    class_curves,
    nuscenes_detection,
)
from analysis.detection3d.curves import MetricCurves, calc_ap, calc_tp

__all__ = [
    "NUSCENES_DISTANCES",
    "TP_DISTANCE",
    "ClassScores",
    "Detection3DResult",
    "MetricCurves",
    "calc_ap",
    "calc_tp",
    "class_curves",
    "nuscenes_detection",
]
