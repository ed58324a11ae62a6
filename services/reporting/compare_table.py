"""The readable summary ``shadowqa compare`` prints: overall, per class, per stratum, then COCO AP/AR."""

from __future__ import annotations

import math

from analysis.agreement import StratumSummary
from analysis.compare import Comparison
from analysis.detection import ClassAP, CocoSummary

_HEADER = ("", "frames", "TP", "FP", "FN", "prec", "recall", "F1", "mIoU", "accepted [95% CI]")
_AP_HEADER = ("AP", "AP50")
# pycocotools' summarize() lines, three decimals as it prints them
_STAT_LINES = (
    (("AP", "AP"), ("AP50", "AP50"), ("AP75", "AP75"), ("AP_small", "AP small"), ("AP_medium", "AP medium"),
     ("AP_large", "AP large")),
    (("AR_1", "AR1"), ("AR_10", "AR10"), ("AR_100", "AR100"), ("AR_small", "AR small"), ("AR_medium", "AR medium"),
     ("AR_large", "AR large")),
)


def comparison_table(result: Comparison) -> str:
    m = result.options.matching
    conf = round(100 * result.options.confidence)
    title = (
        f"shadowqa compare: {result.automation.source} vs {result.manual.source} - "
        f"{result.overall.frames} frames, {m.method} matching at IoU {m.iou_threshold:g}"
        + (" (weighted by 1/inclusion_prob)" if result.overall.weighted else "")
    )
    coco = result.coco
    rows = [_row("overall", result.overall) + _ap_cells(coco, None)]
    rows += [_row(f"  {name}", s) + _ap_cells(coco, name) for name, s in result.per_class.items()]
    for key, values in result.strata.items():
        rows += [_row(f"  {key}={value}", s) + _ap_cells(coco, "") for value, s in values.items()]
    header = (*_HEADER[:-1], f"accepted [{conf}% CI]") + (_AP_HEADER if coco is not None else ())
    lines = [title, "", *_align([header, *rows])]
    lines += [f"tag '{k}': agreement {_pct(t.agreement)} over {t.frames} frames, Cohen's kappa {_num(t.kappa)}"
              for k, t in result.tags.items()]
    return "\n".join([*lines, "", *_coco_lines(coco, result.coco_skipped)])


def _ap_cells(coco: CocoSummary | None, name: str | None) -> tuple[str, ...]:
    """AP and AP50 of a class (``name``), overall (None) or nothing (""); no cells without COCO AP."""
    if coco is None:
        return ()
    if name is None:
        return _num(coco.stats["AP"]), _num(coco.stats["AP50"])
    c: ClassAP | None = coco.per_class.get(name) if name else None
    return ("", "") if c is None else (_num(c.ap), _num(c.ap50))


def _coco_lines(coco: CocoSummary | None, skipped: str) -> list[str]:
    if coco is None:
        return [f"COCO AP/AR: not computed ({skipped})"]
    head = f"COCO AP/AR (pycocotools' COCOeval, {coco.geometry} IoU; AP and AR averaged over IoU .50:.95):"
    return [head, *("  " + "  ".join(f"{label} {_num(coco.stats[key])}" for key, label in line)
                    for line in _STAT_LINES)]


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
