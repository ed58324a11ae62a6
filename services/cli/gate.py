"""``shadowqa gate``: may the machine's labels ship at the target acceptance? pass, fail or inconclusive.

Exit status 0 pass, 1 fail, 3 inconclusive, 2 bad input; the JSON document's
``decision`` and ``lower`` fields are what rollout controllers read.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.exceptions import InvalidInput
from services.cli.parser import Parser, checked_float, weight
from services.loop.config import DEFAULT_AUDIT_FLOOR, DEFAULT_MAX_WEIGHT

if TYPE_CHECKING:  # numpy and the gate load when it runs, not while the command line is parsed
    import numpy as np
    import numpy.typing as npt

    from analysis.gate import GateResult, GateTrace
    from analysis.observations import Observations

EXIT = {"pass": 0, "fail": 1, "inconclusive": 3}


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser(
        "gate", help="decide whether acceptance is proven above a target (pass/fail/inconclusive)",
        description="Test whether the weighted acceptance of compared frames is at least --target, with an "
        "error probability of at most --alpha however often the gate is asked (a betting confidence "
        "sequence). Exit status 0 pass, 1 fail, 3 inconclusive, 2 bad input.",
    )
    p.add_argument("--comparisons", required=True, metavar="FILE.jsonl",
                   help="compared frames, one JSON object a line (frame_id, accepted, inclusion_prob, stratum)")
    p.add_argument("--target", required=True, type=_probability, help="acceptance rate to prove, in (0, 1)")
    p.add_argument("--alpha", type=_probability, default=0.05, help="error probability, in (0, 1) (default 0.05)")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--stratum", metavar="KEY", help="gate one stratum only, e.g. weather=rain")
    scope.add_argument("--every-stratum", action="store_true",
                       help="pass only when every stratum passes, fail when any fails (Bonferroni over strata)")
    p.add_argument("--model-version", metavar="VERSION", help="gate the frames of this model version only")
    p.add_argument("--max-weight", type=weight, default=DEFAULT_MAX_WEIGHT, metavar="W",
                   help="largest weight 1/π the router can give, 1/(its smallest inclusion probability) (default "
                   f"{DEFAULT_MAX_WEIGHT:g} = 1/the default audit floor {DEFAULT_AUDIT_FLOOR:g}, as the API's gates; "
                   "a file where every frame was annotated, π = 1, gets a sharper answer with --max-weight 1)")
    p.add_argument("--json", action="store_true", help="print the decision and its evidence as JSON")
    p.add_argument("--trace", action="store_true",
                   help="print one JSON line per compared frame: the decision after it (overrides --json)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import orjson

    from analysis.gate import Gate
    from analysis.observations import Observations
    from services.io.comparisons import read_comparisons
    from services.reporting.gate_json import gate_document

    path = args.comparisons
    everything = Observations.of(read_comparisons(path))
    chosen = _chosen(everything, args.model_version, args.stratum)
    _check_weights(everything, chosen, args.max_weight, path)
    observations = everything
    if args.model_version is not None:  # the gate picks the stratum itself, and names it in its answer
        observations = everything.select(np.array([m == args.model_version for m in everything.model_version]))
    gate = Gate(args.target, args.alpha, max_weight=args.max_weight, every_stratum=args.every_stratum)
    if args.trace:
        trace = gate.trace(observations, args.stratum)
        lines = _line_numbers(path)
        frames = [(lines[i], everything.frame_id[i]) for i in chosen]
        sys.stdout.buffer.write(b"".join(_trace_lines(trace, frames)))
        return EXIT[trace.decision[-1]] if len(trace) else EXIT["inconclusive"]
    result = gate.evaluate(observations, args.stratum)
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(gate_document(result, args.model_version)) + b"\n")
    else:
        print(_text(result))
    return EXIT[result.decision]


def _chosen(observations: Observations, model_version: str | None, stratum: str | None) -> npt.NDArray[np.int64]:
    """Indices of the frames the gate decides on, in file order."""
    import numpy as np

    keep = [
        (model_version is None or m == model_version) and (stratum is None or s == stratum)
        for m, s in zip(observations.model_version, observations.stratum, strict=True)
    ]
    return np.flatnonzero(np.array(keep, dtype=bool))


def _trace_lines(trace: GateTrace, frames: list[tuple[int, str]]) -> list[bytes]:
    """One JSON line per gated frame (``frames``: line number and frame id of each, in order)."""
    import orjson

    from services.reporting.gate_json import number

    return [
        orjson.dumps({
            "line": line, "frame_id": frame_id, "n": int(trace.n[k]), "decision": trace.decision[k],
            "estimate": number(float(trace.estimate[k])), "lower": float(trace.lower[k]),
            "upper": float(trace.upper[k]), "failing_strata": list(trace.failing_strata(k)),
        }) + b"\n"
        for k, (line, frame_id) in enumerate(frames)
    ]


def _text(result: GateResult) -> str:
    estimate = "n/a" if math.isnan(result.estimate) else f"{result.estimate:.3f}"
    numbers = (f"  estimate {estimate}  lower {result.lower:.3f}  upper {result.upper:.3f}  frames {result.n:,}  "
               f"target {result.target:g}  alpha {result.alpha:g}  ({result.method}, {result.rule})")
    failing = f"\n  failing strata: {', '.join(result.failing_strata)}" if result.failing_strata else ""
    return f"{result.decision.upper()}: {result.reason}\n{numbers}{failing}"


def _check_weights(observations: Observations, chosen: npt.NDArray[np.int64], max_weight: float, path: str) -> None:
    """Name the line of the first gated frame sampled below the floor ``--max-weight`` declares."""
    heavy = chosen[observations.weight[chosen] > max_weight * (1.0 + 1e-12)]
    if heavy.size:
        i = int(heavy[0])
        raise InvalidInput(
            path, f"line {_line_numbers(path)[i]}: inclusion_prob",
            f"{observations.inclusion_prob[i]:g} is below 1/--max-weight = {1.0 / max_weight:g}; set --max-weight "
            "to 1/(the smallest inclusion probability the router uses)",
        )


def _line_numbers(path: str | Path) -> list[int]:
    """The line number of each observation (blank lines hold none, as in read_comparisons)."""
    from services.io.files import read_bytes

    return [number for number, line in enumerate(read_bytes(path).splitlines(), start=1) if line.strip()]


def _probability(text: str) -> float:
    return checked_float(text, lambda v: 0.0 < v < 1.0, "a number in (0, 1)", "strictly between 0 and 1")
