"""Batched against per-frame inference of the reference models (frames/s, same frames, one run).

Frames are rendered or loaded into memory first, so only the engine is timed:
pre-processing, the forward pass, decoding and building results.
"""

from __future__ import annotations

from benchmarks.harness import Timing, machine, time_call, write_section
from services.engine.frames import Frame
from services.engine.loading import load_runner
from services.engine.run import run_frames
from services.engine.sources import open_source

CASES = (
    ("builtin:driving-detector", "synthetic://driving?seed=3&n={n}", 200, 32),
    ("builtin:digits", "sklearn-digits://?split=all&n={n}", 1797, 256),
)


def main(*, quick: bool = False) -> dict[str, float]:
    rows, ratios = [], {}
    for model, spec, n, batch in CASES:
        frames = list(open_source(spec.format(n=min(n, 40) if quick else n)))
        runner = load_runner(model)
        runner.warm_up()
        single = _time(runner, frames, 1, quick)
        batched = _time(runner, frames, batch, quick)
        ratios[model] = single.median / batched.median
        rows.append(f"| `{model}` | {len(frames)} | {single.rate(len(frames)):,.0f} | {batch} "
                    f"| {batched.rate(len(frames)):,.0f} | {ratios[model]:.1f}× |")
    body = "\n".join([
        "## Engine: batched vs per-frame inference (`benchmarks/engine.py`)", "",
        f"CPU, torch's default threads; {machine()}." + (" QUICK SMOKE RUN, not a measurement." if quick else ""),
        "", "| model | frames | per-frame frames/s | batch size | batched frames/s | batched / per-frame |",
        "|---|---:|---:|---:|---:|---:|", *rows,
    ])
    print(body)
    if not quick:
        write_section("engine", body)
    return ratios


def _time(runner: object, frames: list[Frame], batch: int, quick: bool) -> Timing:
    return time_call(lambda: run_frames(runner, frames, batch_size=batch), 1 if quick else 3)  # type: ignore[arg-type]
