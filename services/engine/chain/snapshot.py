"""A step's output on disk, lossless: ``<folder>/output.npz`` (float64 exactly, no pickles) and, for people's
tools, ``<folder>/results.json`` (COCO results as ``engine run`` writes them, rounded, with ``track_id`` and
``"interpolated": true`` where they apply).

:func:`content_hash` is a SHA-256 over every array but the per-frame inference times (a measurement, not
content), so two runs that agree on every box, score, id and flag have the same hash.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from services.engine.chain.data import FrameInfo, StepOutput
from services.engine.chain.exceptions import SnapshotMismatch
from services.engine.results import AutomationResult, to_coco_results
from services.io.files import write_json

OUTPUT, COCO = "output.npz", "results.json"
UNHASHED = frozenset({"inference_ms"})
FRAME_ARRAYS = ("frame_id", "video_id", "frame_index", "model_version", "error", "has_error", "confidence",
                "inference_ms", "tags", "box_count", "tracked")
BOX_ARRAYS = ("boxes", "category_ids", "scores", "track_ids", "interpolated")


def to_arrays(output: StepOutput) -> dict[str, np.ndarray]:
    """``output`` as named arrays: one entry per frame, then one per box (all frames' boxes in order)."""
    rs = output.results
    boxes = [r.boxes.reshape(-1, 4) for r in rs]
    return {
        "frame_id": np.array([f.frame_id for f in output.frames], dtype=np.int64),
        "video_id": np.array([f.video_id for f in output.frames], dtype=np.int64),
        "frame_index": np.array([f.frame_index for f in output.frames], dtype=np.int64),
        "model_version": np.array([r.model_version for r in rs], dtype=np.str_),
        "error": np.array([r.error or "" for r in rs], dtype=np.str_),
        "has_error": np.array([r.error is not None for r in rs], dtype=bool),
        "confidence": np.array([r.confidence for r in rs], dtype=np.float64),
        "inference_ms": np.array([r.inference_ms for r in rs], dtype=np.float64),
        "tags": np.array([json.dumps([dict(r.tags), dict(r.tag_scores)], sort_keys=True) for r in rs], dtype=np.str_),
        "box_count": np.array([len(b) for b in boxes], dtype=np.int64),
        "tracked": np.array([len(r.track_ids) > 0 for r in rs], dtype=bool),
        "boxes": np.concatenate([np.zeros((0, 4)), *boxes]).astype(np.float64),
        "category_ids": _flat([r.category_ids for r in rs], np.int64),
        "scores": _flat([r.scores for r in rs], np.float64),
        "track_ids": _flat([r.track_ids if len(r.track_ids) else np.full(len(r.boxes), -1) for r in rs], np.int64),
        "interpolated": _flat(list(output.interpolated), np.bool_),
    }


def from_arrays(a: dict[str, np.ndarray]) -> StepOutput:
    """The output :func:`to_arrays` was given."""
    bounds = np.concatenate([[0], np.cumsum(a["box_count"])])
    frames, results, flags = [], [], []
    for i in range(len(a["frame_id"])):
        rows = slice(int(bounds[i]), int(bounds[i + 1]))
        frames.append(FrameInfo(int(a["frame_id"][i]), int(a["video_id"][i]), int(a["frame_index"][i])))
        tags, tag_scores = json.loads(str(a["tags"][i]))
        results.append(AutomationResult(
            int(a["frame_id"][i]), str(a["model_version"][i]), boxes=a["boxes"][rows].copy(),
            category_ids=a["category_ids"][rows].copy(), scores=a["scores"][rows].copy(), tags=tags,
            tag_scores=tag_scores, confidence=float(a["confidence"][i]), inference_ms=float(a["inference_ms"][i]),
            error=str(a["error"][i]) if a["has_error"][i] else None,
            track_ids=a["track_ids"][rows].copy() if a["tracked"][i] else np.zeros(0, dtype=np.int64)))
        flags.append(a["interpolated"][rows].copy())
    return StepOutput(tuple(frames), tuple(results), tuple(flags))


def content_hash(arrays: dict[str, np.ndarray]) -> str:
    """``sha256:<hex>`` of every array's name, dtype, shape and bytes, but the inference times."""
    digest = hashlib.sha256()
    for name in sorted(set(arrays) - UNHASHED):
        a = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        digest.update(a.tobytes())
    return f"sha256:{digest.hexdigest()}"


def write_snapshot(folder: Path, output: StepOutput) -> str:
    """Write ``output`` into ``folder`` (made if missing); its content hash."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = to_arrays(output)
    np.savez(folder / OUTPUT, allow_pickle=False, **arrays)
    write_json(folder / COCO, coco_results(output), indent=False)
    return content_hash(arrays)


def read_snapshot(folder: Path, expected_hash: str | None = None) -> StepOutput:
    """The output stored in ``folder``; :class:`SnapshotMismatch` if it is missing, unreadable or its content
    hash is not ``expected_hash``."""
    path = folder / OUTPUT
    if not path.is_file():
        raise SnapshotMismatch(str(path), "", "no such snapshot file")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise SnapshotMismatch(str(path), "", f"not a readable snapshot ({exc})") from None
    missing = sorted(set(FRAME_ARRAYS + BOX_ARRAYS) - set(arrays))
    if missing:
        raise SnapshotMismatch(str(path), "", f"not a step snapshot (missing {', '.join(missing)})")
    found = content_hash(arrays)
    if expected_hash is not None and found != expected_hash:
        raise SnapshotMismatch(str(path), "", f"content hash {found} is not the manifest's {expected_hash}")
    return from_arrays(arrays)


def coco_results(output: StepOutput) -> dict[str, Any]:
    """COCO results of ``output`` (:func:`~services.engine.results.to_coco_results`), interpolated boxes flagged."""
    doc = to_coco_results(output.results)
    flags = [bool(f) for r, m in zip(output.results, output.interpolated, strict=True) if r.ok for f in m]
    for record, flag in zip(doc["annotations"], flags, strict=True):
        if flag:
            record["interpolated"] = True
    return doc


def _flat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate([np.zeros(0, dtype=dtype), *(np.asarray(p, dtype=dtype).reshape(-1) for p in parts)])
