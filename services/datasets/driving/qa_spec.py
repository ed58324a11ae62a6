"""The reference QA spec for the synthetic driving scenes.

Objects under 12 px tall are ignored on both sides (people cannot label them
reliably either); one missed and one extra object are tolerated per frame. The
detector's confidence is calibrated against it and the replay judges with it.
"""

from __future__ import annotations

from analysis.agreement import QualitySpec

DRIVING_QA = {"min_height": 12, "max_missed": 1, "max_extra": 1}
REFERENCE_SPEC = QualitySpec.from_mapping(DRIVING_QA, "driving reference spec")
