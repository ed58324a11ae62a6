"""The readable summary ``shadowqa compare`` prints: overall, per class, per stratum."""

from __future__ import annotations

import math

from analysis.agreement import StratumSummary
from analysis.compare import Comparison

_HEADER = ("", "frames", "TP", "FP", "FN", "prec", "recall", "F1", "mIoU", "accepted [95% CI]")


def comparison_table(result: Comparison) -> str:
    m = result.options.matching
    conf = round(100 * result.options.confidence)
    title = (
        f"shadowqa compare: {result.automation.source} vs {result.manual.source} - "
        f"{result.overall.frames} frames, {m.method} matching at IoU {m.iou_threshold:g}"
        + (" (weighted by 1/inclusion_prob)" if result.overall.weighted else "")
    )
    rows = [_row("overall", result.overall)]
    rows += [_row(f"  {name}", s) for name, s in result.per_class.items()]
    for key, values in result.strata.items():
        rows += [_row(f"  {key}={value}", s) for value, s in values.items()]
    header = (*_HEADER[:-1], f"accepted [{conf}% CI]")
    lines = [title, "", *_align([header, *rows])]
    lines += [f"tag '{k}': agreement {_pct(t.agreement)} over {t.frames} frames, Cohen's kappa {_num(t.kappa)}"
              for k, t in result.tags.items()]
    return "\n".join(lines)


def _row(label: str, s: StratumSummary) -> tuple[str, ...]:
    acc = s.acceptance
    return (
        label, str(s.frames), str(s.tp), str(s.fp), str(s.fn), _pct(s.precision.estimate),
        _pct(s.recall.estimate), _pct(s.f1), _num(s.mean_iou),
        f"{_pct(acc.estimate)} [{_pct(acc.lower)}, {_pct(acc.upper)}]",
    )


def _align(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        out.append("  ".join(cells).rstrip())
    return out


def _pct(value: float) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.1f}%"


def _num(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"
