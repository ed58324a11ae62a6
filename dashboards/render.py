"""Render the dashboards to the JSON Grafana imports, and write (or check) the committed copies."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards.annotation_team import annotation_team
from dashboards.operations import operations

ROOT = Path(__file__).resolve().parents[1]
JSON_DIR = ROOT / "dashboards" / "json"
HELM_DIR = ROOT / "helm" / "shadowqa" / "dashboards"  # the chart templates one ConfigMap per file here
OUTPUT_DIRS = (JSON_DIR, HELM_DIR)

DASHBOARDS: dict[str, Callable[[], Dashboard]] = {
    "shadowqa-operations.json": operations,
    "shadowqa-annotation-team.json": annotation_team,
}


def as_dict(board: Dashboard) -> dict[str, Any]:
    """The dashboard model as Grafana's JSON object, panels numbered 1, 2, … top to bottom."""
    model: dict[str, Any] = json.loads(json.dumps(board.build(), cls=JSONEncoder))
    for number, panel in enumerate(model["panels"], start=1):
        panel["id"] = number
    return model


def render(board: Dashboard) -> str:
    """Stable JSON text (sorted keys, two-space indent, final newline), so a diff shows what changed."""
    return json.dumps(as_dict(board), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rendered() -> dict[str, str]:
    """File name -> JSON text of every dashboard, as the code produces it now."""
    return {name: render(build()) for name, build in DASHBOARDS.items()}


def stale_files() -> list[Path]:
    """Committed JSON files (in every output folder) that differ from what the code produces, or are missing."""
    return [folder / name for folder in OUTPUT_DIRS for name, text in rendered().items()
            if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != text]


def write_all() -> list[Path]:
    """Write every dashboard into every output folder; the files written."""
    written = []
    for folder in OUTPUT_DIRS:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in rendered().items():
            (folder / name).write_text(text, encoding="utf-8")
            written.append(folder / name)
    return written
