"""Training the reference 3D detector on synthetic LiDAR sweeps (seeded, CPU).

Frames are rendered and binned into grids once (float16, ~120 kB a frame) with their targets; training
is AdamW with a one-cycle schedule on the CenterPoint loss: focal loss on the heatmaps plus
:data:`REGRESSION_WEIGHT` times the L1 of the regression at the object centres.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from services.engine.evaluate3d import cuboid_truth
from services.engine.frames import FrameSource
from services.engine.models.bev_detector import FEATURES, GRID_COLS, GRID_ROWS, BevCenterNet
from services.engine.points import check_points, voxelise
from services.engine.spec import DecodeSpec, GridSpec, InputSpec, ModelSpec
from services.engine.training.bev_targets import BevTargets, bev_targets
from services.engine.training.centernet_loss import focal_loss

GRID = GridSpec(x_min=0.0, x_max=60.0, y_min=-25.0, y_max=25.0, cell=0.5)
SPEC = ModelSpec(
    name="driving3d-detector", kind="detector3d",
    input=InputSpec(width=GRID_COLS, height=GRID_ROWS, channels=FEATURES, mean=(0.0,) * FEATURES,
                    std=(1.0,) * FEATURES, scale=1.0, resize=False),
    decode=DecodeSpec(type="bev_centernet", stride=2, score_threshold=0.3, max_detections=100),
    categories=((1, "car"), (2, "pedestrian"), (3, "cyclist")),
    grid=GRID,
)
REGRESSION_WEIGHT = 0.25


@dataclass(frozen=True)
class BevTraining:
    frames: int = 2000
    data_seed: int = 1
    epochs: int = 8
    batch_size: int = 32
    lr: float = 3e-3
    seed: int = 0
    width: int = 24


@dataclass(frozen=True, eq=False)
class BevData:
    grids: np.ndarray  # [N, FEATURES, rows, cols] float16
    targets: BevTargets

    def __len__(self) -> int:
        return len(self.grids)


def bev_data(source: FrameSource, chunk: int = 64) -> BevData:
    """Every frame of ``source`` binned into the reference grid, with targets from its OpenLABEL ground truth."""
    frames = iter(source)
    grids: list[np.ndarray] = []
    ids: list[int] = []
    while batch := [f for _, f in zip(range(chunk), frames, strict=False)]:
        grids.append(voxelise([check_points(f) for f in batch], GRID, torch.device("cpu")).numpy().astype(np.float16))
        ids += [f.frame_id for f in batch]
    doc = source.ground_truth()
    if doc is None:
        raise ValueError(f"{source.name} has no ground truth to train on")
    truth = cuboid_truth(doc, source.name, ids)
    dense = {name: k for k, (_, name) in enumerate(SPEC.categories)}
    names = np.array([dense[n] for n in truth.categories.names], dtype=np.int64)
    box = truth.objects.geometry["cuboid3d"]["box"]
    offsets = truth.frame_offsets
    boxes = [box[offsets[f]:offsets[f + 1]] for f in range(len(ids))]
    labels = [names[truth.objects.category[offsets[f]:offsets[f + 1]]] for f in range(len(ids))]
    targets = bev_targets(boxes, labels, classes=len(SPEC.categories), grid=GRID, stride=SPEC.decode.stride)
    return BevData(np.concatenate(grids), targets)


def bev_loss(outputs: tuple[torch.Tensor, torch.Tensor], heat: torch.Tensor, index: torch.Tensor,
             regression: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    heat_logits, reg = outputs
    b, c = reg.shape[:2]
    at = reg.reshape(b, c, -1).gather(2, index[:, None, :].expand(b, c, -1)).permute(0, 2, 1)
    l1 = (torch.abs(at - regression) * mask[:, :, None]).sum() / mask.sum().clamp(min=1.0)
    return focal_loss(heat_logits, heat) + REGRESSION_WEIGHT * l1


def train_bev_detector(cfg: BevTraining, data: BevData, log: Callable[[str], None] = print) -> BevCenterNet:
    """Seeded AdamW + one-cycle schedule over the cached grids (channels-last: faster on the CPU)."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = BevCenterNet(num_classes=len(SPEC.categories), width=cfg.width).to(memory_format=torch.channels_last)
    per_epoch = len(data) // cfg.batch_size
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.epochs * per_epoch, pct_start=0.15)
    model.train()
    for epoch in range(cfg.epochs):
        start, losses = time.perf_counter(), []
        order = rng.permutation(len(data))
        for b in range(per_epoch):
            idx = np.sort(order[b * cfg.batch_size : (b + 1) * cfg.batch_size])
            loss = bev_loss(model(_inputs(data, idx)), *_targets(data.targets, idx))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
        log(f"epoch {epoch + 1}/{cfg.epochs}: loss {np.mean(losses):.3f} ({time.perf_counter() - start:.0f} s)")
    return model.to(memory_format=torch.contiguous_format).eval()


def _inputs(data: BevData, idx: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(data.grids[idx].astype(np.float32)).contiguous(memory_format=torch.channels_last)


def _targets(t: BevTargets, idx: np.ndarray) -> tuple[torch.Tensor, ...]:
    return (torch.from_numpy(t.heat[idx].astype(np.float32)), torch.from_numpy(t.index[idx]),
            torch.from_numpy(t.regression[idx]), torch.from_numpy(t.mask[idx]))
