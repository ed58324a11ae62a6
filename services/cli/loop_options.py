"""The shadow loop's command-line options, mapped onto ``LoopConfig`` (its defaults are the only ones)."""

from __future__ import annotations

import argparse
from typing import Any

from analysis.sampling.registry import parse_params, policy_names
from services.cli.parser import open_interval, positive_int, unit_interval
from services.loop.config import LoopConfig, SamplingSpec

DEFAULT = LoopConfig()
CLIP_WINDOW = 30  # clips per recommender step: a clip is 20 frames, so a window is 600 frames of evidence


def add_loop_options(p: argparse.ArgumentParser, *, dataset: bool = True) -> None:
    """Target, alpha, audit floor, sampling, consensus share, max step, window (and the dataset profile)."""
    if dataset:
        p.add_argument("--dataset", default=DEFAULT.dataset, metavar="NAME",
                       help=f"dataset profile: driving, digits, driving-seq (clips) or driving3d (LiDAR sweeps, "
                       f"cuboids); builtin:NAME is accepted as an alias; default {DEFAULT.dataset}")
    p.add_argument("--target", type=open_interval, default=DEFAULT.target,
                   help=f"required machine acceptance (default {DEFAULT.target})")
    p.add_argument("--alpha", type=open_interval, default=DEFAULT.alpha,
                   help=f"error probability (default {DEFAULT.alpha})")
    p.add_argument("--audit-floor", type=open_interval, default=DEFAULT.audit_floor,
                   help=f"smallest audit π of a frame eligible to ship (default {DEFAULT.audit_floor})")
    p.add_argument("--sampling", default=DEFAULT.sampling.kind, metavar="KIND",
                   help=f"audit sampling policy by name: {', '.join(policy_names())} (default "
                   f"{DEFAULT.sampling.kind})")
    p.add_argument("--sampling-param", action="append", default=[], metavar="NAME=VALUE",
                   help="a parameter of the sampling policy (repeatable; dotted names nest, e.g. targets.night=40; "
                   f"default for {DEFAULT.sampling.kind}: "
                   + ", ".join(f"{k}={v}" for k, v in DEFAULT.sampling.params.items()) + ")")
    p.add_argument("--consensus-share", type=_share, default=DEFAULT.consensus_share,
                   help=f"share of manual tasks with a second copy (default {DEFAULT.consensus_share})")
    p.add_argument("--max-step", type=unit_interval, default=DEFAULT.max_step,
                   help=f"largest automation-rate change per recommender step (default {DEFAULT.max_step})")
    p.add_argument("--window", type=positive_int, default=None, metavar="N",
                   help=f"machine comparisons per recommender step; the first window places the threshold grid "
                   f"(default {DEFAULT.window}; {CLIP_WINDOW} for a dataset of clips, whose unit is a whole clip)")


def loop_config(args: argparse.Namespace, **overrides: Any) -> LoopConfig:
    """The ``LoopConfig`` the parsed options name (``overrides`` for the settings a command sets itself)."""
    from services.datasets.profiles import profile

    params = parse_params(args.sampling_param) if args.sampling_param else None
    if params is None and args.sampling == DEFAULT.sampling.kind:
        params = dict(DEFAULT.sampling.params)
    values: dict[str, Any] = {
        "target": args.target, "alpha": args.alpha, "audit_floor": args.audit_floor,
        "sampling": SamplingSpec(args.sampling, params or {}), "consensus_share": args.consensus_share,
        "max_step": args.max_step, "window": args.window or DEFAULT.window,
    }
    if getattr(args, "dataset", None) is not None:
        chosen = profile(args.dataset)
        values["dataset"] = chosen.name
        if args.window is None and chosen.clip_spec is not None:
            values["window"] = CLIP_WINDOW
    return LoopConfig(**{**values, **overrides})


def _share(text: str) -> float:
    value = float(text) if text.replace(".", "", 1).isdigit() else -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text}")
    return value
