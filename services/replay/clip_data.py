"""A replay of a dataset of clips, prepared once: the chain's clip messages, the simulated people, truth.

The chain (the dataset profile's, or ``ReplayConfig.pipeline``) runs in memory over every frame of the source,
as the automation workers would; its output becomes one ``automation-results`` message per clip
(:func:`~services.engine.chain.clip_messages.clip_messages`), and the loop routes, annotates, compares and
counts clips exactly as frames. The simulated people (:func:`~services.replay.clip_people.clip_people`) answer
clip tasks with their tracks. Truth, known only in replay: every clip compared with person 1's annotation, as if
people had annotated every clip (π = 1), by the loop's own clip comparator; person 2 against person 1 for the
human floor.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

import numpy as np

from analysis.policy.automation import FrameInfo
from analysis.sampling import Decision
from services.engine.chain.clip_messages import clip_messages
from services.engine.chain.run import run_in_memory
from services.engine.chain.spec import load_pipeline
from services.engine.chain.step import RunContext
from services.engine.frames import Frame, FrameSource
from services.engine.sources import open_source
from services.loop.compare_clips import compare_machine_clips, compare_people_clips
from services.loop.context import CompareContext
from services.loop.driver import Annotate
from services.loop.messages import AutomationMessage, ComparisonMessage, ManualAnnotation
from services.loop.routing import frame_info, routed
from services.replay.clip_people import clip_people
from services.replay.config import ReplayConfig
from services.replay.data import ReplayData


@dataclass(frozen=True, eq=False)
class ClipReplayData:
    """Every clip's message (in arrival order), the people who answer clip tasks, and the replay's truth."""

    source: FrameSource  # the frames, read again for the report's gallery
    messages: list[AutomationMessage]
    info: list[FrameInfo]  # per clip, what the router sees
    annotate: Annotate
    first: list[ManualAnnotation]  # person 1's annotation of every clip
    machine_vs_people: list[ComparisonMessage]  # every clip against person 1, π = 1 (truth)
    people_vs_people: list[ComparisonMessage]  # person 2 against person 1, every clip
    categories: dict[int, str]  # category id -> name
    model_version: str

    @property
    def true_accepted(self) -> np.ndarray:
        return np.array([c.accepted for c in self.machine_vs_people], dtype=bool)

    @property
    def true_floor(self) -> np.ndarray:
        return np.array([c.accepted for c in self.people_vs_people], dtype=bool)

    @property
    def frames(self) -> int:
        """Frames in the replayed clips."""
        return sum(len(m.clip.frames) for m in self.messages if m.clip is not None)

    def frame(self, frame_id: int) -> Frame | None:
        """Frame ``frame_id`` of the source, rendered again (None if the source has no such frame)."""
        pick = getattr(self.source, "frame", None)  # random access (synthetic clips: index = id - 1)
        if pick is not None:
            with suppress(IndexError):
                frame: Frame = pick(frame_id - 1)
                if frame.frame_id == frame_id:
                    return frame
        return next((f for f in self.source if f.frame_id == frame_id), None)


Replayed = ReplayData | ClipReplayData  # what the loop, the summary and the report read


def prepare_clips(cfg: ReplayConfig, progress: bool = False) -> ClipReplayData:
    """Run the chain over the profile's clips; the clip messages, the people and the truth of every clip."""
    source = open_source(cfg.source_spec)
    truth = source.ground_truth()
    if truth is None:
        raise ValueError(f"{cfg.dataset} has no ground truth to simulate annotators from")
    outputs = run_in_memory(load_pipeline(cfg.pipeline_spec),
                            RunContext(source=source, batch_size=cfg.batch_size, device=cfg.device, progress=progress))
    order = {v: k for k, v in enumerate(sorted({f.video_id for f in outputs[0][1].frames}))}
    messages = clip_messages(outputs, image_of=lambda f: f"replay://{cfg.dataset}#{f}", stratum_of=cfg.stratum,
                             time_of=lambda video: order[video] / cfg.clips_per_second)
    annotate = clip_people(truth, seed=cfg.seed)
    first, second = zip(*(_both(annotate, m) for m in messages), strict=True)
    ctx = CompareContext(tuple(dict(c) for c in cfg.profile.categories), cfg.quality_spec, cfg.profile.clip_spec,
                         cfg.profile.geometry)
    return ClipReplayData(
        source=source, messages=messages, info=[frame_info(m) for m in messages], annotate=annotate,
        first=list(first), machine_vs_people=compare_machine_clips(list(zip(messages, first, strict=True)), ctx),
        people_vs_people=compare_people_clips(list(zip(second, first, strict=True)), ctx),
        categories={int(c["id"]): str(c["name"]) for c in truth.get("categories", [])},
        model_version=outputs[-1][1].model_version)


def _both(annotate: Annotate, m: AutomationMessage) -> tuple[ManualAnnotation, ManualAnnotation]:
    """Persons 1 and 2 on clip ``m``, through tasks as the router would issue them at π = 1."""
    tasks, _ = routed(Decision(m.frame_id, "manual", 1.0, 2, 0, "replay truth", 1.0), m, m.time)
    answers = [annotate(t) for t in tasks]
    if answers[0] is None or answers[1] is None:
        raise ValueError(f"{m.frame_id}: the simulated people left a clip unanswered")
    return answers[0], answers[1]
