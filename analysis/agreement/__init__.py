"""Per-frame agreement, frame acceptance under a quality spec, and aggregation."""

from analysis.agreement.frames import FrameAgreement
from analysis.agreement.spec import ClassRule, QualitySpec
from analysis.agreement.summary import Rate, StratumSummary

__all__ = ["ClassRule", "FrameAgreement", "QualitySpec", "Rate", "StratumSummary"]
