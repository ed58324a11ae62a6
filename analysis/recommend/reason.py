"""One sentence per decision, carrying its evidence: n, estimate, bound, p-value, which τ passed."""

from __future__ import annotations

import math

from analysis.recommend.results import CandidateTest, StratumEvidence


def tau_text(tau: float) -> str:
    return "none" if math.isinf(tau) else f"{tau:.4g}"


def _rate(rate: float) -> str:
    return f"{100.0 * rate:.1f}%"


def _test(test: CandidateTest, alpha: float) -> str:
    if test.n == 0:
        return f"τ {tau_text(test.threshold)}, which has no compared frames yet"
    verdict = "≤" if test.passed else ">"
    return (f"τ {tau_text(test.threshold)}: n = {test.n}, weighted acceptance {test.estimate:.3f} "
            f"(lower bound {test.lower:.3f}), anytime-valid p = {test.p_value:.2g} {verdict} α = {alpha:.3g}")


def _move(ev: StratumEvidence) -> str:
    return (f"τ {tau_text(ev.previous)} → {tau_text(ev.threshold)} "
            f"(automation {_rate(ev.previous_rate)} → {_rate(ev.automation_rate)})")


def _next_failure(ev: StratumEvidence) -> str:
    failed = [t for t in ev.tested if not t.passed]
    if not failed:
        return "every candidate passed"
    return f"the sequence stopped at {_test(failed[0], ev.alpha)}"


def sentence(ev: StratumEvidence, target: float, min_gain: float, max_step: float) -> str:
    """The reason for ``ev.action`` in one sentence."""
    if ev.action == "step_down" and ev.drift is not None:
        d = ev.drift
        return (f"step down: {_move(ev)} because acceptance of audited shipped frames drifted below the target "
                f"{target:g}: the CUSUM e-detector reached {d.statistic:.3g} ≥ {d.threshold:g} after {d.n} frames "
                f"(weighted acceptance {d.estimate:.3f}); evidence restarts from zero")
    chosen = ev.chosen
    if ev.action == "lower":
        return (f"lower: {_move(ev)} because τ {tau_text(ev.previous)} is not certified in this epoch; "
                f"{_next_failure(ev)}")
    if ev.action == "raise" and chosen is not None:
        capped = "" if ev.certified == ev.threshold else (
            f"; the max step of {_rate(max_step)} holds back the certified τ {tau_text(ev.certified)}")
        return f"raise: {_move(ev)} because the fixed sequence passed {_test(chosen, ev.alpha)}{capped}"
    return _hold(ev, min_gain, max_step)


def _hold(ev: StratumEvidence, min_gain: float, max_step: float) -> str:
    here = f"hold: τ {tau_text(ev.threshold)} (automation {_rate(ev.automation_rate)})"
    lower = [t for t in ev.tested if t.passed and t.threshold < ev.threshold]
    if not lower:
        return f"{here}; no lower threshold is certified: {_next_failure(ev)}"
    within = [t for t in lower if t.automation_rate - ev.automation_rate <= max_step + 1e-12]
    if within:
        gain = within[-1].automation_rate - ev.automation_rate
        return (f"{here}; the certified τ {tau_text(within[-1].threshold)} would add {_rate(gain)} automation, "
                f"below the {_rate(min_gain)} worth a change")
    return (f"{here}; the nearest certified τ {tau_text(lower[0].threshold)} would add "
            f"{_rate(lower[0].automation_rate - ev.automation_rate)}, more than the max step of {_rate(max_step)}")
