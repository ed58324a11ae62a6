"""A bird's-eye-view detector's outputs as cuboids per frame, batched in torch (decoder ``bev_centernet``).

Outputs: heatmap logits [B,K,h,w] over cells of ``grid.cell * decode.stride`` metres (row i covers
x from ``grid.x_min + i * cell``, column j y from ``grid.y_min + j * cell``), and regression
[B,8,h,w] (:data:`~services.engine.models.bev_detector.REGRESSION`): the centre's offset within its
cell (in cells, along x then y), its height z (metres), log length, width and height (metres), and
sine and cosine of the yaw. Heatmap peaks (3x3 local maxima) become cuboids
``(x, y, z, length, width, height, yaw)``, yaw in (-π, π]; a frame's confidence is as the 2D
detector's (:func:`services.engine.decode.frame_confidence` of the log-certainty of its peaks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from services.engine.decode import frame_confidence, log_certainty
from services.engine.spec import DecodeSpec, GridSpec


@dataclass(frozen=True, eq=False)
class Cuboids:
    """One frame's detections: ``boxes`` (N, 7: x, y, z, length, width, height, yaw), category indices, scores."""

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    confidence: float
    log_certainty: float


def decode_bev(outputs: tuple[torch.Tensor, ...], spec: DecodeSpec, grid: GridSpec) -> list[Cuboids]:
    """The cuboids of each frame whose peak score reaches ``spec.score_threshold`` (at most ``max_detections``)."""
    heat_logits, regression = (t.float().contiguous() for t in outputs[:2])  # may be channels-last
    heat = torch.sigmoid(heat_logits)
    b, k, h, w = heat.shape
    peaks = heat * (F.max_pool2d(heat, 3, stride=1, padding=1) == heat)
    scores, index = peaks.view(b, -1).topk(min(spec.max_detections, k * h * w))
    cls, cell = index // (h * w), index % (h * w)
    reg = regression.view(b, regression.shape[1], -1).gather(2, cell[:, None, :].expand(b, regression.shape[1], -1))
    size = grid.cell * spec.stride
    x = grid.x_min + ((cell // w).float() + reg[:, 0]) * size
    y = grid.y_min + ((cell % w).float() + reg[:, 1]) * size
    yaw = torch.atan2(reg[:, 6], reg[:, 7])
    boxes = torch.stack([x, y, reg[:, 2], *reg[:, 3:6].exp().unbind(1), yaw], dim=2)
    log_cert = log_certainty(scores)
    return _split(boxes, cls, scores, frame_confidence(log_cert, spec), log_cert, spec.score_threshold)


def _split(boxes: torch.Tensor, cls: torch.Tensor, scores: torch.Tensor, confidence: torch.Tensor,
           log_cert: torch.Tensor, threshold: float) -> list[Cuboids]:
    keep = (scores >= threshold).cpu().numpy()
    bx, lb = boxes.cpu().numpy().astype(np.float64), cls.cpu().numpy().astype(np.int64)
    sc, conf = scores.cpu().numpy().astype(np.float64), confidence.cpu().numpy().astype(np.float64)
    lc = log_cert.cpu().numpy().astype(np.float64)
    return [Cuboids(bx[i][keep[i]], lb[i][keep[i]], sc[i][keep[i]], float(conf[i]), float(lc[i]))
            for i in range(len(bx))]
