"""The anytime-valid rollout gate: pass, fail or inconclusive on acceptance, with its evidence.

:mod:`~analysis.gate.betting` holds the betting capital processes under 1/π weights,
:mod:`~analysis.gate.sequences` the confidence sequences they give as a fold,
:mod:`~analysis.gate.gate` the rule and :mod:`~analysis.gate.evidence` what it answers;
:mod:`~analysis.gate.departure` says why an estimate may lie outside the band (imported
from there: it brings the recommender's drift detector, and scipy with it).
"""

from analysis.gate.evidence import Decision, FirstDecisions, GateResult, GateTrace
from analysis.gate.gate import METHODS, Gate, GateState
from analysis.gate.sequences import BettingSequence, SequenceState, SequenceTrace

__all__ = [
    "METHODS",
    "BettingSequence",
    "Decision",
    "FirstDecisions",
    "Gate",
    "GateResult",
    "GateState",
    "GateTrace",
    "SequenceState",
    "SequenceTrace",
]
