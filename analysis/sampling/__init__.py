"""Sampling policies and the router: which frames go to people, with which probability π.

Decisions are deterministic hashes of (frame id, salt), so a replay of a
recorded stream reproduces the online sample exactly, and every decision
carries its π for the 1/π-weighted estimates downstream.
"""

from analysis.sampling.budget import BudgetCapped
from analysis.sampling.evidence import Evidence, StratumEvidence
from analysis.sampling.floor import AuditFloor
from analysis.sampling.hashing import drawn, unit_hash
from analysis.sampling.policies import ConfidenceWeighted, SamplingPolicy, SamplingState, Stratified, Uniform
from analysis.sampling.registry import build_policy, parse_params, policy_names, policy_params, register
from analysis.sampling.router import Decision, Route, Router, RouterState

__all__ = [
    "AuditFloor",
    "BudgetCapped",
    "ConfidenceWeighted",
    "Decision",
    "Evidence",
    "Route",
    "Router",
    "RouterState",
    "SamplingPolicy",
    "SamplingState",
    "Stratified",
    "StratumEvidence",
    "Uniform",
    "build_policy",
    "drawn",
    "parse_params",
    "policy_names",
    "policy_params",
    "register",
    "unit_hash",
]
