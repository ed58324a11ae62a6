"""A tiny CenterNet-style detector for 320×192 driving frames.

A small strided CNN with a two-level feature pyramid predicts, at stride 4, a
class heatmap (object centres), the log of box width and height, and the
sub-pixel offset of each centre. About 0.3 M parameters: small enough to commit,
train on a CPU in minutes, and make the mistakes a real detector makes.
"""

from __future__ import annotations

import math

from torch import Tensor, nn
from torch.nn import functional as F


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


class TinyCenterNet(nn.Module):
    """Outputs (heatmap logits [B,K,H/4,W/4], log size [B,2,...], offset [B,2,...])."""

    def __init__(self, num_classes: int = 4, width: int = 32) -> None:
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(3, w // 2, 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(w // 2), nn.ReLU(inplace=True))
        self.s4 = _block(w // 2, w, 2)
        self.s8 = _block(w, 2 * w, 2)
        self.s16 = _block(2 * w, 3 * w, 2)
        self.lat8 = nn.Conv2d(2 * w, w, 1)
        self.lat16 = nn.Conv2d(3 * w, w, 1)
        self.fuse = _block(w, w, 1)
        self.heat = self._head(w, num_classes)
        self.size = self._head(w, 2)
        self.offset = self._head(w, 2)
        last = self.heat[-1]
        assert isinstance(last, nn.Conv2d) and last.bias is not None
        nn.init.constant_(last.bias, -math.log((1 - 0.01) / 0.01))  # start at a 1% object prior

    @staticmethod
    def _head(w: int, out: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(w, w, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(w, out, 1))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        c4 = self.s4(self.stem(x))
        c8 = self.s8(c4)
        c16 = self.s16(c8)
        p8 = self.lat8(c8) + F.interpolate(self.lat16(c16), size=c8.shape[-2:], mode="nearest")
        p4 = self.fuse(c4 + F.interpolate(p8, size=c4.shape[-2:], mode="nearest"))
        return self.heat(p4), self.size(p4), self.offset(p4)
