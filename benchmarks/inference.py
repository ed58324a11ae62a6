"""CPU inference runtimes for the driving detector: speed and sameness of results, one run, same frames.

Variants of the forward pass, timed interleaved (every repeat runs each variant
once over all batches; medians): torch eager; eager with folded BatchNorms and
channels-last (the torch default); TorchScript traced, frozen and optimised for
inference; the TorchScript file ``shadowqa engine export`` writes, run as loaded
before ONNX Runtime (contiguous input); ONNX Runtime's CPU provider on the
legacy ``torch.onnx`` export, with and without spinning threads. Each variant's
outputs are compared with eager's, raw and decoded into boxes. A second table
times the whole runner (pre-processing, forward, decoding) under both runtimes,
and a third splits the automation step's time per frame by stage.
"""

from __future__ import annotations

import io
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from benchmarks.harness import Timing, machine, write_section
from services.engine import onnx_runtime
from services.engine.decode import DECODE, Decoded
from services.engine.frames import Frame
from services.engine.loading import builtin_module, example_input, export_torchscript, load_runner
from services.engine.optimize import for_inference
from services.engine.preprocess import to_batch
from services.engine.run import run_frames
from services.engine.sources import open_source
from services.engine.spec import ModelSpec

SOURCE = "synthetic://driving?seed=3&n={n}"
BATCH = 16  # the automation worker's batch size (PipelineConfig.batch_size)
TOLERANCE = {"boxes_px": 1e-2, "scores": 1e-4}  # what "same results" means: equal box counts and these
Forward = Callable[[torch.Tensor], tuple[torch.Tensor, ...]]


def main(*, quick: bool = False) -> dict[str, float]:
    frames = list(open_source(SOURCE.format(n=32 if quick else 192)))
    module, spec, _ = builtin_module("driving-detector")
    batches = [to_batch([f.image for f in frames[i:i + BATCH] if f.image is not None], spec.input, torch.device("cpu"))
               .tensor for i in range(0, len(frames), BATCH)]
    with TemporaryDirectory() as tmp:
        variants, exports = _variants(module, spec, Path(tmp))
        timings = _interleaved(variants, batches, 1 if quick else 5)
        eager = _outputs(variants["torch eager"], batches)
        rows = [_row(name, timings[name], timings["torch eager"], _outputs(fn, batches), eager, spec, len(frames))
                for name, fn in variants.items()]
    runner_rows = _runner_rows(frames, 1 if quick else 3)
    body = _report(rows, exports, runner_rows, _stages(frames[: 4 * BATCH]), len(frames), quick)
    print(body)
    if not quick:
        write_section("inference", body)
    return {name: timings["torch eager"].median / timings[name].median for name in variants}


def _variants(module: torch.nn.Module, spec: ModelSpec, tmp: Path) -> tuple[dict[str, Forward], list[str]]:
    example = example_input(spec, BATCH)
    fused, _ = for_inference(builtin_module("driving-detector")[0], torch.device("cpu"))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frozen = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(module, example).eval()))
        exported = torch.jit.load(str(export_torchscript("driving-detector", tmp / "detector.pt")))
    legacy, exports = _export(module, example)
    cl = torch.channels_last
    return {
        "torch eager": _torch(module, torch.contiguous_format),
        "eager + folded BN + channels-last (torch default)": _torch(fused, cl),
        "TorchScript traced, frozen, optimize_for_inference": _torch(frozen, torch.contiguous_format),
        "TorchScript file from `engine export`, as loaded before": _torch(exported, torch.contiguous_format),
        "ONNX Runtime, spinning threads": _ort(legacy, spin=True),
        "ONNX Runtime, no spinning (new CPU default)": _ort(legacy, spin=False),
    }, exports


