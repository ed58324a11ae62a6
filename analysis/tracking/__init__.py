"""Tracking metrics for video clips: CLEAR-MOT, ID measures and HOTA, and the acceptance spec that judges them.

Pure: numpy and scipy only. The numbers equal py-motmetrics 1.4.0 (CLEAR-MOT, IDF1) and TrackEval (HOTA).
"""

from analysis.tracking.hota import HotaMetrics
from analysis.tracking.identity import IdentityMetrics
from analysis.tracking.metrics import ClearMetrics, TrackMetrics, track_metrics
from analysis.tracking.model import Tracks
from analysis.tracking.spec import TrackAcceptanceSpec

__all__ = ["ClearMetrics", "HotaMetrics", "IdentityMetrics", "TrackAcceptanceSpec", "TrackMetrics", "Tracks",
           "track_metrics"]
