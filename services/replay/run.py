"""One replay end to end: prepare (frames, or clips through a chain), loop, summarise, report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.io.files import write_json
from services.replay.clip_data import Replayed, prepare_clips
from services.replay.config import ReplayConfig
from services.replay.data import prepare
from services.replay.loop import run_loop
from services.replay.report.view import build_replay_report
from services.replay.summary import summary


@dataclass(frozen=True)
class ReplayOutput:
    summary: dict[str, Any]
    summary_path: Path | None
    report_path: Path | None


def replay(cfg: ReplayConfig, report_dir: Path | None = None, progress: bool = False) -> ReplayOutput:
    data: Replayed = prepare_clips(cfg, progress=progress) if cfg.clips else prepare(cfg, progress=progress)
    run = run_loop(cfg, data)
    doc = summary(cfg, data, run)
    if report_dir is None:
        return ReplayOutput(doc, None, None)
    report_dir.mkdir(parents=True, exist_ok=True)
    write_json(report_dir / "summary.json", doc)
    (report_dir / "report.html").write_text(build_replay_report(cfg, data, run, doc))
    return ReplayOutput(doc, report_dir / "summary.json", report_dir / "report.html")
