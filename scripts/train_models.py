"""Train the reference models and write their weights and specs (``make models``).

Seeded end to end on the CPU: re-running reproduces the committed weights'
scores within about a point (see BENCHMARKS.md). Never run at test or run time.

    python scripts/train_models.py [digits] [driving-detector] [driving3d-detector]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import torch

from services.datasets.digits import load_split
from services.engine.loading import WEIGHTS, load_runner
from services.engine.sources import open_source
from services.engine.spec import ModelSpec
from services.engine.training.bev_calibration import calibrate_bev
from services.engine.training.bev_detector import SPEC as BEV_SPEC
from services.engine.training.bev_detector import BevTraining, bev_data, train_bev_detector
from services.engine.training.calibration import calibrate
from services.engine.training.data import detection_data
from services.engine.training.detector import SPEC as DETECTOR_SPEC
from services.engine.training.detector import DetectorTraining, train_detector
from services.engine.training.digits import BASE_SPEC as DIGITS_SPEC
from services.engine.training.digits import DigitsTraining, fit_temperature, train_digits

THREADS = 2  # fixed, so float reductions (and so the weights) repeat run to run


def save(model: torch.nn.Module, spec: ModelSpec, out: Path = WEIGHTS) -> None:
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / f"{spec.name}.pt")
    (out / f"{spec.name}.json").write_bytes(spec.canonical_json() + b"\n")
    print(f"wrote {out / spec.name}.pt ({(out / f'{spec.name}.pt').stat().st_size / 1e6:.2f} MB) and .json")


def digits() -> None:
    train, calib = load_split("train"), load_split("calibration")
    model = train_digits(DigitsTraining(), train.images, train.labels)
    temperature = fit_temperature(model, calib.images, calib.labels)
    print(f"digits: temperature {temperature:.3f} fitted on {len(calib)} calibration frames")
    spec = dataclasses.replace(DIGITS_SPEC, decode=dataclasses.replace(DIGITS_SPEC.decode, temperature=temperature))
    save(model, spec)


def driving_detector() -> None:
    cfg = DetectorTraining()
    start = time.perf_counter()
    source = open_source(f"synthetic://driving?seed={cfg.data_seed}&n={cfg.frames}")
    data = detection_data(source, [cid for cid, _ in DETECTOR_SPEC.categories])
    print(f"driving-detector: rendered {len(data)} training frames in {time.perf_counter() - start:.0f} s")
    save(train_detector(cfg, data), DETECTOR_SPEC)
    calibrate_detector()


def calibrate_detector() -> None:
    """Fit the frame-confidence calibration on held-out frames (seed 3; seed 2 is for scoring)."""
    spec = calibrate(load_runner("builtin:driving-detector"), open_source(CALIBRATION))
    (WEIGHTS / "driving-detector.json").write_bytes(spec.canonical_json() + b"\n")
    print(f"driving-detector: confidence = sigmoid({spec.decode.confidence_slope:.4f} * log-certainty "
          f"+ {spec.decode.confidence_bias:.4f}) fitted on {CALIBRATION}")


def driving3d_detector() -> None:
    cfg = BevTraining()
    start = time.perf_counter()
    data = bev_data(open_source(f"synthetic://driving3d?seed={cfg.data_seed}&n={cfg.frames}"))
    print(f"driving3d-detector: swept and binned {len(data)} training frames in {time.perf_counter() - start:.0f} s")
    save(train_bev_detector(cfg, data), BEV_SPEC)
    calibrate_detector3d()
    print(f"driving3d-detector: {time.perf_counter() - start:.0f} s in all")


def calibrate_detector3d() -> None:
    """Fit the 3D detector's frame-confidence calibration on held-out sweeps (seed 3; seed 2 is for scoring)."""
    spec = calibrate_bev(load_runner("builtin:driving3d-detector"), open_source(CALIBRATION_3D))
    (WEIGHTS / "driving3d-detector.json").write_bytes(spec.canonical_json() + b"\n")
    print(f"driving3d-detector: score threshold {spec.decode.score_threshold}; confidence = "
          f"sigmoid({spec.decode.confidence_slope:.4f} * log-certainty + {spec.decode.confidence_bias:.4f}), "
          f"both fitted on {CALIBRATION_3D}")


MODELS = {"digits": digits, "driving-detector": driving_detector, "calibrate-detector": calibrate_detector,
          "driving3d-detector": driving3d_detector, "calibrate-detector3d": calibrate_detector3d}
DEFAULT = ("digits", "driving-detector", "driving3d-detector")
CALIBRATION = "synthetic://driving?seed=3&n=1000"
CALIBRATION_3D = "synthetic://driving3d?seed=3&n=1000"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help=f"which to train: {', '.join(MODELS)} (default: {' '.join(DEFAULT)})")
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    for name in args.models or DEFAULT:
        if name not in MODELS:
            parser.error(f"unknown model {name!r} (known: {', '.join(MODELS)})")
        MODELS[name]()


if __name__ == "__main__":
    main()
