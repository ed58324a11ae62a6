"""Report plots as PNG bytes (matplotlib, no display needed)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
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


def acceptance_over_time(
    frames: Sequence[float], estimate: Sequence[float], lower: Sequence[float], upper: Sequence[float],
    target: float, truth: float | None, title: str, *, unit: str = "frames",
) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.fill_between(frames, lower, upper, color=BAND, alpha=0.6, label="anytime-valid confidence band")
    ax.plot(frames, estimate, color=LINE, label="estimate (weighted by 1/π)")
    ax.axhline(target, color=TARGET, linestyle="--", label=f"target {target:g}")
    if truth is not None:
        ax.axhline(truth, color=TRUTH, linestyle=":", label=f"true acceptance {truth:.3f}")
    ax.set(xlabel=f"{unit} processed", ylabel="acceptance", title=title, ylim=(0, 1.02))
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return to_png(fig)


def shipped_acceptance(
    xs: Sequence[float], estimate: Sequence[float], lower: Sequence[float], shipped_x: Sequence[float],
    shipped_y: Sequence[float], target: float, *, unit: str = "frames",
) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 3.4))
    if xs:
        ax.fill_between(xs, lower, estimate, color=BAND, alpha=0.6, label="lower bound (anytime-valid) to estimate")
        ax.plot(xs, estimate, color=LINE, label="estimate above the chosen τ (1/π-weighted)")
    if shipped_x:
        ax.scatter(shipped_x, shipped_y, color=TRUTH, s=14, label=f"true acceptance of {unit} shipped that window")
    ax.axhline(target, color=TARGET, linestyle="--", label=f"target {target:g}")
    ax.set(xlabel=f"{unit} processed", ylabel="acceptance", ylim=(0, 1.02),
           title=f"Acceptance of {unit} above the recommended threshold")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return to_png(fig)


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
