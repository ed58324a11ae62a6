"""The JSON document of a gate decision, as `shadowqa gate --json` prints and `GET /v1/gates/{stratum}` returns it."""

from __future__ import annotations

import math
from typing import Any

from analysis.gate import GateResult

SCHEMA_VERSION = 1


def gate_document(result: GateResult, model_version: str | None = None) -> dict[str, Any]:
    """The JSON answer: ``decision``, the numbers behind it and the reason."""
    return {
        "schema_version": SCHEMA_VERSION, "decision": result.decision, "estimate": number(result.estimate),
        "lower": result.lower, "upper": result.upper, "n": result.n, "target": result.target,
        "alpha": result.alpha, "method": result.method, "rule": result.rule, "max_weight": result.max_weight,
        "stratum": result.stratum, "model_version": model_version, "failing_strata": list(result.failing_strata),
        "reason": result.reason,
    }


def number(value: float) -> float | None:
    """JSON has no NaN: an estimate of no frames is null."""
    return None if math.isnan(value) else value
