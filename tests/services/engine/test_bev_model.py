"""The BEV 3D detector's parts without its weights: network shapes, voxelisation, target/decode round trip, spec."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from analysis.exceptions import InvalidInput
from services.engine.annotate import automation_message
from services.engine.decode_bev import decode_bev
from services.engine.models.bev_detector import REGRESSION, BevCenterNet
from services.engine.points import FEATURES, RAISED, Z_RANGE, voxelise
from services.engine.results import CuboidResult, to_coco_results
from services.engine.spec import DecodeSpec, GridSpec, spec_from_dict
from services.engine.training.bev_detector import GRID, SPEC
from services.engine.training.bev_targets import bev_targets

CPU = torch.device("cpu")


def test_forward_gives_a_heatmap_per_class_and_eight_regression_channels_at_stride_2() -> None:
    model = BevCenterNet().eval()
    with torch.inference_mode():
        heat, reg = model(torch.zeros(2, len(FEATURES), GRID.rows, GRID.cols))
    assert heat.shape == (2, 3, GRID.rows // 2, GRID.cols // 2)
    assert reg.shape == (2, len(REGRESSION), GRID.rows // 2, GRID.cols // 2)
    assert sum(p.numel() for p in model.parameters()) < 500_000  # small enough to commit (~0.5 MB)


def _slow_voxels(cloud: np.ndarray, grid: GridSpec) -> np.ndarray:
    """One point at a time, in the float32 arithmetic the vectorised version uses."""
    out = np.zeros((len(FEATURES), grid.rows, grid.cols), dtype=np.float64)
    cells: dict[tuple[int, int], list[np.ndarray]] = {}
    for p in cloud.astype(np.float32):
        if not np.isfinite(p[:4]).all():
            continue
        row = int(np.floor((p[0] - np.float32(grid.x_min)) / np.float32(grid.cell)))
        col = int(np.floor((p[1] - np.float32(grid.y_min)) / np.float32(grid.cell)))
        if 0 <= row < grid.rows and 0 <= col < grid.cols:
            cells.setdefault((row, col), []).append(p)
    for (row, col), pts in cells.items():
        z = np.clip([float(p[2]) for p in pts], *Z_RANGE)
        out[:, row, col] = [math.log1p(len(pts)), math.log1p(int((z > RAISED).sum())), z.max(), z.mean(),
                            max(float(p[3]) for p in pts)]
    return out


def test_voxelisation_equals_a_point_by_point_loop() -> None:
    rng = np.random.default_rng(4)
    grid = GridSpec(x_min=0.0, x_max=4.0, y_min=-2.0, y_max=2.0, cell=0.5)
    clouds = []
    for n in (300, 0, 50):
        pts = np.column_stack([rng.uniform(-1, 5, n), rng.uniform(-3, 3, n), rng.uniform(-2, 7, n),
                               rng.uniform(0, 1, n)]).astype(np.float32)
        pts[::7, :2] = np.round(pts[::7, :2] * 2) / 2  # points on cell edges
        if n:
            pts[3, 0] = np.nan
        clouds.append(pts)
    fast = voxelise(clouds, grid, CPU).numpy()
    assert fast.shape == (3, len(FEATURES), grid.rows, grid.cols)
    for cloud, got in zip(clouds, fast, strict=True):
        np.testing.assert_allclose(got, _slow_voxels(cloud, grid), rtol=1e-6, atol=1e-6)


def _heads_with(boxes: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Network outputs that say exactly these cuboids: logit +6 at each centre, -12 elsewhere."""
    t = bev_targets([boxes], [labels], classes=3, grid=GRID, stride=SPEC.decode.stride)
    h, w = t.heat.shape[-2:]
    heat = torch.full((1, 3, h, w), -12.0)
    reg = torch.zeros(1, len(REGRESSION), h * w)
    for k in range(int(t.mask.sum())):
        heat.view(1, 3, -1)[0, labels[k], t.index[0, k]] = 6.0
        reg[0, :, t.index[0, k]] = torch.from_numpy(t.regression[0, k])
    return heat, reg.view(1, -1, h, w)


@pytest.mark.parametrize("yaw", [0.0, 0.7, -2.0, math.pi, -math.pi + 1e-3, math.pi - 1e-3])
def test_decoding_recovers_cuboids_put_into_the_heads(yaw: float) -> None:
    boxes = np.array([[23.37, -4.12, 0.81, 4.4, 1.9, 1.6, yaw], [7.05, 11.93, 0.9, 0.6, 0.7, 1.75, -yaw / 2]])
    labels = np.array([0, 1])
    decoded = decode_bev(_heads_with(boxes, labels), SPEC.decode, GRID)[0]
    order = np.argsort(decoded.labels)
    got = decoded.boxes[order]
    assert decoded.labels[order].tolist() == [0, 1] and np.all(decoded.scores > 0.99)
    np.testing.assert_allclose(got[:, :6], boxes[:, :6], atol=1e-5)
    turn = np.angle(np.exp(1j * (got[:, 6] - boxes[:, 6])))  # yaw difference wrapped to (-π, π]
    np.testing.assert_allclose(turn, 0.0, atol=1e-5)
    assert np.all(np.abs(got[:, 6]) <= math.pi + 1e-6)  # atan2 in float32


def test_centres_off_the_grid_get_no_target_and_nothing_is_decoded_below_the_threshold() -> None:
    boxes = np.array([[-1.0, 0.0, 0.8, 4.0, 2.0, 1.5, 0.0], [30.0, 40.0, 0.8, 4.0, 2.0, 1.5, 0.0]])
    t = bev_targets([boxes], [np.array([0, 0])], classes=3, grid=GRID, stride=2)
    assert t.mask.sum() == 0 and t.heat.max() == 0
    heat, reg = torch.full((1, 3, 60, 50), -3.0), torch.zeros(1, 8, 60, 50)  # sigmoid(-3) = 0.047 < 0.3
    assert len(decode_bev((heat, reg), DecodeSpec("bev_centernet", stride=2), GRID)[0].boxes) == 0


def test_the_spec_reads_back_and_its_grid_must_fit_the_input() -> None:
    doc = SPEC.to_dict()
    assert spec_from_dict(doc, "spec") == SPEC
    with pytest.raises(InvalidInput, match="gives 120x100 cells"):
        spec_from_dict({**doc, "input": {**doc["input"], "width": 99}}, "spec")
    with pytest.raises(InvalidInput, match="needs a grid"):
        spec_from_dict({k: v for k, v in doc.items() if k != "grid"}, "spec")
    with pytest.raises(InvalidInput, match="bev_centernet"):
        spec_from_dict({**doc, "decode": {**doc["decode"], "type": "centernet"}}, "spec")


def test_cuboid_results_travel_as_cuboid3d_geometry() -> None:
    r = CuboidResult(3, "m@1", boxes=np.array([[10.0, 1.0, 0.8, 4.4, 1.9, 1.6, 0.123456]]),
                     category_ids=np.array([1]), scores=np.array([0.8]), confidence=0.5,
                     coordinate_system="vehicle-iso8855")
    wire = {"type": "cuboid3d", "centre": [10.0, 1.0, 0.8], "size": [4.4, 1.9, 1.6], "yaw": 0.1235,
            "frame": "vehicle-iso8855"}
    assert to_coco_results([r])["annotations"] == [{"image_id": 3, "category_id": 1, "geometry": wire, "score": 0.8}]
    message = automation_message(r, frame_id="f", seq=3, image="synthetic://driving3d?seed=1#2", stratum="",
                                 time=0.0)
    assert [g.wire() for g in message.geometries] == [{**wire, "yaw": 0.123456}]
