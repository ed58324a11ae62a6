"""A clip through the loop's comparator equals ``engine eval``'s judgement of the same tracks.

The chain runs over a real clip of ``synthetic://driving-seq``; a simulated person annotates it through a clip
task; the comparator's clip comparison (tracking figures, acceptance, each step's errors and attributed errors)
must equal what :func:`services.engine.chain.evaluate.evaluate_chain` finds with that person's annotation as the
truth, an independent path (COCO-video files, the engine's own track conversion).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

import services.datasets.profiles  # noqa: F401  (registers the driving profile)
from analysis.tracking.clip_spec import ClipAcceptanceSpec
from analysis.tracking.spec import TrackAcceptanceSpec
from services.engine.chain.clip_messages import clip_id, clip_messages
from services.engine.chain.data import StepOutput
from services.engine.chain.evaluate import evaluate_chain
from services.engine.chain.run import run_in_memory
from services.engine.chain.spec import load_pipeline
from services.engine.chain.step import RunContext
from services.engine.sources import open_source
from services.loop.config import LoopConfig
from services.loop.context import CompareContext
from services.loop.driver import Driver
from services.loop.messages import AutomationMessage, ManualAnnotation, ManualTask, decode, encode
from services.replay.clip_people import clip_people

SOURCE = "synthetic://driving-seq?seed=11&clips=2&length=20"
SPEC = ClipAcceptanceSpec(tracks=TrackAcceptanceSpec(max_id_switches=2, min_idf1=0.5))


@cache
def _chain() -> tuple[list[tuple[str, StepOutput]], dict[str, Any]]:
    source = open_source(SOURCE)
    truth = source.ground_truth()
    assert truth is not None
    return run_in_memory(load_pipeline("builtin:driving-chain"), RunContext(source=source)), truth


def _messages() -> list[AutomationMessage]:
    outputs, _ = _chain()
    return clip_messages(outputs, image_of=lambda f: f"seq#{f}", stratum_of=lambda tags: "all",
                         time_of=lambda video: float(video))


def _loop(spec: ClipAcceptanceSpec | None, consensus_share: float = 0.0) -> tuple[Driver, list[ManualAnnotation]]:
    _, truth = _chain()
    people = clip_people(truth, seed=3)
    answers: list[ManualAnnotation] = []

    def annotate(task: ManualTask) -> ManualAnnotation:
        answers.append(people(task))
        return answers[-1]

    base = CompareContext.for_dataset("driving")
    config = LoopConfig(dataset="driving", window=10, consensus_share=consensus_share)
    return Driver(config, CompareContext(base.categories, base.spec, spec), annotate), answers


def _as_truth(answer: ManualAnnotation, message: AutomationMessage) -> dict[str, Any]:
    """The person's answer as a COCO-video ground truth of the clip's frames."""
    assert message.clip is not None and answer.clip_frames is not None
    video = message.clip.video_id
    images = [{"id": int(f.frame_id), "video_id": video, "frame_index": f.frame_index, "width": 320, "height": 192}
              for f in message.clip.frames]
    annotations = [{"id": k + 1, "image_id": images[f.frame_index]["id"], "bbox": list(o.geometry.value),
                    "category_id": o.category_id, "track_id": o.track_id, "iscrowd": 0}
                   for k, (f, o) in enumerate((f, o) for f in answer.clip_frames for o in f.objects)]
    _, truth = _chain()
    return {"images": images, "annotations": annotations, "categories": truth["categories"]}


def _clip_outputs(message: AutomationMessage) -> list[tuple[str, StepOutput]]:
    assert message.clip is not None
    ids = {int(f.frame_id) for f in message.clip.frames}
    outputs, _ = _chain()
    keep = [[i for i, f in enumerate(o.frames) if f.frame_id in ids] for _, o in outputs]
    return [(name, StepOutput(tuple(o.frames[i] for i in k), tuple(o.results[i] for i in k),
                              tuple(o.interpolated[i] for i in k))) for (name, o), k in zip(outputs, keep, strict=True)]


def test_a_clip_message_round_trips_and_a_frame_message_has_no_clip_field() -> None:
    message = _messages()[0]
    assert message.frame_id == clip_id(message.clip.video_id if message.clip else -1)
    assert decode(AutomationMessage, encode(message)) == message
    frame = message.model_copy(update={"clip": None})
    assert b'"clip"' not in encode(frame)


@pytest.mark.parametrize("spec", [SPEC, None], ids=["track-rules", "frame-rules-by-default"])
def test_the_comparators_clip_judgement_equals_engine_eval_with_the_persons_tracks_as_truth(
        spec: ClipAcceptanceSpec | None) -> None:
    driver, answers = _loop(spec)
    messages = _messages()
    out = driver.step(messages, now=0.0)
    machine = {c.frame_id: c for c in out.comparisons if c.kind == "machine"}
    assert set(machine) == {m.frame_id for m in messages}  # automation 0: every clip goes to people
    first = {a.frame_id: a for a in answers if a.copy_ == 1}
    base = CompareContext.for_dataset("driving")
    judged_by = spec if spec is not None else ClipAcceptanceSpec(frames=base.spec)
    for message in messages:
        comparison = machine[message.frame_id]
        ev = evaluate_chain(_clip_outputs(message), _as_truth(first[message.frame_id], message),
                            clip_spec=judged_by)
        (clip,) = ev.clips
        assert comparison.steps is not None and comparison.tracking is not None
        assert [s.name for s in comparison.steps] == [s.name for s in clip.attribution.steps]
        for ours, theirs in zip(comparison.steps, clip.attribution.steps, strict=True):
            assert (ours.misses, ours.false_positives, ours.switches) == (
                theirs.figures.misses, theirs.figures.false_positives, theirs.figures.switches)
            assert (ours.attributed_misses, ours.attributed_false_positives, ours.attributed_switches) == (
                theirs.attributed.misses, theirs.attributed.false_positives, theirs.attributed.switches)
        assert sum(s.attributed for s in comparison.steps) == clip.attribution.final.total
        assert ev.acceptance is not None
        (verdicts,) = ev.acceptance.clips
        assert [s.accepted for s in comparison.steps] == [j.accepted for j in verdicts.judgements]
        assert comparison.accepted == verdicts.judgements[-1].accepted
        final = verdicts.judgements[-1].metrics
        assert final is not None
        assert comparison.tracking.id_switches == final.clear.num_switches
        assert comparison.tracking.idf1 == pytest.approx(final.identity.idf1, abs=1e-12)


def test_a_consensus_copy_of_a_clip_is_compared_person_to_person() -> None:
    driver, answers = _loop(SPEC, consensus_share=1.0)
    messages = _messages()
    out = driver.step(messages, now=0.0)
    consensus = {c.frame_id: c for c in out.comparisons if c.kind == "consensus"}
    assert set(consensus) == {m.frame_id for m in messages}
    for c in consensus.values():
        assert c.tracking is not None and c.steps is None and c.model_version == "people"
    first = {a.frame_id: a for a in answers if a.copy_ == 1}
    second = {a.frame_id: a for a in answers if a.copy_ == 2}
    assert any(first[f].clip_frames != second[f].clip_frames for f in first)  # two people, two drawings
    worse = min(consensus.values(), key=lambda c: 1.0 if c.tracking is None else c.tracking.idf1 or 0.0)
    assert worse.tracking is not None and worse.tracking.idf1 is not None and worse.tracking.idf1 < 1.0
