"""The shadow loop over many seeds: does shipping stay above target, and how close to the oracle rate?

Each seed replays fresh rendered driving frames through the reference detector
from automation rate 0. Reported per seed: true acceptance of the frames that
were actually shipped (known in replay), the final policy's automation rate
against the oracle rate (the largest rate whose frames truly meet the target),
and whether the final threshold truly meets the target.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from benchmarks.harness import machine, write_section
from services.loop.config import LoopConfig
from services.replay.config import ReplayConfig
from services.replay.run import replay

SEEDS = range(20)
FRAMES, WINDOW = 8000, 250


def main(*, quick: bool = False) -> dict[str, float]:
    seeds, frames, window = (range(2), 600, 100) if quick else (SEEDS, FRAMES, WINDOW)
    rows, results = [], []
    start = time.perf_counter()
    for seed in seeds:
        s = replay(ReplayConfig(loop=LoopConfig(window=window), frames=frames, seed=seed)).summary
        results.append(s)
        rows.append(_row(s))
        print(rows[-1], flush=True)
    totals = _totals(results)
    body = "\n".join([
        "## Replay over seeds (`benchmarks/replay.py`)", "",
        f"`shadowqa replay --dataset driving`, {len(results)} seeds × {frames:,} frames, a recommender step "
        f"every {window} machine comparisons, target {results[0]['target']:g}, α {results[0]['alpha']:g}, audit "
        f"floor {LoopConfig().audit_floor:g}; {time.perf_counter() - start:.0f} s on {machine()}."
        + (" QUICK SMOKE RUN, not a measurement." if quick else ""),
        "",
        f"- shipped frames met the target in **{totals['shipped_ok']:.0%}** of seeds "
        f"(seeds that shipped anything: {totals['shipping_seeds']:.0f})",
        f"- final automation rate as a share of the oracle rate: median **{totals['median_share']:.0%}**, "
        f"minimum {totals['min_share']:.0%}, ≥ 80% in {totals['share_80']:.0%} of seeds",
        f"- the final threshold truly met the target in {totals['final_ok']:.0%} of seeds",
        "", "| seed | shipped frames | their true acceptance | final rate | oracle rate | share of oracle |",
        "|---:|---:|---:|---:|---:|---:|", *rows,
    ])
    print(body)
    if not quick:
        write_section("replay", body)
    return totals


def _row(s: dict[str, Any]) -> str:
    acc = s["shipped"]["true_acceptance"]
    share = s["share_of_oracle"]
    return (f"| {s['seed']} | {s['shipped']['frames']} | {'-' if acc is None else f'{acc:.3f}'} "
            f"| {s['final_automation_rate']:.1%} | {s['oracle']['automation_rate']:.1%} "
            f"| {'-' if share is None else f'{share:.0%}'} |")


def _totals(results: list[dict[str, Any]]) -> dict[str, float]:
    shipping = [s for s in results if s["shipped"]["frames"]]
    shares = np.array([s["share_of_oracle"] or 0.0 for s in results])
    finals = [s["final_threshold_truly_meets_target"] for s in results if s["final_threshold_truly_meets_target"]
              is not None]
    return {
        "shipping_seeds": float(len(shipping)),
        "shipped_ok": float(np.mean([s["shipped"]["true_acceptance"] >= s["target"] for s in shipping]))
        if shipping else float("nan"),
        "median_share": float(np.median(shares)), "min_share": float(shares.min()),
        "share_80": float(np.mean(shares >= 0.8)),
        "final_ok": float(np.mean(finals)) if finals else float("nan"),
    }
