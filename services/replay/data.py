"""Everything the shadow loop replays, prepared once: engine output, people's annotations, truth.

The engine runs over every frame (as the automation worker would); two
simulated annotators label every frame blind, and every frame is compared up
front (machine vs annotator 1, annotator 2 vs 1): only the comparisons of the
frames the router sends to people are ever read by the loop. Truth — known only
in replay — is every frame's acceptance against annotator 1, as if people had
labelled everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.annotations import Annotations, parse_automation, parse_ground_truth
from analysis.compare import Comparator, CompareOptions
from analysis.policy.automation import FrameInfo
from services.engine.frames import Frame
from services.engine.loading import load_runner
from services.engine.results import AutomationResult, to_coco_results
from services.engine.run import run_frames
from services.engine.sources import open_source
from services.replay.annotators import annotate_document
from services.replay.config import ReplayConfig


@dataclass(frozen=True, eq=False)
class FrameCounts:
    """Per frame (in replay order): accepted, matched, extra and missed objects, mean IoU (NaN: none matched)."""

    accepted: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    mean_iou: np.ndarray


@dataclass(frozen=True, eq=False)
class ReplayData:
    frames: list[Frame]
    results: list[AutomationResult]
    info: list[FrameInfo]
    machine: dict[str, Any]  # COCO results object of every frame
    people: tuple[dict[str, Any], dict[str, Any]]  # annotator 1 and annotator 2, every frame
    machine_vs_people: FrameCounts  # machine vs annotator 1, per frame
    people_vs_people: FrameCounts  # annotator 2 vs annotator 1, per frame
    model_version: str

    @property
    def true_accepted(self) -> np.ndarray:
        return self.machine_vs_people.accepted

    @property
    def true_floor(self) -> np.ndarray:
        return self.people_vs_people.accepted


def prepare(cfg: ReplayConfig, progress: bool = False) -> ReplayData:
    source = open_source(cfg.source_spec)
    truth = source.ground_truth()
    if truth is None:
        raise ValueError(f"{cfg.dataset} has no ground truth to simulate annotators from")
    frames = list(source)
    if [f.frame_id for f in frames] != [img["id"] for img in truth["images"]]:
        raise ValueError(f"{cfg.dataset}: frames and ground-truth images are in different orders")
    runner = load_runner(cfg.model_name, cfg.device)
    report = run_frames(runner, frames, batch_size=cfg.batch_size, total=len(frames), progress=progress)
    machine = to_coco_results(report.results)
    people = tuple(annotate_document(truth, seed=cfg.seed, annotator=k, model=cfg.human) for k in (1, 2))
    info = [FrameInfo(str(r.frame_id), r.confidence, cfg.stratum(f.meta.get("tags", {})),
                      model_version=r.model_version, time=i / cfg.frames_per_second)
            for i, (f, r) in enumerate(zip(frames, report.results, strict=True))]
    return ReplayData(
        frames=frames, results=report.results, info=info, machine=machine, people=(people[0], people[1]),
        machine_vs_people=counts_against(machine, people[0], cfg),
        people_vs_people=counts_against(people[1], people[0], cfg), model_version=runner.model_version,
    )


def counts_against(automation_doc: dict[str, Any], manual_doc: dict[str, Any], cfg: ReplayConfig) -> FrameCounts:
    """Per frame of ``manual_doc``: does ``automation_doc``'s annotation pass QA against it, and its counts."""
    manual, automation = annotation_pair(automation_doc, manual_doc)
    f = Comparator(CompareOptions(spec=cfg.quality_spec)).calculate(automation, manual).frames
    return FrameCounts(f.accepted, f.tp, f.fp, f.fn, f.mean_iou)


def annotation_pair(automation_doc: dict[str, Any], manual_doc: dict[str, Any]) -> tuple[Annotations, Annotations]:
    manual = parse_ground_truth(manual_doc, "annotator 1")
    return manual, parse_automation(automation_doc, "machine", manual)


def only_frames(doc: dict[str, Any], ids: set[int]) -> dict[str, Any]:
    """``doc`` (ground truth or results object) restricted to frames ``ids``."""
    out = {**doc, "annotations": [a for a in doc.get("annotations", []) if a["image_id"] in ids]}
    if "images" in doc:
        out["images"] = [i for i in doc["images"] if i["id"] in ids]
    return out