def _torch(module: Callable[[torch.Tensor], object], fmt: torch.memory_format) -> Forward:
    def forward(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        with torch.inference_mode():
            out = module(x.contiguous(memory_format=fmt))
        assert isinstance(out, tuple)
        return out

    return forward


def _ort(model: bytes, *, spin: bool) -> Forward:
    ort = onnx_runtime.OrtModule(model)
    if spin:  # the session as ONNX Runtime's defaults would have it, threads as torch's
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = torch.get_num_threads()
        ort.session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    return ort


def _export(module: torch.nn.Module, example: torch.Tensor) -> tuple[bytes, list[str]]:
    """The legacy export (used) and a try of the dynamo exporter: seconds each, or why it failed."""
    start = time.perf_counter()
    legacy = onnx_runtime.export_onnx(module, example)
    notes = [f"legacy `torch.onnx.export(dynamo=False)`: {time.perf_counter() - start:.1f} s, used"]
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            batch = torch.export.Dim("batch", min=1, max=1024)
            torch.onnx.export(module, (example,), io.BytesIO(), dynamo=True, dynamic_shapes=({0: batch},),
                              verbose=False)
        notes.append(f"dynamo `torch.onnx.export(dynamo=True)`: {time.perf_counter() - start:.1f} s, works, "
                     "not used: too slow to run when a worker starts, and it needs onnxscript")
    except Exception as exc:  # any exporter failure is a finding to report, not a crash
        notes.append(f"dynamo exporter failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
    return legacy, notes


def _interleaved(variants: dict[str, Forward], batches: list[torch.Tensor], repeat: int) -> dict[str, Timing]:
    for fn in variants.values():
        fn(batches[0])  # lazy set-up and first-call optimisations outside the timings
    runs: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name, fn in variants.items():
            start = time.perf_counter()
            for x in batches:
                fn(x)
            runs[name].append(time.perf_counter() - start)
    return {name: Timing(tuple(r)) for name, r in runs.items()}


def _outputs(fn: Forward, batches: list[torch.Tensor]) -> list[tuple[torch.Tensor, ...]]:
    return [tuple(t.float().contiguous() for t in fn(x)) for x in batches]


def _row(name: str, timing: Timing, base: Timing, outputs: list[tuple[torch.Tensor, ...]],
         eager: list[tuple[torch.Tensor, ...]], spec: ModelSpec, n: int) -> str:
    raw = max(float((a - b).abs().max()) for o, e in zip(outputs, eager, strict=True)
              for a, b in zip(o, e, strict=True))
    decode = DECODE[spec.decode.type]
    frames = [pair for o, e in zip(outputs, eager, strict=True)
              for pair in zip(decode(o, spec.decode), decode(e, spec.decode), strict=True)]
    same, px, score, boxes = _compare(frames)
    ok = same and px <= TOLERANCE["boxes_px"] and score <= TOLERANCE["scores"]
    return (f"| {name} | {timing.rate(n):,.0f} | {base.median / timing.median:.2f}× | {raw:.1e} | "
            f"{'yes' if same else 'NO'} ({boxes}) | {px:.1e} | {score:.1e} | {'yes' if ok else 'NO'} |")


def _compare(frames: list[tuple[Decoded, Decoded]]) -> tuple[bool, float, float, int]:
    """Same box count in every frame; the largest coordinate and score gaps between matched boxes."""
    same, px, score, total = True, 0.0, 0.0, 0
    for a, b in frames:
        total += len(b.boxes)
        if len(a.boxes) != len(b.boxes) or (a.labels.size and sorted(a.labels) != sorted(b.labels)):
            same = False
            continue
        if not len(a.boxes):
            continue
        cost = np.abs(a.boxes[:, None, :] - b.boxes[None, :, :]).max(axis=2)
        rows, cols = linear_sum_assignment(cost)
        px = max(px, float(cost[rows, cols].max()))
        score = max(score, float(np.abs(a.scores[rows] - b.scores[cols]).max()))
    return same, px, score, total


def _runner_rows(frames: list[Frame], repeat: int) -> list[str]:
    """The whole runner, as the worker calls it, under torch and under ONNX Runtime (interleaved)."""
    runners = {rt: load_runner("builtin:driving-detector", runtime=rt) for rt in ("torch", "onnxruntime")}
    runs: dict[str, list[float]] = {rt: [] for rt in runners}
    for r in runners.values():
        r.warm_up(BATCH)
    for _ in range(repeat):
        for rt, r in runners.items():
            runs[rt].append(run_frames(r, frames, batch_size=BATCH).seconds)
    t = {rt: Timing(tuple(v)) for rt, v in runs.items()}
    return [f"| {rt} | {t[rt].rate(len(frames)):,.0f} | {1000 * t[rt].median / len(frames):.1f} | "
            f"{t['torch'].median / t[rt].median:.2f}× |" for rt in runners]


def _stages(frames: list[Frame]) -> list[str]:
    """ms per frame of each stage of the automation step under the default runtime, one pass."""
    from services.engine.frame_refs import resolve_frame, synthetic_ref

    runner = load_runner("builtin:driving-detector")
    runner.warm_up(BATCH)
    ms = dict.fromkeys(("render the synthetic frame", "pre-process", "forward", "decode + results"), 0.0)
    for i in range(0, len(frames), BATCH):
        start = time.perf_counter()
        images = [resolve_frame(synthetic_ref(3, j)).image for j in range(i, min(i + BATCH, len(frames)))]
        t1 = time.perf_counter()
        x = to_batch([im for im in images if im is not None], runner.spec.input, runner.device).tensor
        t2 = time.perf_counter()
        outputs = runner.module(x)
        t3 = time.perf_counter()
        runner.infer(frames[i:i + BATCH])  # all stages but rendering; decode is the rest
        t4 = time.perf_counter()
        for key, seconds in zip(ms, (t1 - start, t2 - t1, t3 - t2, (t4 - t3) - (t3 - t1)), strict=True):
            ms[key] += 1000 * seconds / len(frames)
        assert outputs is not None
    total = sum(ms.values())
    return [f"| {stage} | {v:.1f} | {100 * v / total:.0f} % |" for stage, v in ms.items()]


def _report(rows: list[str], exports: list[str], runner_rows: list[str], stages: list[str], n: int,
            quick: bool) -> str:
    threads = torch.get_num_threads()
    return "\n".join([
        "## Inference: CPU runtimes for the driving detector (`benchmarks/inference.py`)", "",
        f"{n} rendered frames (`{SOURCE.format(n=n)}`), batches of {BATCH} as the automation worker sends them; "
        f"{threads} torch threads, ONNX Runtime intra-op threads the same; {machine()}."
        + (" QUICK SMOKE RUN, not a measurement." if quick else ""),
        "Forward pass only, repeats interleaved, medians; ratios against eager in the same run. Differences against "
        f"eager's outputs: raw tensors, and the decoded boxes (matched one to one per frame). Tolerance for the same "
        f"results: equal box counts and labels, boxes within {TOLERANCE['boxes_px']} px, scores within "
        f"{TOLERANCE['scores']}.", "",
        "| runtime | frames/s | vs eager | max raw diff | same box counts (boxes) | max box diff px | "
        "max score diff | within tolerance |",
        "|---|---:|---:|---:|---|---:|---:|---|", *rows, "",
        "ONNX export: " + "; ".join(exports) + ".", "",
        "The whole runner (pre-processing, forward, decoding, results), `load_runner(runtime=...)`, interleaved:", "",
        "| runtime | frames/s | ms/frame | vs torch |", "|---|---:|---:|---:|", *runner_rows, "",
        "Where the automation step's time goes per frame (default runtime, one pass, includes rendering the "
        "synthetic frame from its reference as the worker does):", "",
        "| stage | ms/frame | share |", "|---|---:|---:|", *stages,
    ])
