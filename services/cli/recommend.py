"""``shadowqa recommend``: the confidence threshold the shadow evidence allows, with its reason.

Reads compared frames (JSON Lines, ``services/io/comparisons.py``), runs the
recommender once from automation 0 and prints the recommendation as text or
JSON. A bad line is exit 2 naming the file and line; an observation the test
cannot take (no confidence, π below the audit floor) names the record.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import TYPE_CHECKING, Any

from analysis.exceptions import InvalidInput
from analysis.policy.automation import ALL
from services.cli.parser import Parser, open_interval, unit_interval

if TYPE_CHECKING:  # the recommender (numpy, scipy) loads when it runs, not while the command line is parsed
    from analysis.observations import Observation
    from analysis.recommend import Agreement, Recommendation, StratumEvidence

SCHEMA_VERSION = 1


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser(
        "recommend", help="recommend confidence thresholds from shadow-mode comparisons",
        description="Test candidate confidence thresholds from the most conservative down (fixed sequence, "
        "anytime-valid betting test on the 1/π-weighted sample) and recommend the automation policy.",
    )
    p.add_argument("--comparisons", required=True, metavar="FILE.jsonl", help="compared frames, one JSON per line")
    p.add_argument("--target", type=open_interval, default=0.95, help="acceptance required among shipped frames")
    p.add_argument("--alpha", type=open_interval, default=0.05, help="error probability of the guarantee")
    p.add_argument("--consensus", metavar="FILE.jsonl",
                   help="human-vs-human pairs (accepted: annotator A would pass against B), for the agreement floor")
    p.add_argument("--strata", default="", metavar="S1,S2",
                   help="strata with thresholds of their own; every other frame falls under 'all'")
    p.add_argument("--audit-floor", type=unit_interval, default=0.02,
                   help="smallest audit π the router used (default 0.02): weights are at most 1/floor")
    p.add_argument("--max-step", type=unit_interval, default=0.10,
                   help="largest rise of the automation rate in one update (default 0.10)")
    p.add_argument("--min-gain", type=float, default=0.02, help="smallest rise worth a change (default 0.02)")
    p.add_argument("--json", action="store_true", help="print a JSON document instead of text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import orjson

    from analysis.recommend import Guardrails, Hysteresis, MaxStep, Recommender, RecommenderConfig
    from services.io.comparisons import read_comparisons

    observations = read_comparisons(args.comparisons)
    consensus = read_comparisons(args.consensus) if args.consensus else []
    config = RecommenderConfig(
        target=args.target, alpha=args.alpha, audit_floor=args.audit_floor,
        strata=tuple(s for s in args.strata.split(",") if s) or (ALL,),
        guardrails=Guardrails(MaxStep(args.max_step), Hysteresis(args.min_gain)),
    )
    try:
        result = Recommender(config).calculate(observations, consensus)
    except InvalidInput as exc:  # name the file the record came from
        path = args.consensus if exc.source == "consensus" else args.comparisons
        raise InvalidInput(path, exc.where, exc.problem) from None
    notes = _notes(observations, args.audit_floor)
    if args.json:
        sys.stdout.buffer.write(orjson.dumps({**recommendation_document(result), "notes": notes}) + b"\n")
    else:
        print("\n".join([recommendation_text(result), *(f"note: {n}" for n in notes)]))
    return 0


def _notes(observations: list[Observation], audit_floor: float) -> list[str]:
    """Hints on the inputs; today one: every π is 1 but the test was told weights may reach 1/floor."""
    if observations and audit_floor < 1.0 and all(o.inclusion_prob == 1.0 for o in observations):
        return [f"every frame has inclusion_prob 1, yet the test allows weights up to {1 / audit_floor:g} "
                "(--audit-floor); if nothing was eligible to ship when these frames were routed, "
                "--audit-floor 1 says so and gives the test its full power"]
    return []


def recommendation_document(r: Recommendation) -> dict[str, Any]:
    """The JSON ``--json`` prints: thresholds (null: nothing ships), rate, action, reason, evidence."""
    return {
        "schema_version": SCHEMA_VERSION, "action": r.action, "reason": r.reason,
        "automation_rate": r.automation_rate, "policy_version": r.policy.version,
        "thresholds": {s: _num(t) for s, t in r.thresholds.items()}, "target": r.target, "alpha": r.alpha,
        "strata": {s: _stratum_record(e) for s, e in r.strata.items()},
        "machine_agreement": _agreement_record(r.machine_agreement),
        "human_floor": _agreement_record(r.human_floor) if r.human_floor else None,
    }


def _stratum_record(e: StratumEvidence) -> dict[str, Any]:
    return {
        "action": e.action, "threshold": _num(e.threshold), "previous": _num(e.previous),
        "certified": _num(e.certified), "automation_rate": e.automation_rate, "previous_rate": e.previous_rate,
        "alpha": e.alpha, "reason": e.reason,
        "tested": [{"threshold": t.threshold, "n": t.n, "estimate": _num(t.estimate), "lower": _num(t.lower),
                    "p_value": t.p_value, "passed": t.passed, "automation_rate": t.automation_rate}
                   for t in e.tested],
        "drift": None if e.drift is None else {"statistic": e.drift.statistic, "threshold": e.drift.threshold,
                                               "n": e.drift.n, "estimate": _num(e.drift.estimate)},
    }


def _agreement_record(a: Agreement) -> dict[str, Any]:
    return {"estimate": _num(a.estimate), "lower": a.lower, "upper": a.upper, "n": a.n, "confidence": a.confidence}


def recommendation_text(r: Recommendation) -> str:
    """A readable report: the decision, its reason, the tested sequence per stratum, the agreement floor."""
    from analysis.recommend.reason import tau_text

    lines = [f"recommendation: {r.action} — automation {100 * r.automation_rate:.1f}% "
             f"(target acceptance {r.target:g} among shipped frames, α {r.alpha:g})", f"reason: {r.reason}"]
    for stratum, e in r.strata.items():
        lines.append(f"stratum {stratum}: τ {tau_text(e.previous)} → {tau_text(e.threshold)}, "
                     f"certified down to τ {tau_text(e.certified)} at α {e.alpha:.3g}")
        lines.append(f"  {'τ':>7} {'n':>7} {'accept':>7} {'lower':>7} {'p':>8} {'rate':>7}  passed")
        lines += [f"  {tau_text(t.threshold):>7} {t.n:>7} {t.estimate:>7.3f} {t.lower:>7.3f} {t.p_value:>8.2g} "
                  f"{100 * t.automation_rate:>6.1f}%  {'yes' if t.passed else 'no'}" for t in e.tested]
    lines.append(f"machine agreement (all compared frames): {_agreement_text(r.machine_agreement)}")
    floor = _agreement_text(r.human_floor) if r.human_floor else "no consensus pairs given"
    lines.append(f"human-vs-human floor (consensus pairs):  {floor}")
    return "\n".join(lines)


def _agreement_text(a: Agreement) -> str:
    if a.n == 0:
        return "no frames"
    return f"{a.estimate:.3f} [{a.lower:.3f}, {a.upper:.3f}] at {a.confidence:.0%}, n = {a.n}"


def _num(value: float) -> float | None:
    return value if math.isfinite(value) else None
