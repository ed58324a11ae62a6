"""Network outputs to per-frame annotations, batched in torch.

Each decoder returns, per frame: boxes (xywh, input pixels), category indices,
scores, tag probabilities, and the frame-level confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from services.engine.spec import DecodeSpec

PEAK_FLOOR = 0.05  # peaks below this count as confidently empty


@dataclass(frozen=True, eq=False)
class Decoded:
    boxes: np.ndarray  # [N, 4] x, y, w, h in model-input pixels
    labels: np.ndarray  # [N] category index
    scores: np.ndarray  # [N]
    tag_probs: np.ndarray  # [C] class probabilities (classifiers), empty for detectors
    confidence: float
    log_certainty: float = float("nan")  # detectors: Σ log max(p, 1 − p) over candidate peaks


def decode_centernet(outputs: tuple[torch.Tensor, ...], spec: DecodeSpec) -> list[Decoded]:
    """Heatmap peaks (3x3 local maxima) become boxes; frame confidence is the product of
    each candidate peak's certainty max(p, 1 - p), so frames with many borderline
    objects are the least trusted."""
    heat_logits, log_size, offset = (t.float().contiguous() for t in outputs[:3])  # may be channels-last
    heat = torch.sigmoid(heat_logits)
    b, k, h, w = heat.shape
    peaks = heat * (F.max_pool2d(heat, 3, stride=1, padding=1) == heat)
    scores, index = peaks.view(b, -1).topk(min(spec.max_detections, k * h * w))
    cls, pix = index // (h * w), index % (h * w)
    ys, xs = (pix // w).float(), (pix % w).float()
    off = offset.view(b, 2, -1).gather(2, pix[:, None, :].expand(b, 2, -1))
    size = log_size.view(b, 2, -1).gather(2, pix[:, None, :].expand(b, 2, -1)).exp()
    cx, cy = (xs + off[:, 0]) * spec.stride, (ys + off[:, 1]) * spec.stride
    boxes = torch.stack([cx - size[:, 0] / 2, cy - size[:, 1] / 2, size[:, 0], size[:, 1]], dim=2)
    log_cert = log_certainty(scores)
    return _split(boxes, cls, scores, frame_confidence(log_cert, spec), log_cert, spec)


def log_certainty(scores: torch.Tensor) -> torch.Tensor:
    """Σ log max(p, 1 − p) over a frame's candidate peaks: how sure the detector is of every call."""
    certainty = torch.where(scores >= PEAK_FLOOR, torch.maximum(scores, 1 - scores), torch.ones_like(scores))
    return certainty.log().sum(1)


def frame_confidence(log_cert: torch.Tensor, spec: DecodeSpec) -> torch.Tensor:
    """The calibrated probability that the frame is right, or the raw product of certainties."""
    if spec.confidence_slope is None:
        return log_cert.exp()
    return torch.sigmoid(spec.confidence_slope * log_cert + spec.confidence_bias)


def decode_boxes(outputs: tuple[torch.Tensor, ...], spec: DecodeSpec) -> list[Decoded]:
    """Ready-made boxes (x1, y1, x2, y2), scores and labels, with optional class-wise NMS."""
    from torchvision.ops import batched_nms

    boxes_xyxy, scores, labels = (t.float() for t in outputs[:3])
    out = []
    for bx, sc, lb in zip(boxes_xyxy, scores, labels.long(), strict=True):
        keep = sc >= spec.score_threshold
        bx, sc, lb = bx[keep], sc[keep], lb[keep]
        if spec.nms_iou is not None and len(sc):
            kept = batched_nms(bx, sc, lb, spec.nms_iou)[: spec.max_detections]
            bx, sc, lb = bx[kept], sc[kept], lb[kept]
        xywh = torch.cat([bx[:, :2], bx[:, 2:] - bx[:, :2]], dim=1)
        certainty = torch.maximum(sc, 1 - sc)
        out.append(Decoded(xywh.cpu().numpy().astype(np.float64), lb.cpu().numpy().astype(np.int64),
                           sc.cpu().numpy().astype(np.float64), np.zeros(0), float(certainty.prod())))
    return out


def decode_softmax(outputs: tuple[torch.Tensor, ...], spec: DecodeSpec) -> list[Decoded]:
    """Temperature-scaled class probabilities; confidence is the top probability."""
    probs = torch.softmax(outputs[0].float() / spec.temperature, dim=1).cpu().numpy().astype(np.float64)
    empty_boxes, empty = np.zeros((0, 4)), np.zeros(0)
    return [Decoded(empty_boxes, empty.astype(np.int64), empty, p, float(p.max())) for p in probs]


def _split(
    boxes: torch.Tensor, cls: torch.Tensor, scores: torch.Tensor, confidence: torch.Tensor, log_cert: torch.Tensor,
    spec: DecodeSpec,
) -> list[Decoded]:
    keep = (scores >= spec.score_threshold).cpu().numpy()
    bx = boxes.cpu().numpy().astype(np.float64)
    lb = cls.cpu().numpy().astype(np.int64)
    sc = scores.cpu().numpy().astype(np.float64)
    conf = confidence.cpu().numpy().astype(np.float64)
    lc = log_cert.cpu().numpy().astype(np.float64)
    return [Decoded(bx[i][keep[i]], lb[i][keep[i]], sc[i][keep[i]], np.zeros(0), float(conf[i]), float(lc[i]))
            for i in range(len(bx))]


DECODE = {"centernet": decode_centernet, "boxes": decode_boxes, "softmax": decode_softmax}
