"""The threshold recommender: Learn-then-Test's fixed sequence on anytime-valid weighted tests, with guardrails.

``update(state, observations)`` folds a batch of compared frames into the
running state and returns the recommendation; ``calculate`` does one batch
from the start. Per stratum, candidate thresholds are tested from the most
conservative down, each null "acceptance above τ < target" with the betting
test of ``betting.py`` at α / (number of strata); the lowest threshold rejected
before the first non-rejection is certified, and the guardrails decide how far
the policy moves towards it. A drift alarm on audited shipped frames steps the
stratum down to automation 0 and restarts its evidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from analysis.exceptions import AnalysisFailed, ShadowQAError
from analysis.observations import Observation, Observations
from analysis.policy.automation import ALL, AutomationPolicy
from analysis.recommend.betting import CandidateState, bet_cap, fold_candidate, passed_prefix
from analysis.recommend.config import RecommenderConfig
from analysis.recommend.detector import DetectorState
from analysis.recommend.exceptions import InvalidConfig, InvalidObservations
from analysis.recommend.guardrails import Action
from analysis.recommend.reason import sentence
from analysis.recommend.results import (
    Agreement,
    CandidateTest,
    DriftEvidence,
    Recommendation,
    StratumEvidence,
    overall_action,
)
from analysis.recommend.state import RecommenderState, StratumState
from analysis.stats.ratio import RatioState

Batch = Observations | Sequence[Observation]


@dataclass(frozen=True)
class Recommender:
    """Recommends a confidence threshold per stratum; a pure value, its state passed in and out."""

    config: RecommenderConfig = field(default_factory=RecommenderConfig)

    def initial(self, policy: AutomationPolicy | None = None) -> RecommenderState:
        """The state before any evidence, with the thresholds of ``policy`` in force (default: nothing ships)."""
        k = len(self.config.candidates)
        strata = {}
        for stratum in self.config.strata:
            tau = policy.threshold(stratum) if policy is not None else math.inf
            if not (math.isinf(tau) and tau > 0) and tau not in self.config.candidates:
                raise InvalidConfig("recommender", f"policy threshold of {stratum}",
                                    f"τ {tau} is not one of the candidate thresholds")
            strata[stratum] = StratumState(threshold=tau, candidates=(CandidateState(),) * k,
                                           weight_above=(0.0,) * k)
        return RecommenderState(strata=strata, version=policy.version if policy is not None else 0)

    def update(
        self, state: RecommenderState, observations: Batch, consensus: Batch = (), *, max_weight: float | None = None,
    ) -> tuple[RecommenderState, Recommendation]:
        """Fold ``observations`` (in arrival order) and ``consensus`` pairs; the new state and recommendation.

        ``max_weight`` bounds 1/π of every frame in the batch and must be known
        before the frames were routed (``Router.max_weight``: 1 while nothing
        ships); by default 1 / audit floor.
        """
        obs, pairs = _columns(observations), _columns(consensus)
        bound = self.config.max_weight if max_weight is None else max_weight
        if not bound >= 1.0:
            raise InvalidConfig("recommender", "max_weight", f"weights 1/π are at least 1, got a bound of {bound}")
        try:
            return self._update(state, obs, pairs, bound)
        except ShadowQAError:
            raise
        except Exception as exc:  # an unexpected failure: say what we were doing
            raise AnalysisFailed(f"recommending thresholds from {len(obs)} observations: {exc}") from exc

    def calculate(self, observations: Batch, consensus: Batch = (), *, policy: AutomationPolicy | None = None,
                  max_weight: float | None = None) -> Recommendation:
        """The recommendation from one batch, starting from ``policy`` (default: nothing ships)."""
        return self.update(self.initial(policy), observations, consensus, max_weight=max_weight)[1]

    def _update(
        self, state: RecommenderState, obs: Observations, pairs: Observations, max_weight: float,
    ) -> tuple[RecommenderState, Recommendation]:
        _check(obs, "observations", max_weight, need_confidence=True)
        _check(pairs, "consensus", math.inf, need_confidence=False)
        keys = np.array([s if s in state.strata else ALL for s in obs.stratum], dtype=object)
        strata, evidence = {}, {}
        for stratum, current in state.strata.items():
            strata[stratum], evidence[stratum] = self._stratum(current, stratum, obs.select(keys == stratum),
                                                               max_weight)
        changed = any(strata[s].threshold != state.strata[s].threshold for s in strata)
        new = RecommenderState(
            strata=strata, machine=_add(state.machine, obs), human=_add(state.human, pairs),
            version=state.version + int(changed), updates=state.updates + 1,
        )
        return new, self._recommendation(new, evidence)

    def _stratum(
        self, st: StratumState, stratum: str, obs: Observations, max_weight: float,
    ) -> tuple[StratumState, StratumEvidence]:
        cfg = self.config
        taus = np.asarray(cfg.candidates)
        above = obs.confidence[None, :] >= taus[:, None]
        weight = obs.weight
        st = replace(st, weight_above=tuple(np.add(st.weight_above, above @ weight).tolist()),
                     weight_total=st.weight_total + float(weight.sum()))
        monitored = np.flatnonzero(obs.confidence >= st.threshold)
        detector, alarm = cfg.detector.fold(st.detector, obs.accepted[monitored], weight[monitored],
                                            cfg.target, max_weight)
        start, drift = 0, None
        if alarm is not None:
            start = int(monitored[alarm.index]) + 1
            drift = DriftEvidence(math.exp(alarm.state.statistic), cfg.detector.threshold, alarm.state.n,
                                  alarm.state.ratio.estimate)
            st = replace(st, candidates=(CandidateState(),) * len(taus), detector=DetectorState(), epoch=st.epoch + 1)
        else:
            st = replace(st, detector=detector)
        cap = bet_cap(cfg.target, max_weight)
        folded = tuple(fold_candidate(c, obs.accepted[start:][mask[start:]], weight[start:][mask[start:]],
                                      cfg.target, cap) for c, mask in zip(st.candidates, above, strict=True))
        st = replace(st, candidates=folded)
        return self._decide(st, stratum, drift)

    def _decide(
        self, st: StratumState, stratum: str, drift: DriftEvidence | None,
    ) -> tuple[StratumState, StratumEvidence]:
        cfg, rails = self.config, self.config.guardrails
        taus, rates = list(cfg.candidates), st.rates()
        passed = passed_prefix(st.candidates, cfg.stratum_alpha)
        previous = st.threshold
        previous_rate = 0.0 if math.isinf(previous) else rates[taus.index(previous)]
        action: Action
        if drift is not None:
            action, tau = "step_down", rails.step_down.threshold(True, previous)
        else:
            action, tau = rails.move(taus, rates, passed, previous, previous_rate)
        tested = tuple(self._candidate_test(st, k, passed, rates[k]) for k in range(min(passed + 1, len(taus))))
        evidence = StratumEvidence(
            stratum=stratum, action=action, threshold=tau, previous=previous,
            certified=taus[passed - 1] if passed else math.inf,
            automation_rate=0.0 if math.isinf(tau) else rates[taus.index(tau)], previous_rate=previous_rate,
            alpha=cfg.stratum_alpha, tested=tested, drift=drift, reason="",
        )
        reason = sentence(evidence, cfg.target, rails.hysteresis.min_gain, rails.max_step.points)
        return replace(st, threshold=tau), replace(evidence, reason=reason)

    def _candidate_test(self, st: StratumState, k: int, passed: int, rate: float) -> CandidateTest:
        cand, alpha = st.candidates[k], self.config.stratum_alpha
        bound = Agreement.of(cand.ratio, 1.0 - 2.0 * alpha).lower  # one-sided at 1 − α
        return CandidateTest(threshold=self.config.candidates[k], n=cand.wealth.n, estimate=cand.ratio.estimate,
                             lower=bound, p_value=cand.wealth.p_value, passed=k < passed,
                             automation_rate=rate)

    def _recommendation(self, state: RecommenderState, evidence: dict[str, StratumEvidence]) -> Recommendation:
        cfg = self.config
        thresholds = {s: e.threshold for s, e in evidence.items()}
        total = sum(state.strata[s].weight_total for s in evidence)
        rate = sum(e.automation_rate * state.strata[s].weight_total for s, e in evidence.items()) / total \
            if total > 0 else 0.0
        confidence = 1.0 - cfg.alpha
        return Recommendation(
            policy=AutomationPolicy(default=thresholds[ALL], version=state.version,
                                    thresholds={s: t for s, t in thresholds.items() if s != ALL}),
            automation_rate=rate, action=overall_action([e.action for e in evidence.values()]),
            reason=_joined(evidence), strata=evidence, machine_agreement=Agreement.of(state.machine, confidence),
            human_floor=Agreement.of(state.human, confidence) if state.human.n else None,
            target=cfg.target, alpha=cfg.alpha,
        )


def _columns(batch: Batch) -> Observations:
    return batch if isinstance(batch, Observations) else Observations.of(list(batch))


def _check(obs: Observations, source: str, max_weight: float, *, need_confidence: bool) -> None:
    """Every frame needs a confidence and a weight within the declared bound, or the test is not valid."""
    bad = np.flatnonzero(~np.isfinite(obs.confidence)) if need_confidence else np.array([], dtype=np.int64)
    if bad.size:
        raise InvalidObservations(source, f"record {bad[0] + 1} (frame {obs.frame_id[bad[0]]})",
                                  "confidence is missing; the recommender places each frame by its confidence")
    heavy = np.flatnonzero(obs.weight > max_weight * (1.0 + 1e-9))
    if heavy.size:
        i = int(heavy[0])
        raise InvalidObservations(source, f"record {i + 1} (frame {obs.frame_id[i]})",
                                  f"inclusion_prob {obs.inclusion_prob[i]:g} is below the audit floor "
                                  f"{1.0 / max_weight:g} the test was promised")


def _add(ratio: RatioState, obs: Observations) -> RatioState:
    return ratio.add(obs.accepted.astype(np.float64), 1.0, obs.weight) if len(obs) else ratio


def _joined(evidence: dict[str, StratumEvidence]) -> str:
    if len(evidence) == 1:
        return next(iter(evidence.values())).reason
    return "; ".join(f"{s}: {e.reason}" for s, e in evidence.items())
