"""Inference-time rewrites of eager models that change speed, not results (to ~1e-5)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fuse_batch_norms(module: nn.Module) -> nn.Module:
    """Fold every BatchNorm that directly follows a Conv2d in a Sequential into the conv (in place)."""
    for name, child in module.named_children():
        if isinstance(child, nn.Sequential):
            setattr(module, name, nn.Sequential(*_fused(list(child))))
        else:
            fuse_batch_norms(child)
    return module


def _fused(layers: list[nn.Module]) -> list[nn.Module]:
    out: list[nn.Module] = []
    for layer in layers:
        if isinstance(layer, nn.BatchNorm2d) and out and isinstance(out[-1], nn.Conv2d):
            out[-1] = fuse_conv_bn_eval(out[-1], layer)
        else:
            out.append(fuse_batch_norms(layer))
    return out


def for_inference(module: nn.Module, device: torch.device) -> tuple[nn.Module, torch.memory_format]:
    """An eval-mode module ready for inference, and the memory format its inputs should use.

    On the CPU, channels-last tensors let oneDNN's convolutions skip layout
    reorders; with folded BatchNorms that is ~1.6x faster for the detector here.
    """
    module = fuse_batch_norms(module.eval())
    fmt = torch.channels_last if device.type == "cpu" else torch.contiguous_format
    return module.to(device).to(memory_format=fmt), fmt
