"""The recommender's state to plain JSON data and back, for changelog-backed tables.

JSON has no infinity, so thresholds of "nothing ships" travel as ``None``.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from analysis.recommend.betting import CandidateState, WealthState
from analysis.recommend.detector import DetectorState
from analysis.recommend.state import RecommenderState, StratumState
from analysis.stats.ratio import RatioState


def state_to_dict(state: RecommenderState) -> dict[str, Any]:
    return {
        "strata": {name: _stratum_to_dict(s) for name, s in state.strata.items()},
        "machine": asdict(state.machine), "human": asdict(state.human),
        "version": state.version, "updates": state.updates,
    }


def state_from_dict(doc: dict[str, Any]) -> RecommenderState:
    return RecommenderState(
        strata={name: _stratum_from_dict(s) for name, s in doc["strata"].items()},
        machine=RatioState(**doc["machine"]), human=RatioState(**doc["human"]),
        version=doc["version"], updates=doc["updates"],
    )


def _stratum_to_dict(s: StratumState) -> dict[str, Any]:
    return {
        "threshold": None if math.isinf(s.threshold) else s.threshold,
        "candidates": [_candidate_to_dict(c) for c in s.candidates],
        "weight_above": list(s.weight_above), "weight_total": s.weight_total,
        "detector": {"log_cusum": list(s.detector.log_cusum), "statistic": s.detector.statistic,
                     "ratio": asdict(s.detector.ratio)},
        "epoch": s.epoch,
    }


def _stratum_from_dict(doc: dict[str, Any]) -> StratumState:
    d = doc["detector"]
    return StratumState(
        threshold=math.inf if doc["threshold"] is None else doc["threshold"],
        candidates=tuple(_candidate_from_dict(c) for c in doc["candidates"]),
        weight_above=tuple(doc["weight_above"]), weight_total=doc["weight_total"],
        detector=DetectorState(tuple(d["log_cusum"]), d["statistic"], RatioState(**d["ratio"])),
        epoch=doc["epoch"],
    )


def _candidate_to_dict(c: CandidateState) -> dict[str, Any]:
    w = c.wealth
    return {"wealth": {"log_wealth": list(w.log_wealth), "max_log_wealth": w.max_log_wealth, "n": w.n,
                       "s1": w.s1, "s2": w.s2}, "ratio": asdict(c.ratio)}


def _candidate_from_dict(doc: dict[str, Any]) -> CandidateState:
    w = doc["wealth"]
    wealth = WealthState(tuple(w["log_wealth"]), w["max_log_wealth"], w["n"], w["s1"], w["s2"])
    return CandidateState(wealth, RatioState(**doc["ratio"]))
