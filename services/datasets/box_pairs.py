"""Simulated annotation pairs for driving frames: manual boxes and a detector's output.

No pixels: objects are drawn from per-class size distributions and a simulated
detector misses small and occluded objects more often (worse in fog and at
night), jitters boxes in proportion to their size, confuses pedestrians with
cyclists, duplicates some objects and fires on clutter. Used for the bundled
sample, the benchmarks and tests; deterministic per seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

CATEGORIES = ("car", "pedestrian", "cyclist", "traffic_sign")
_CLASS_P = np.array([0.5, 0.25, 0.1, 0.15])
_LOG_HEIGHT = np.array([[3.6, 0.8], [3.8, 0.7], [3.8, 0.6], [2.8, 0.6]])  # mean, sd of log(px)
_ASPECT = np.array([1.6, 0.4, 0.8, 1.0])  # width / height
WEATHER = ("clear", "rain", "fog")
TIME_OF_DAY = ("day", "dusk", "night")
_HARSHNESS = {"clear": 0.0, "rain": 0.4, "fog": 0.8, "day": 0.0, "dusk": 0.3, "night": 0.7}


@dataclass(frozen=True)
class PairConfig:
    frames: int = 200
    objects_per_frame: float = 20.0
    width: int = 1920
    height: int = 1080
    seed: int = 0
    model_version: str = "sim-detector-1"


def generate(config: PairConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """A COCO ground-truth document and a COCO results object for the same frames."""
    rng = np.random.default_rng(config.seed)
    weather = rng.choice(WEATHER, size=config.frames, p=[0.6, 0.25, 0.15])
    time_of_day = rng.choice(TIME_OF_DAY, size=config.frames, p=[0.6, 0.2, 0.2])
    counts = rng.poisson(config.objects_per_frame, size=config.frames)
    frame = np.repeat(np.arange(config.frames), counts)
    gt = _objects(rng, frame, config)
    harsh = np.array([_HARSHNESS[w] + _HARSHNESS[t] for w, t in zip(weather, time_of_day, strict=True)])
    dt = _detections(rng, gt, harsh, config)
    images = [
        {"id": f + 1, "width": config.width, "height": config.height, "file_name": f"frame_{f + 1:06d}.png",
         "tags": {"weather": str(weather[f]), "time_of_day": str(time_of_day[f])}}
        for f in range(config.frames)
    ]
    manual = {"images": images, "annotations": _records(gt, ground_truth=True), "categories": _categories()}
    automation = {
        "model_version": config.model_version,
        "images": _frame_confidence(dt, config.frames),
        "annotations": _records(dt, ground_truth=False),
    }
    return manual, automation


def _categories() -> list[dict[str, Any]]:
    return [{"id": i + 1, "name": n, "supercategory": "road"} for i, n in enumerate(CATEGORIES)]


def _objects(rng: np.random.Generator, frame: np.ndarray, cfg: PairConfig) -> dict[str, np.ndarray]:
    n = len(frame)
    cat = rng.choice(len(CATEGORIES), size=n, p=_CLASS_P)
    h = np.exp(rng.normal(_LOG_HEIGHT[cat, 0], _LOG_HEIGHT[cat, 1]))
    h = np.clip(h, 4, cfg.height * 0.8)
    w = np.clip(h * _ASPECT[cat] * rng.uniform(0.8, 1.25, n), 3, cfg.width * 0.8)
    x = rng.uniform(0, cfg.width - w)
    y = rng.uniform(0, cfg.height - h)
    occluded = rng.random(n) < 0.2
    crowd = (cat == 1) & (rng.random(n) < 0.01)
    return {"frame": frame, "cat": cat, "box": np.round(np.stack([x, y, w, h], 1), 1),
            "occluded": occluded, "crowd": crowd, "score": np.full(n, np.nan)}


def _detections(
    rng: np.random.Generator, gt: dict[str, np.ndarray], harsh: np.ndarray, cfg: PairConfig
) -> dict[str, np.ndarray]:
    box, cat, frame = gt["box"], gt["cat"], gt["frame"]
    n = len(frame)
    size = np.sqrt(box[:, 2] * box[:, 3])
    difficulty = 1.2 * harsh[frame] + 1.5 * gt["occluded"] + 18.0 / size
    p_detect = 1 / (1 + np.exp(-(5.5 - 1.6 * difficulty)))
    found = (rng.random(n) < p_detect) & ~gt["crowd"]
    jitter = rng.normal(0, 0.04 + 0.03 * difficulty[:, None], (n, 4)) * box[:, [2, 3, 2, 3]]
    dbox = box + jitter
    dbox[:, 2:] = np.maximum(dbox[:, 2:], 2.0)
    confuse = (cat == 1) & (rng.random(n) < 0.06) | (cat == 2) & (rng.random(n) < 0.12)
    dcat = np.where(confuse, 3 - cat, cat)  # pedestrian <-> cyclist
    score = np.clip(p_detect - 0.15 * confuse + rng.normal(0, 0.08, n), 0.05, 0.999)
    dup = found & (rng.random(n) < 0.02)
    occluded = gt["occluded"] ^ (rng.random(n) < 0.03)  # the occlusion flag is sometimes wrong
    clutter_frame = np.repeat(np.arange(len(harsh)), rng.poisson(0.4 + 0.8 * harsh))
    clutter = _objects(rng, clutter_frame, cfg)
    keep = np.flatnonzero(found)
    d = np.flatnonzero(dup)
    out = {
        "frame": np.concatenate([frame[keep], frame[d], clutter_frame]),
        "cat": np.concatenate([dcat[keep], dcat[d], clutter["cat"]]),
        "box": np.round(np.concatenate([dbox[keep], dbox[d] * 1.03, clutter["box"]]), 1),
        "score": np.round(np.concatenate([score[keep], score[d] * 0.6,
                                          rng.uniform(0.3, 0.7, len(clutter_frame))]), 3),
        "occluded": np.concatenate([occluded[keep], occluded[d], clutter["occluded"]]),
    }
    order = np.argsort(out["frame"], kind="stable")
    return {k: v[order] for k, v in out.items()}


def _frame_confidence(dt: dict[str, np.ndarray], frames: int) -> list[dict[str, Any]]:
    total = np.bincount(dt["frame"], weights=1 - dt["score"], minlength=frames)
    conf = np.exp(-total / 4.0)
    return [{"id": f + 1, "confidence": round(float(conf[f]), 4)} for f in range(frames)]


def _records(o: dict[str, np.ndarray], *, ground_truth: bool) -> list[dict[str, Any]]:
    boxes = o["box"].tolist()
    out = []
    for i, (f, c) in enumerate(zip(o["frame"].tolist(), o["cat"].tolist(), strict=True)):
        rec: dict[str, Any] = {"image_id": f + 1, "category_id": c + 1, "bbox": boxes[i],
                               "attributes": {"occluded": bool(o["occluded"][i])}}
        if ground_truth:
            w, h = boxes[i][2], boxes[i][3]
            rec.update(id=i + 1, area=round(w * h, 2), iscrowd=int(o["crowd"][i]))
        else:
            rec["score"] = float(o["score"][i])
        out.append(rec)
    return out
