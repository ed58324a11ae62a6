"""Training the reference driving detector on rendered synthetic scenes (seeded, CPU)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from services.engine.models.detector import TinyCenterNet
from services.engine.spec import DecodeSpec, InputSpec, ModelSpec
from services.engine.training.centernet_loss import centernet_loss
from services.engine.training.centernet_targets import build_targets
from services.engine.training.data import DetectionData

SPEC = ModelSpec(
    name="driving-detector", kind="detector",
    input=InputSpec(width=320, height=192, channels=3, mean=(0.45, 0.45, 0.45), std=(0.25, 0.25, 0.25)),
    decode=DecodeSpec(type="centernet", stride=4, score_threshold=0.3, max_detections=100),
    categories=((1, "car"), (2, "pedestrian"), (3, "cyclist"), (4, "traffic_sign")),
)


@dataclass(frozen=True)
class DetectorTraining:
    frames: int = 4000
    data_seed: int = 1
    epochs: int = 24
    batch_size: int = 32
    lr: float = 3e-3
    seed: int = 0
    width: int = 32


def train_detector(cfg: DetectorTraining, data: DetectionData, log: Callable[[str], None] = print) -> TinyCenterNet:
    """Seeded AdamW + one-cycle schedule with random horizontal flips."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = TinyCenterNet(num_classes=len(SPEC.categories), width=cfg.width)
    steps = cfg.epochs * (len(data) // cfg.batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps, pct_start=0.15)
    model.train()
    for epoch in range(cfg.epochs):
        start, losses = time.perf_counter(), []
        order = rng.permutation(len(data))
        for b in range(len(data) // cfg.batch_size):
            idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            flips = rng.random(len(idx)) < 0.5
            loss = centernet_loss(model(_inputs(data, idx, flips)), *_targets(data, idx, flips))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
        log(f"epoch {epoch + 1}/{cfg.epochs}: loss {np.mean(losses):.3f} ({time.perf_counter() - start:.0f} s)")
    return model.eval()


def _inputs(data: DetectionData, idx: np.ndarray, flips: np.ndarray) -> torch.Tensor:
    images = data.images[idx].copy()
    images[flips] = images[flips][:, :, ::-1]
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    s = SPEC.input
    mean = torch.tensor(s.mean).view(1, -1, 1, 1)
    std = torch.tensor(s.std).view(1, -1, 1, 1)
    return (x * s.scale - mean) / std


def _targets(data: DetectionData, idx: np.ndarray, flips: np.ndarray) -> tuple[torch.Tensor, ...]:
    width = data.images.shape[2]
    boxes = []
    for i, flip in zip(idx.tolist(), flips.tolist(), strict=True):
        b = data.boxes[i].copy()
        if flip:
            b[:, 0] = width - b[:, 0] - b[:, 2]
        boxes.append(b)
    t = build_targets(boxes, [data.labels[i] for i in idx.tolist()], classes=len(SPEC.categories),
                      height=data.images.shape[1], width=width, stride=SPEC.decode.stride)
    return (torch.from_numpy(t.heat.astype(np.float32)), torch.from_numpy(t.index), torch.from_numpy(t.size),
            torch.from_numpy(t.offset), torch.from_numpy(t.mask))
