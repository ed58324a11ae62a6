"""The reference chain and clip spec of driving video, shipped with shadowqa, by name: ``builtin:driving-chain``
(detect -> track -> post-process, ``chains/driving.yaml``) and ``builtin:driving-clips`` (when a clip's tracks may
ship, ``chains/clip_spec.yaml``). Commands that take a spec file take these names too."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent / "chains"
BUILTIN = {"builtin:driving-chain": HERE / "driving.yaml", "builtin:driving-clips": HERE / "clip_spec.yaml"}


def resolve(path: str | Path) -> str | Path:
    """The file a built-in name stands for; any other path unchanged."""
    return BUILTIN.get(str(path), path)
