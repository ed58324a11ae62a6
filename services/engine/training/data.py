"""Training data in memory: frames from a source with their ground-truth boxes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.engine.frames import FrameSource


@dataclass(frozen=True, eq=False)
class DetectionData:
    images: np.ndarray  # [N, H, W, 3] uint8
    boxes: list[np.ndarray]  # per frame [M, 4] xywh
    labels: list[np.ndarray]  # per frame [M] dense category index

    def __len__(self) -> int:
        return len(self.images)


def detection_data(source: FrameSource, category_ids: list[int]) -> DetectionData:
    """All frames of ``source`` with boxes from its ground truth (crowd objects left out)."""
    doc = source.ground_truth()
    if doc is None:
        raise ValueError(f"{source.name} has no ground truth to train on")
    frames = list(source)
    index = {f.frame_id: i for i, f in enumerate(frames)}
    dense = {cid: k for k, cid in enumerate(category_ids)}
    boxes: list[list[list[float]]] = [[] for _ in frames]
    labels: list[list[int]] = [[] for _ in frames]
    for a in doc["annotations"]:
        if a.get("iscrowd", 0) or a["image_id"] not in index:
            continue
        boxes[index[a["image_id"]]].append(a["bbox"])
        labels[index[a["image_id"]]].append(dense[a["category_id"]])
    images = np.stack([f.image for f in frames if f.image is not None])
    return DetectionData(
        images, [np.array(b, dtype=np.float64).reshape(-1, 4) for b in boxes],
        [np.array(lb, dtype=np.int64) for lb in labels],
    )
