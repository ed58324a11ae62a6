"""Division as the reference implementations do it: numpy's, so 0/0 is NaN and x/0 is ±inf, without warnings."""

from __future__ import annotations

import numpy as np


def quiet_divide(a: float, b: float) -> float:
    """``a / b`` in float64 arithmetic; motmetrics' ``quiet_divide``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.true_divide(np.float64(a), np.float64(b)))
