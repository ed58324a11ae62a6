"""The threshold recommender: how much automation the evidence allows, per stratum, and why.

A Learn-then-Test fixed sequence over candidate confidence thresholds, each
tested with an anytime-valid betting test on the 1/π-weighted shadow sample;
guardrails (max step, hysteresis, audit floor) and a CUSUM e-detector that
steps the policy down on drift.
"""

from analysis.recommend.betting import CandidateState, WealthState, passed_prefix
from analysis.recommend.config import DEFAULT_CANDIDATES, GRID_RATES, RecommenderConfig, candidates_at_rates
from analysis.recommend.detector import Alarm, DetectorState, DriftDetector
from analysis.recommend.guardrails import Action, Guardrails, Hysteresis, MaxStep, StepDown
from analysis.recommend.recommender import Recommender
from analysis.recommend.results import Agreement, CandidateTest, DriftEvidence, Recommendation, StratumEvidence
from analysis.recommend.state import RecommenderState, StratumState

__all__ = [
    "DEFAULT_CANDIDATES",
    "GRID_RATES",
    "Action",
    "Agreement",
    "Alarm",
    "CandidateState",
    "CandidateTest",
    "DetectorState",
    "DriftDetector",
    "DriftEvidence",
    "Guardrails",
    "Hysteresis",
    "MaxStep",
    "Recommendation",
    "Recommender",
    "RecommenderConfig",
    "RecommenderState",
    "StepDown",
    "StratumEvidence",
    "StratumState",
    "WealthState",
    "candidates_at_rates",
    "passed_prefix",
]
