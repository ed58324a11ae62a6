"""Everything the shadow loop replays, prepared once: engine output, people's annotations, truth.

The engine runs over every frame (as the automation worker would); two
simulated annotators label every frame blind, and every frame is compared up
front (machine vs annotator 1, annotator 2 vs 1): only the comparisons of the
frames the router sends to people are ever read by the loop. Truth — known only
in replay — is every frame's acceptance against annotator 1, as if people had
labelled everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.policy.automation import FrameInfo
from services.engine.annotate import automation_message
from services.engine.frames import Frame
from services.engine.loading import load_runner
from services.engine.results import AutomationResult
from services.engine.run import run_frames
from services.engine.sources import open_source
from services.loop.messages import AutomationMessage
from services.replay.annotators import annotate_document
from services.replay.config import ReplayConfig
from services.replay.documents import annotation_pair
from services.replay.truth import truth_document


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
    machine: dict[str, Any]  # the machine's objects of every frame (documents: services/replay/documents.py)
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
    found = source.ground_truth()
    if found is None:
        raise ValueError(f"{cfg.dataset} has no ground truth to simulate annotators from")
    frames = list(source)
    truth = truth_document(found, source.name, cfg.profile.categories)
    if [f.frame_id for f in frames] != [img["id"] for img in truth["images"]]:
        raise ValueError(f"{cfg.dataset}: frames and ground-truth images are in different orders")
    runner = load_runner(cfg.model_name, cfg.device)
    report = run_frames(runner, frames, batch_size=cfg.batch_size, total=len(frames), progress=progress)
    people = tuple(annotate_document(truth, seed=cfg.seed, annotator=k, model=cfg.human) for k in (1, 2))
    info = [FrameInfo(str(r.frame_id), r.confidence, cfg.stratum(f.meta.get("tags", {})),
                      model_version=r.model_version, time=i / cfg.frames_per_second)
            for i, (f, r) in enumerate(zip(frames, report.results, strict=True))]
    machine = machine_document(automation_message(r, frame_id=i.frame_id, seq=int(r.frame_id),
                                                  image=f"replay://{cfg.dataset}#{r.frame_id}", stratum=i.stratum,
                                                  time=i.time)
                               for r, i in zip(report.results, info, strict=True))
    return ReplayData(
        frames=frames, results=report.results, info=info, machine=machine, people=(people[0], people[1]),
        machine_vs_people=counts_against(machine, people[0], cfg),
        people_vs_people=counts_against(people[1], people[0], cfg, scored=True), model_version=runner.model_version,
    )


def machine_document(messages: Iterable[AutomationMessage]) -> dict[str, Any]:
    """The engine's results (as the automation worker's messages) as a document: per frame its confidence,
    model version and tags, per object its tagged geometry, class and score."""
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for m in messages:
        images.append({"id": m.seq, "confidence": m.confidence, "model_version": m.model_version,
                       "tags": dict(m.tags), **({"error": m.error} if m.error else {})})
        annotations += [{"image_id": m.seq, "category_id": c, "geometry": g.wire(), "score": s}
                        for g, c, s in zip(m.geometries, m.category_ids, m.scores, strict=True)]
    return {"images": images, "annotations": annotations}


def counts_against(automation_doc: dict[str, Any], manual_doc: dict[str, Any], cfg: ReplayConfig, *,
                   scored: bool = False) -> FrameCounts:
    """Per frame of ``manual_doc``: does ``automation_doc``'s annotation pass QA against it, and its counts
    (``scored``: the automation side is a person, as in a consensus comparison)."""
    pair = annotation_pair(automation_doc, manual_doc, geometry=cfg.profile.geometry, scored=scored)
    f = pair.compare(cfg.quality_spec).frames
    return FrameCounts(f.accepted, f.tp, f.fp, f.fn, f.mean_iou)


def only_frames(doc: dict[str, Any], ids: set[int]) -> dict[str, Any]:
    """``doc`` (ground truth or results object) restricted to frames ``ids``."""
    out = {**doc, "annotations": [a for a in doc.get("annotations", []) if a["image_id"] in ids]}
    if "images" in doc:
        out["images"] = [i for i in doc["images"] if i["id"] in ids]
    return out
