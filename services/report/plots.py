"""Report plots as PNG bytes (matplotlib, no display needed)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

BAND = "#9ecae1"
LINE = "#08519c"
TARGET = "#d62728"
TRUTH = "#2ca02c"


def to_png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out.getvalue()


def automation_over_time(
    frames: Sequence[float], actual: Sequence[float], recommended: Sequence[float], oracle: float | None, *,
    unit: str = "frames",
) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 3.0))
    ax.step(frames, actual, where="post", color=LINE, label="automation rate (shipped share)")
    ax.step(frames, recommended, where="post", color="#ff7f0e", linestyle="--", label="recommended")
    if oracle is not None:
        ax.axhline(oracle, color=TRUTH, linestyle=":", label=f"oracle rate {oracle:.2f}")
    ax.set(xlabel=f"{unit} processed", ylabel="automation rate", title="Automation rate over time", ylim=(0, 1))
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return to_png(fig)


def bars_with_intervals(
    labels: Sequence[str], estimate: Sequence[float], lower: Sequence[float], upper: Sequence[float],
    title: str, reference: float | None = None, reference_label: str = "",
) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.2))
    y = range(len(labels))
    below = [e - lo for e, lo in zip(estimate, lower, strict=True)]
    err = [below, [u - e for e, u in zip(estimate, upper, strict=True)]]
    ax.barh(list(y), estimate, xerr=err, color=BAND, edgecolor=LINE, capsize=3)
    ax.set_yticks(list(y), labels)
    if reference is not None:
        ax.axvline(reference, color=TARGET, linestyle="--", label=reference_label)
        ax.legend(loc="lower right", fontsize=8)
    ax.set(xlim=(0, 1.02), title=title)
    ax.grid(axis="x", alpha=0.3)
    return to_png(fig)


def acceptance_bands(
    xs: Sequence[float], estimate: Sequence[float], lower: Sequence[float], upper: Sequence[float],
    ends: Sequence[float], fixed_lower: Sequence[float], fixed_upper: Sequence[float], target: float,
    truth: float | None, *, unit: str = "frames",
) -> bytes:
    """The estimate after each comparison inside the anytime-valid band, the fixed-time interval at window ends."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.fill_between(xs, lower, upper, color=BAND, alpha=0.6, step="post", label="anytime-valid band (gate)")
    ax.plot(xs, estimate, color=LINE, label="estimate (weighted by 1/π)")
    if ends:
        mid = [(lo + hi) / 2 for lo, hi in zip(fixed_lower, fixed_upper, strict=True)]
        half = [(hi - lo) / 2 for lo, hi in zip(fixed_lower, fixed_upper, strict=True)]
        ax.errorbar(ends, mid, yerr=half, fmt="none", ecolor="#555555", capsize=3, label="fixed-time interval")
    if truth is not None:
        ax.axhline(truth, color=TRUTH, linestyle=":", label=f"true acceptance {truth:.3f}")
    return _acceptance_axes(fig, ax, target, f"{unit} compared",
                            f"Acceptance of all {unit}: estimate, anytime-valid band and fixed-time interval")


def shipped_windows(
    xs: Sequence[float], estimate: Sequence[float | None], lower: Sequence[float], upper: Sequence[float],
    truth_x: Sequence[float], truth_y: Sequence[float], target: float, *, unit: str = "frames",
) -> bytes:
    """Per window, the audited shipped-eligible units' acceptance with its interval (and the truth if known)."""
    fig, ax = plt.subplots(figsize=(8, 3.4))
    known = [(x, e, lo, hi) for x, e, lo, hi in zip(xs, estimate, lower, upper, strict=True) if e is not None]
    if known:
        x, e, lo, hi = (list(v) for v in zip(*known, strict=True))
        below = [a - b for a, b in zip(e, lo, strict=True)]
        above = [b - a for a, b in zip(e, hi, strict=True)]
        ax.errorbar(x, e, yerr=[below, above], fmt="o", color=LINE, ecolor=BAND, capsize=3,
                    label=f"audited shipped {unit} (1/π-weighted)")
    if truth_x:
        ax.scatter(truth_x, truth_y, color=TRUTH, s=14, label=f"true acceptance of {unit} shipped")
    return _acceptance_axes(fig, ax, target, f"{unit} compared by the window's end",
                            f"Acceptance of shipped {unit}, window by window")


def _acceptance_axes(fig: Figure, ax: Axes, target: float, xlabel: str, title: str) -> bytes:
    """An acceptance plot's target line, axes, legend and grid; the figure as PNG."""
    ax.axhline(target, color=TARGET, linestyle="--", label=f"target {target:g}")
    ax.set(xlabel=xlabel, ylabel="acceptance", ylim=(0, 1.02), title=title)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return to_png(fig)


def backlog(seconds: Sequence[float], waiting: Mapping[str, Sequence[int]], *, unit: str = "frames") -> bytes:
    """Units waiting at each stage over the run's seconds."""
    fig, ax = plt.subplots(figsize=(8, 3.0))
    for stage, counts in waiting.items():
        ax.plot(seconds, counts, label=stage)
    ax.set(xlabel="seconds into the run", ylabel=f"{unit} waiting", title="Lag: work waiting at each stage")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    return to_png(fig)
