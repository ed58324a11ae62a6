"""Messages of the decision side: ``comparisons``, ``agreement-stats``, ``recommendations``, ``policies``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from analysis.gate import Decision
from analysis.policy.automation import ALL
from analysis.recommend.guardrails import Action
from services.loop.messages.clips import ClipTracking, StepVerdict, clip_field
from services.loop.messages.fields import (
    Count,
    FrameId,
    InclusionProb,
    Message,
    OpenUnit,
    Text,
    Threshold,
    Time,
    Unit,
    Version,
)


class ComparisonMessage(Message):
    """One compared frame: machine vs copy 1 (``machine``) or copy 2 vs copy 1 (``consensus``).

    Its fields include those of a comparisons file line (``services/io/comparisons.py``),
    so a snapshot of the topic is a file the gate and the recommender read.
    """

    KIND = "comparisons"

    frame_id: FrameId
    kind: Literal["machine", "consensus"]
    accepted: bool
    inclusion_prob: InclusionProb
    stratum: str = ALL
    confidence: Unit | None
    model_version: str
    time: Time
    tp: Count
    fp: Count
    fn: Count
    mean_iou: Unit | None
    policy_version: Version = 0  # the policy the frame was routed under (bounds its weight 1/π)
    tracking: ClipTracking | None = clip_field()  # a clip's comparison: its tracking figures
    steps: list[StepVerdict] | None = clip_field()  # a clip's machine comparison: each step of the chain


class HumanFloor(BaseModel):
    """Human-vs-human acceptance from consensus pairs, the floor the machine is read against."""

    model_config = Message.model_config

    estimate: Unit | None
    lower: Unit
    upper: Unit
    n: Count


class AgreementStats(Message):
    """The aggregator's running estimate of a stratum's acceptance, with its bounds and the gate's decision."""

    KIND = "agreement-stats"

    stratum: Text
    model_version: str
    n: Count
    estimate: Unit | None
    lower: Unit
    upper: Unit
    decision: Decision
    target: OpenUnit
    alpha: OpenUnit
    human_floor: HumanFloor | None
    time: Time


class RecommendationMessage(Message):
    """The recommender's thresholds per stratum (null: nothing ships), with its action and one-sentence reason."""

    KIND = "recommendations"

    stratum: Text
    thresholds: dict[str, Threshold | None]
    automation_rate: Unit
    action: Action
    reason: str
    policy_version: Version
    time: Time


class EvidenceEntry(BaseModel):
    """One stratum's audited machine comparisons and their 1/π-weighted acceptance (null while n is 0)."""

    model_config = Message.model_config

    n: Count
    acceptance: Unit | None


class PolicyMessage(Message):
    """The automation policy in force: τ per stratum and the default (null: automation rate 0).

    ``pinned`` names who pinned each pinned stratum (``*``: the default); ``evidence`` is the per-stratum
    evidence when it was published, for sampling policies that learn (Neyman allocation). The aggregator
    publishes a record whenever the version changes, and one with the same version and fresh evidence after
    every recommender step."""

    KIND = "policies"

    version: Version
    default: Threshold | None
    thresholds: dict[str, Threshold | None]
    applied_by: Text
    reason: str
    time: Time
    pinned: dict[str, Text] = Field(default_factory=dict)
    evidence: dict[str, EvidenceEntry] = Field(default_factory=dict)
