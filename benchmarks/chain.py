"""The reference chain (``builtin:driving-chain``: detect -> track -> post) step by step, its re-runs
from a snapshot, and the tracking metrics against py-motmetrics and TrackEval.

(1) Each step's frames/s in this process on ``synthetic://driving-seq?seed=11&clips=4&length=60``, the steps
prepared first (model load, library import) and fed the previous step's output; the frame source alone
(rendering, which the detect step includes) beside it. (2) ``shadowqa engine run --pipeline`` processes as a
user runs them: the full chain against ``--from-step track`` and ``--from-step post`` from the full run's
snapshot; the expected saving is what the skipped steps cost in the full runs (set-up + run, from their
manifests). (3) ``track_metrics`` against the references (:mod:`benchmarks.chain_metrics`) on the chain's
output vs the ground truth of the same source, and on a crowded random clip.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.tracking import track_metrics
from benchmarks.chain_metrics import MetricTimings, chain_clips, crowded_clip, time_metrics
from benchmarks.harness import DATA, ROOT, Timing, machine, time_call, write_section
from services.datasets.driving.builtin_specs import BUILTIN
from services.engine.chain.data import StepOutput
from services.engine.chain.manifest import Manifest, read_manifest
from services.engine.chain.run import build_steps
from services.engine.chain.spec import load_pipeline
from services.engine.chain.step import RunContext
from services.engine.sequence_source import SyntheticDrivingSequenceSource
from services.engine.sources import open_source

PIPELINE = BUILTIN["builtin:driving-chain"]
SHADOWQA = str(ROOT / ".venv" / "bin" / "shadowqa")
SEED = 11
SOURCE = f"synthetic://driving-seq?seed={SEED}" + "&clips={clips}&length={length}"
STEPS = ("detect", "track", "post")
RERUNS = (("full chain", None), ("`--from-step track`", "track"), ("`--from-step post`", "post"))


@dataclass(frozen=True)
class StepTimes:
    """In-process run times per step (plus ``render``: the frame source alone) and the chain's final output."""

    runs: dict[str, Timing]
    output: StepOutput


@dataclass(frozen=True)
class Reruns:
    """Wall time per CLI run (keyed by ``--from-step``, ``full`` for the whole chain) and, per step, its set-up
    and run seconds in the full runs' manifests (medians)."""

    wall: dict[str, Timing]
    setup: dict[str, float]
    seconds: dict[str, float]
    torch_exit: float  # seconds a process that imported torch takes from its last statement to its exit

    def expected_saving(self, start: str) -> float:
        skipped = STEPS[:STEPS.index(start)]
        return sum(self.setup[s] + self.seconds[s] for s in skipped)

    def saving(self, start: str) -> float:
        return self.wall["full"].median - self.wall[start].median


def main(*, quick: bool = False) -> dict[str, float]:
    clips, length = (1, 20) if quick else (4, 60)
    repeat = 1 if quick else 3
    source = SOURCE.format(clips=clips, length=length)
    loads = [os.getloadavg()]
    steps = time_steps(source, repeat)
    loads.append(os.getloadavg())
    reruns = time_reruns(source, repeat, DATA / "chain")
    loads.append(os.getloadavg())
    gt = SyntheticDrivingSequenceSource(SEED, clips, length).ground_truth()
    chain = chain_clips(gt, steps.output)
    metrics = {"chain": time_metrics(chain, 1 if quick else 5),
               "crowded": time_metrics([crowded_clip(frames_=60 if quick else 300)], 1 if quick else 3)}
    loads.append(os.getloadavg())
    scores = [track_metrics(g, h) for g, h in chain]
    ratios = _ratios(steps, reruns, metrics)
    body = "\n".join(_report(source, len(steps.output), steps, reruns, metrics, ratios, repeat, quick)
                     + _metrics_report(metrics, ratios, scores, loads, quick))
    print(body)
    if not quick:
        write_section("chain", body)
    return ratios


def time_steps(source: str, repeat: int) -> StepTimes:
    """Each step's run (set-up done first, untimed) on the previous step's output; the first run of each is
    untimed and gives the next step its input."""
    context = RunContext(open_source(source))
    detect, track, post = build_steps(load_pipeline(PIPELINE))
    for step in (detect, track, post):
        step.prepare(context)
    runs = {"render": time_call(lambda: list(open_source(source)), repeat)}
    runs["detect"], detected = _timed(lambda: detect.run(None, context), repeat)
    runs["track"], tracked = _timed(lambda: track.run(detected, context), repeat)
    runs["post"], output = _timed(lambda: post.run(tracked, context), repeat)
    return StepTimes(runs, output)


