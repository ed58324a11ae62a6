"""Training the reference digits classifier, calibrated by temperature scaling."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from services.engine.models.digits import DigitsNet
from services.engine.spec import DecodeSpec, InputSpec, ModelSpec

PIXEL_SCALE = 1.0 / 240.0  # the digits source stores sklearn's 0..16 as 0..240

BASE_SPEC = ModelSpec(
    name="digits", kind="classifier",
    input=InputSpec(width=8, height=8, channels=1, mean=(0.0,), std=(1.0,), scale=PIXEL_SCALE, resize=False),
    decode=DecodeSpec(type="softmax", tag="digit", labels=tuple(str(d) for d in range(10))),
)


@dataclass(frozen=True)
class DigitsTraining:
    epochs: int = 60
    batch_size: int = 64
    lr: float = 2e-3
    seed: int = 0


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() * PIXEL_SCALE


def train_digits(
    cfg: DigitsTraining, images: np.ndarray, labels: np.ndarray, log: Callable[[str], None] = print
) -> DigitsNet:
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = DigitsNet()
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    x, y = to_tensor(images), torch.from_numpy(labels).long()
    model.train()
    for epoch in range(cfg.epochs):
        order = torch.from_numpy(rng.permutation(len(y)))
        total = 0.0
        for b in range(0, len(y), cfg.batch_size):
            idx = order[b : b + cfg.batch_size]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        if (epoch + 1) % 20 == 0:
            log(f"epoch {epoch + 1}/{cfg.epochs}: loss {total / len(y):.4f}")
    return model.eval()


def fit_temperature(model: DigitsNet, images: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising negative log-likelihood on a held-out split (Guo et al., 2017)."""
    with torch.no_grad():
        logits = model(to_tensor(images))
    y = torch.from_numpy(labels).long()
    log_t = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    return float(log_t.exp())
