"""Random clips for the reference comparisons: moving boxes, occlusions, id swaps, empty frames, clutter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.tracking import Tracks


@dataclass(frozen=True)
class Rows:
    frame: np.ndarray
    track_id: np.ndarray
    boxes: np.ndarray


def random_clip(seed: int, *, max_frames: int = 40, max_tracks: int = 8) -> tuple[Tracks, Tracks]:
    """A ground truth and a hypothesis for one clip; every seed picks its own mix of difficulties."""
    rng = np.random.default_rng(seed)
    num_frames = int(rng.integers(1, max_frames + 1))
    gt = _ground_truth(rng, num_frames, int(rng.integers(0, max_tracks + 1)))
    hyp = _hypothesis(rng, gt, num_frames)
    if rng.random() < 0.3:  # whole frames empty on one side or both
        gone = rng.random(num_frames) < 0.2
        side = rng.integers(0, 3)
        gt = _drop(gt, gone[gt.frame]) if side != 1 else gt
        hyp = _drop(hyp, gone[hyp.frame]) if side != 0 else hyp
    return _tracks(rng, gt, num_frames), _tracks(rng, hyp, num_frames)


def _ground_truth(rng: np.random.Generator, num_frames: int, n: int) -> Rows:
    rows: list[tuple[int, int, np.ndarray]] = []
    ids = rng.choice(10**6 if rng.random() < 0.5 else 50, size=n, replace=False) * (1 if rng.random() < 0.7 else -1)
    for k, track in enumerate(ids):
        start = int(rng.integers(0, num_frames))
        stop = int(rng.integers(start + 1, num_frames + 1))
        box = np.array([rng.uniform(0, 400), rng.uniform(0, 300), rng.uniform(8, 120), rng.uniform(8, 160)])
        if k % 2 and rows:  # cross the previous track: start on it, drift apart or together
            box[:2] = rows[-1][2][:2] + rng.normal(0, 5, 2)
        speed = rng.normal(0, 6, 2)
        for f in range(start, stop):
            if rng.random() < 0.1:  # occluded: missing from the ground truth for this frame
                continue
            rows.append((f, int(track), box + np.r_[speed * (f - start), 0, 0]))
    return _rows(rows)


def _hypothesis(rng: np.random.Generator, gt: Rows, num_frames: int) -> Rows:
    miss, jitter, switch = rng.uniform(0, 0.4), rng.choice([0.0, 1.0, 4.0, 12.0]), rng.uniform(0, 0.15)
    label = {int(t): int(t) * 7 + 3 for t in np.unique(gt.track_id)}
    rows = []
    for f, t, box in zip(gt.frame, gt.track_id, gt.boxes, strict=True):
        if rng.random() < switch:  # id switch: this gt track continues under another hypothesis id
            others = [v for k, v in label.items() if k != t]
            if others and rng.random() < 0.5:
                other = int(rng.choice(others))
                swap = next(k for k, v in label.items() if v == other)
                label[int(t)], label[swap] = other, label[int(t)]
            else:
                label[int(t)] = int(rng.integers(10**7, 10**8))
        if rng.random() >= miss:
            rows.append((int(f), label[int(t)], box + rng.normal(0, jitter, 4) * [1, 1, 0.5, 0.5]))
    for _ in range(int(rng.integers(0, 3 * num_frames // 4 + 2))):  # false positives, some near objects
        box = np.array([rng.uniform(0, 400), rng.uniform(0, 300), rng.uniform(8, 120), rng.uniform(8, 160)])
        rows.append((int(rng.integers(0, num_frames)), int(rng.integers(-(10**5), -1)), box))
    out = _rows(rows)
    first = np.unique(np.c_[out.frame, out.track_id], axis=0, return_index=True)[1]
    return Rows(out.frame[first], out.track_id[first], out.boxes[first])


def _rows(rows: list[tuple[int, int, np.ndarray]]) -> Rows:
    if not rows:
        return Rows(np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, 4)))
    frame, ids, boxes = zip(*rows, strict=True)
    out = np.array(boxes, dtype=np.float64)
    out[:, 2:] = np.abs(out[:, 2:])
    return Rows(np.array(frame, np.int64), np.array(ids, np.int64), out)


def _drop(rows: Rows, mask: np.ndarray) -> Rows:
    return Rows(rows.frame[~mask], rows.track_id[~mask], rows.boxes[~mask])


def _tracks(rng: np.random.Generator, rows: Rows, num_frames: int) -> Tracks:
    boxes = np.round(rows.boxes) if rng.random() < 0.25 else rows.boxes  # integer boxes: exact ties happen
    order = rng.permutation(len(rows.frame))
    return Tracks.from_arrays(num_frames=num_frames, frame=rows.frame[order], track_id=rows.track_id[order],
                              boxes=boxes[order])
