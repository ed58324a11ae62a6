"""The independent references the tracking metrics are checked against (py-motmetrics 1.4.0, TrackEval 1.3.0),
driven as ``benchmarks/tracking_references.py`` documents: one module for the tests and the benchmark."""

from benchmarks.tracking_references import (
    HOTA,
    HOTA_NAMES,
    MOTMETRICS_NAMES,
    frames,
    motmetrics_accumulator,
    motmetrics_summary,
    trackeval_data,
    trackeval_hota,
)

__all__ = ["HOTA", "HOTA_NAMES", "MOTMETRICS_NAMES", "frames", "motmetrics_accumulator", "motmetrics_summary",
           "trackeval_data", "trackeval_hota"]
