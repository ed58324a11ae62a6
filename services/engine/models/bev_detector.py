"""A small bird's-eye-view CenterPoint-style 3D detector for LiDAR point clouds.

Input: a grid of hand-made per-cell features (:mod:`services.engine.points`, 0.5 m cells), to which
the network adds two fixed coordinate channels (how far ahead, how far aside: point density and
traffic direction depend on where a cell is). A strided CNN with a three-level feature pyramid
predicts at stride 2 (1 m cells) a per-class centre heatmap and, per cell, eight regression
channels (:data:`REGRESSION`): the sub-cell centre offset, the centre's height, the log of the
cuboid's size and the sine and cosine of its yaw. About 0.12 M parameters (0.5 MB of weights).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

REGRESSION = ("offset_x", "offset_y", "z", "log_length", "log_width", "log_height", "sin_yaw", "cos_yaw")
GRID_ROWS, GRID_COLS, FEATURES = 120, 100, 5  # the reference grid: x 0..60 m, y -25..25 m, 0.5 m cells


def _conv(cin: int, cout: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(*_conv(cin, cout, stride), *_conv(cout, cout))


class BevCenterNet(nn.Module):
    """Outputs (heatmap logits [B,K,rows/2,cols/2], regression [B,8,rows/2,cols/2])."""

    def __init__(self, num_classes: int = 3, in_channels: int = FEATURES, rows: int = GRID_ROWS,
                 cols: int = GRID_COLS, width: int = 24) -> None:
        super().__init__()
        w = width
        ahead = torch.linspace(0.0, 1.0, rows).view(1, 1, rows, 1).expand(1, 1, rows, cols)
        aside = torch.linspace(-1.0, 1.0, cols).view(1, 1, 1, cols).expand(1, 1, rows, cols)
        self.register_buffer("coords", torch.cat([ahead, aside], dim=1).contiguous(), persistent=False)
        self.s2 = _block(in_channels + 2, w, 2)
        self.s4 = _block(w, 2 * w, 2)
        self.s8 = _block(2 * w, 8 * w // 3, 2)
        self.lat4 = nn.Conv2d(2 * w, w, 1)
        self.lat8 = nn.Conv2d(8 * w // 3, w, 1)
        self.fuse = nn.Sequential(*_conv(w, w), nn.Conv2d(w, w, 3, padding=1), nn.ReLU(inplace=True))
        self.heat = nn.Conv2d(w, num_classes, 1)
        self.regression = nn.Conv2d(w, len(REGRESSION), 1)
        assert self.heat.bias is not None
        nn.init.constant_(self.heat.bias, -math.log((1 - 0.01) / 0.01))  # start at a 1% object prior

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        coords = self.get_buffer("coords")
        c2 = self.s2(torch.cat([x, coords.expand(x.shape[0], -1, -1, -1)], dim=1))
        c4 = self.s4(c2)
        c8 = self.s8(c4)
        p4 = self.lat4(c4) + F.interpolate(self.lat8(c8), size=c4.shape[-2:], mode="nearest")
        p2 = self.fuse(c2 + F.interpolate(p4, size=c2.shape[-2:], mode="nearest"))
        return self.heat(p2), self.regression(p2)
