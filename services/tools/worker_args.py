"""A loop configuration as ``shadowqa worker`` options: how a supervisor hands its settings to the workers it
starts (the inverse of ``services/cli/loop_options.loop_config``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.loop.config import LoopConfig


def loop_args(config: LoopConfig) -> list[str]:
    """``config`` as worker command-line options (the demo run's workers, the inverse of ``loop_config``)."""
    out = ["--dataset", config.dataset, "--target", str(config.target), "--alpha", str(config.alpha),
           "--audit-floor", str(config.audit_floor), "--sampling", config.sampling.kind,
           "--consensus-share", str(config.consensus_share), "--max-step", str(config.max_step),
           "--window", str(config.window)]
    for key, value in _flat(config.sampling.params):
        out += ["--sampling-param", f"{key}={value}"]
    return out + ([] if config.auto_apply else ["--no-auto-apply"])


def _flat(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in params.items():
        if isinstance(value, Mapping):
            out += _flat(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out