def _timed(fn: Callable[[], StepOutput], repeat: int) -> tuple[Timing, StepOutput]:
    first = fn()  # the warm-up run; the steps are deterministic, so its output is every run's
    return time_call(fn, repeat, warm_up=False), first


def time_reruns(source: str, repeat: int, folder: Path) -> Reruns:
    """``shadowqa engine run --pipeline`` processes: one untimed full run (the snapshot, warm caches), then
    ``repeat`` rounds of the full chain and each re-run, interleaved so a change of load hits them alike."""
    snapshot = folder / "snapshot"
    _run_cli([*_argv(source), "--out", str(snapshot)])
    runs: dict[str, list[float]] = {start or "full": [] for _, start in RERUNS}
    manifests: list[Manifest] = []
    for _ in range(repeat):
        for _, start in RERUNS:
            out = folder / (start or "full")
            resume = [] if start is None else ["--from-step", start, "--snapshot", str(snapshot)]
            began = time.perf_counter()
            _run_cli([*_argv(None if start else source), "--out", str(out), *resume])
            runs[start or "full"].append(time.perf_counter() - began)
        manifests.append(read_manifest(folder / "full"))

    def median(field: str, step: str) -> float:
        return float(statistics.median(getattr(m.step(step), field) for m in manifests))

    return Reruns({k: Timing(tuple(v)) for k, v in runs.items()}, {s: median("setup_seconds", s) for s in STEPS},
                  {s: median("seconds", s) for s in STEPS},
                  statistics.median(_exit_seconds("import torch") for _ in range(repeat)))


def _run_cli(argv: list[str]) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)


def _argv(source: str | None) -> list[str]:
    images = [] if source is None else ["--images", source]
    return [SHADOWQA, "engine", "run", "--pipeline", str(PIPELINE), *images, "--no-progress"]


