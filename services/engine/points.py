"""Point-cloud frames through a bird's-eye-view 3D detector (a ``detector3d`` spec): binned, run, decoded.

Each cell of the model's :class:`~services.engine.spec.GridSpec` gets :data:`FEATURES`: log(1 + its
points), log(1 + its points more than :data:`RAISED` m above the ground), their highest and mean z
(metres above the ground, clipped to :data:`Z_RANGE`) and their highest intensity; an empty cell is
all zeros. Points outside the grid, or not finite, are dropped. Vectorised in torch (bincount and
scatter-max over the whole batch's points at once), on the runner's device; :func:`forward` runs the
network on the grids and decodes its cuboids (:mod:`services.engine.decode_bev`) as
results (:class:`~services.engine.results.CuboidResult`) in the grid's coordinate system.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from services.engine.decode_bev import Cuboids, decode_bev
from services.engine.frames import Frame
from services.engine.preprocess import BadFrame
from services.engine.results import AutomationResult, CuboidResult
from services.engine.spec import GridSpec, InputSpec, ModelSpec

FEATURES = ("log_points", "log_raised_points", "max_z", "mean_z", "max_intensity")
RAISED = 0.25  # metres: higher points are not ground returns
Z_RANGE = (-1.0, 5.0)


def check_points(frame: Frame) -> np.ndarray:
    """The frame's points as an (N, >= 4) float array (x, y, z, intensity), or BadFrame saying what is wrong."""
    points = frame.points
    if points is None:
        if frame.image is not None:
            raise BadFrame("this model takes a point cloud (x, y, z, intensity); the frame is an image")
        raise BadFrame(frame.error or "no points")
    if points.ndim != 2 or points.shape[1] < 4 or not np.issubdtype(points.dtype, np.floating):
        raise BadFrame(f"expected an (N, 4) float point cloud (x, y, z, intensity), got a {points.dtype} array of "
                       f"shape {tuple(points.shape)}")
    return points


def blank_cloud() -> np.ndarray:
    """A sweep without returns: a valid frame with nothing in it."""
    return np.zeros((0, 4), dtype=np.float32)


def forward(
    module: Callable[[torch.Tensor], object], spec: ModelSpec, model_version: str, frames: Sequence[Frame],
    clouds: Sequence[np.ndarray], *, device: torch.device, memory_format: torch.memory_format,
) -> list[AutomationResult]:
    """A detector3d's cuboids for each frame (whose points ``check_points`` gave ``clouds``)."""
    assert spec.grid is not None, "a detector3d spec has a grid"
    start = time.perf_counter()
    x = normalised(voxelise(clouds, spec.grid, device), spec.input).contiguous(memory_format=memory_format)
    with torch.inference_mode():
        outputs = module(x)
    outputs = outputs if isinstance(outputs, tuple | list) else (outputs,)
    decoded = decode_bev(tuple(outputs), spec.decode, spec.grid)
    ms = 1000 * (time.perf_counter() - start) / len(frames)
    return [_result(f, d, spec, model_version, ms) for f, d in zip(frames, decoded, strict=True)]


def _result(frame: Frame, d: Cuboids, spec: ModelSpec, model_version: str, ms: float) -> CuboidResult:
    ids = np.array([c for c, _ in spec.categories], dtype=np.int64)[d.labels]
    system = spec.grid.frame if spec.grid is not None else ""
    return CuboidResult(frame.frame_id, model_version, boxes=d.boxes, category_ids=ids, scores=d.scores,
                        confidence=d.confidence, inference_ms=ms, coordinate_system=system)


def voxelise(clouds: Sequence[np.ndarray], grid: GridSpec, device: torch.device) -> torch.Tensor:
    """The :data:`FEATURES` of each cloud's cells: a [B, 5, rows, cols] float32 tensor on ``device``."""
    rows, cols, b = grid.rows, grid.cols, len(clouds)
    n = b * rows * cols
    pts = torch.from_numpy(np.concatenate([c[:, :4] for c in clouds]).astype(np.float32, copy=False)).to(device)
    frame = torch.repeat_interleave(torch.arange(b, device=device),
                                    torch.tensor([len(c) for c in clouds], device=device))
    row = torch.floor((pts[:, 0] - grid.x_min) / grid.cell)
    col = torch.floor((pts[:, 1] - grid.y_min) / grid.cell)
    inside = (row >= 0) & (row < rows) & (col >= 0) & (col < cols) & torch.isfinite(pts).all(dim=1)
    cell = ((frame * rows + row.long()) * cols + col.long())[inside]
    z = pts[inside, 2].clamp(*Z_RANGE)
    count = torch.bincount(cell, minlength=n).to(torch.float32)
    raised = torch.bincount(cell[z > RAISED], minlength=n).to(torch.float32)
    mean_z = torch.bincount(cell, weights=z, minlength=n).to(torch.float32) / count.clamp(min=1.0)
    features = torch.stack([torch.log1p(count), torch.log1p(raised), _cell_max(cell, z, n), mean_z,
                            _cell_max(cell, pts[inside, 3], n)])
    return features.view(len(FEATURES), b, rows, cols).transpose(0, 1).contiguous()


def normalised(x: torch.Tensor, spec: InputSpec) -> torch.Tensor:
    """``(x · scale − mean) / std`` per channel, as the spec declares (in place on ``x``)."""
    mean = torch.tensor(spec.mean, device=x.device).view(1, -1, 1, 1)
    std = torch.tensor(spec.std, device=x.device).view(1, -1, 1, 1)
    return x.mul_(spec.scale).sub_(mean).div_(std)


def _cell_max(cell: torch.Tensor, values: torch.Tensor, n: int) -> torch.Tensor:
    """The largest of ``values`` in each cell (0 where a cell has none)."""
    return torch.zeros(n, device=values.device).scatter_reduce_(0, cell, values, "amax", include_self=False)
