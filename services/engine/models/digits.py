"""A small convolutional classifier for scikit-learn's 8×8 digits."""

from __future__ import annotations

from torch import Tensor, nn


class DigitsNet(nn.Module):
    """Outputs logits [B, 10] for 1×8×8 inputs scaled to [0, 1]."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        self.classify = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(32 * 4 * 4, 10))

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.classify(self.features(x))
        return out