def _exit_seconds(code: str) -> float:
    """Seconds from the last statement of ``python -c CODE`` to the end of its process, as the parent sees it."""
    child = subprocess.run([sys.executable, "-c", f"{code}; import time; print(time.perf_counter())"],
                           check=True, capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - float(child.stdout.split()[-1])  # CLOCK_MONOTONIC: one clock for both processes


def _ratios(steps: StepTimes, reruns: Reruns, metrics: dict[str, MetricTimings]) -> dict[str, float]:
    detect = steps.runs["detect"].median
    ratios = {"track_vs_detect": detect / steps.runs["track"].median,
              "post_vs_detect": detect / steps.runs["post"].median}
    for start in ("track", "post"):
        ratios[f"from_{start}_vs_full"] = reruns.wall["full"].median / reruns.wall[start].median
        ratios[f"from_{start}_saving_vs_expected"] = reruns.saving(start) / reruns.expected_saving(start)
    for name, m in metrics.items():
        ours = m.ours.median
        ratios[f"{name}_vs_motmetrics"] = m.motmetrics.median / ours
        ratios[f"{name}_vs_trackeval"] = m.trackeval.median / ours
        ratios[f"{name}_vs_both"] = (m.motmetrics.median + m.trackeval.median) / ours
    return ratios


def _report(source: str, frames: int, steps: StepTimes, reruns: Reruns, metrics: dict[str, MetricTimings],
            ratios: dict[str, float], repeat: int, quick: bool) -> list[str]:
    r, full = steps.runs, reruns.wall["full"].median
    in_steps = sum(reruns.setup[s] + reruns.seconds[s] for s in STEPS)
    return [
        "## Automation chain: steps, re-runs from a snapshot, tracking metrics (`benchmarks/chain.py`)", "",
        f"`{source}` ({frames} frames), `builtin:driving-chain`, CPU, batch 16; {machine()}."
        + (" QUICK SMOKE RUN, not a measurement." if quick else ""), "",
        f"### Steps in one process (median of {repeat} runs each; set-up apart)", "",
        "Each step prepared first, then run on the previous step's output. Set-up is from the full `shadowqa` "
        f"runs below (their manifests, median of {repeat} fresh processes): in this process it would be paid once.",
        "", "| step | median s | frames/s | × detect's speed | set-up s (fresh process) |", "|---|---:|---:|---:|---:|",
        f"| frame source alone (rendering; inside detect) | {r['render'].median:.3f} | {r['render'].rate(frames):,.0f} "
        "| | |",
        f"| detect (`builtin:driving-detector`) | {r['detect'].median:.3f} | {r['detect'].rate(frames):,.1f} | 1.0 "
        f"| {reruns.setup['detect']:.2f} |",
        f"| track (norfair) | {r['track'].median:.3f} | {r['track'].rate(frames):,.0f} | "
        f"{ratios['track_vs_detect']:.0f} | {reruns.setup['track']:.2f} |",
        f"| post | {r['post'].median:.4f} | {r['post'].rate(frames):,.0f} | {ratios['post_vs_detect']:.0f} "
        f"| {reruns.setup['post']:.2f} |", "",
        f"### Re-runs from a snapshot (`shadowqa engine run` processes, median of {repeat} interleaved rounds)", "",
        "Expected saving: the skipped steps' set-up + run seconds in the full runs' manifests. The re-run reads "
        "the snapshot (`.npz`, content hash checked) and copies it into its `--out`.", "",
        "| run | wall s | full / this | saving s, measured | saving s, expected |", "|---|---:|---:|---:|---:|",
        f"| full chain | {full:.2f} | 1.0 | | |",
        *[f"| {label} | {reruns.wall[start].median:.2f} | {ratios[f'from_{start}_vs_full']:.1f} | "
          f"{reruns.saving(start):.2f} | {reruns.expected_saving(start):.2f} |" for label, start in RERUNS if start],
        "", f"In the full run the steps take {in_steps:.2f} s of {full:.2f} s (set-up + run, manifests); the other "
        f"{full - in_steps:.2f} s are the interpreter, shadowqa's imports, reading the spec, writing snapshots and "
        f"exiting: a process that imported torch takes {reruns.torch_exit:.2f} s from its last statement to its exit "
        f"here (`python -c 'import torch'`, median of {repeat}), which a re-run from track or post does not pay "
        "and the expected saving leaves out.",
    ]


def _metrics_report(metrics: dict[str, MetricTimings], ratios: dict[str, float], scores: list[Any],
                    loads: list[tuple[float, float, float]], quick: bool) -> list[str]:
    labels = {"chain": "the chain's output vs ground truth, per clip of the source",
              "crowded": "crowded random clip (~20 objects a frame, clutter, id switches)"}
    rows = [f"| {labels[name]} | {m.clips} × {m.frames // m.clips} | {m.gt_boxes:,} / {m.hyp_boxes:,} | "
            f"{m.ms_per_clip(m.ours):.2f} | {m.ms_per_clip(m.motmetrics):.1f} | {m.ms_per_clip(m.trackeval):.1f} | "
            f"{ratios[f'{name}_vs_motmetrics']:.1f} | {ratios[f'{name}_vs_trackeval']:.1f} | "
            f"{ratios[f'{name}_vs_both']:.1f} |" for name, m in metrics.items()]
    mean = {k: statistics.fmean(getattr(getattr(s, part), k) for s in scores)
            for part, k in (("clear", "mota"), ("identity", "idf1"), ("hota", "hota"))}
    one = [f"{a[0]:.1f}" for a in loads]
    return [
        "", "### Tracking metrics vs py-motmetrics 1.4.0 and TrackEval 1.3.0 (ms per clip, medians)", "",
        "`track_metrics` computes CLEAR-MOT, the ID measures and HOTA in one call; py-motmetrics accumulate + "
        "compute (its `boxiou` distance matrix, as `tests/analysis/tracking/references.py`) gives CLEAR-MOT and "
        "the ID measures; TrackEval's HOTA `eval_sequence` (with its `_calculate_box_ious`) gives HOTA. Every "
        "value of every clip was checked equal to the references' to 1e-9 before timing.", "",
        "| clips | clips × frames | gt / hyp boxes | `track_metrics` | motmetrics | TrackEval HOTA | × vs motmetrics "
        "| × vs TrackEval | × vs both |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|", *rows, "",
        f"The chain on the benchmark clips (mean per clip): MOTA {mean['mota']:.3f}, IDF1 {mean['idf1']:.3f}, "
        f"HOTA {mean['hota']:.3f}.", "",
        f"Load: the machine is shared; 1-minute load average {', '.join(one)} at the start, after the steps, after "
        f"the re-runs and at the end (5-minute {loads[0][1]:.1f} at the start, {loads[-1][1]:.1f} at the end) on "
        f"{os.cpu_count()} cores." + (" QUICK SMOKE RUN." if quick else ""),
    ]
