"""CenterNet losses: penalty-reduced focal loss on heatmaps, L1 on size and offset."""

from __future__ import annotations

import torch
from torch import Tensor


def focal_loss(logits: Tensor, target: Tensor, alpha: float = 2.0, beta: float = 4.0) -> Tensor:
    """Cornernet/CenterNet focal loss, normalised by the number of object centres."""
    pred = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = target.eq(1).float()
    neg_weight = torch.pow(1 - target, beta)
    pos_loss = torch.log(pred) * torch.pow(1 - pred, alpha) * pos
    neg_loss = torch.log(1 - pred) * torch.pow(pred, alpha) * neg_weight * (1 - pos)
    n = pos.sum().clamp(min=1.0)
    return -(pos_loss.sum() + neg_loss.sum()) / n


def gather_l1(pred: Tensor, index: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """L1 between the 2-channel map ``pred`` [B,2,h,w] at ``index`` [B,M] and ``target`` [B,M,2]."""
    b = pred.shape[0]
    flat = pred.view(b, 2, -1).gather(2, index[:, None, :].expand(b, 2, -1)).permute(0, 2, 1)
    m = mask[:, :, None]
    return (torch.abs(flat - target) * m).sum() / m.sum().clamp(min=1.0)


def centernet_loss(outputs: tuple[Tensor, Tensor, Tensor], heat: Tensor, index: Tensor, size: Tensor,
                   offset: Tensor, mask: Tensor) -> Tensor:
    heat_logits, log_size, off = outputs
    return focal_loss(heat_logits, heat) + gather_l1(log_size, index, size, mask) + gather_l1(off, index, offset, mask)
