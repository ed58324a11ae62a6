"""MOTChallenge files, what MOT tools (TrackEval, py-motmetrics) read: a chain step's tracks and a COCO-video
ground truth, one sequence per clip.

A run's step that carries track ids gets ``<step folder>/mot/<clip>.txt`` (``mot15-2D``: conf is the box's
score; boxes the step left without an id are left out, as MOT trackers report confirmed tracks only). Like
``results.json`` they are derived from ``output.npz`` and not part of its content hash.

A ground truth gets ``<out>/mot/<sequence>/gt/gt.txt`` (``mot16``: conf 1, class the category id, visibility
from ``attributes.visibility``) and ``seqinfo.ini`` beside ``gt/``. A sequence is named by its video's name
without folders (``videos/0001`` -> ``0001``), the name a run gives the clip's file: TrackEval pairs them.
``imDir`` points at the clip's frames relative to the sequence folder; their files are numbered from 0, not
from 1 as MOTChallenge's ``img1/`` files are.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.engine.chain.clip_tracks import ClipLayout, step_tracks, truth_tracks
from services.engine.chain.data import NO_VIDEO, StepOutput
from services.io.motchallenge import write_motchallenge

MOT = "mot"
WHOLE_SOURCE = "sequence"  # the clip of a source whose frames have no video id


@dataclass(frozen=True)
class TruthExport:
    """What :func:`write_truth_mot` wrote: a sequence folder per clip, and how many tracks they hold."""

    folder: Path
    clips: int
    tracks: int


def clip_name(video_id: int) -> str:
    """The file name (without ``.txt``) of a clip in a run: its video id in 4 digits, as driving clips' names end."""
    return WHOLE_SOURCE if video_id == NO_VIDEO else f"{video_id:04d}"


def write_step_mot(folder: Path, name: str, output: StepOutput) -> list[Path]:
    """``folder/mot/<clip>.txt`` for every clip of step ``name``'s output if it has ids (else none); the files.

    An earlier ``mot/`` in ``folder`` is replaced, so the files are always this output's."""
    target = folder / MOT
    shutil.rmtree(target, ignore_errors=True)
    clips = step_tracks(name, output, ClipLayout.of_frames(output.frames))
    if not any(c.has_ids for c in clips.values()):
        return []
    target.mkdir(parents=True)
    written = []
    for video, clip in clips.items():
        path = target / f"{clip_name(video)}.txt"
        write_motchallenge(path, clip.tracks, layout="mot15-2D")
        written.append(path)
    return written


def write_truth_mot(out: Path, doc: dict[str, Any], source: str) -> TruthExport:
    """``out/mot/<sequence>/gt/gt.txt`` and ``seqinfo.ini`` for every video of the COCO-video ``doc``."""
    layout = ClipLayout.of(doc)
    truth = truth_tracks(doc, layout, source)
    videos = {int(v["id"]): v for v in doc.get("videos", [])}
    tracks = 0
    for video, clip in truth.items():
        record = videos.get(video, {"id": video})
        folder = out / MOT / sequence_name(record)
        (folder / "gt").mkdir(parents=True, exist_ok=True)
        write_motchallenge(folder / "gt" / "gt.txt", clip, layout="mot16")
        (folder / "seqinfo.ini").write_text(seqinfo(record, clip.num_frames, _frames_of(doc, video), folder, out),
                                            encoding="utf-8")
        tracks += len(set(clip.track_id.tolist()))
    return TruthExport(out / MOT, len(truth), tracks)


def sequence_name(video: dict[str, Any]) -> str:
    """A video's sequence name: its ``name`` without folders, or :func:`clip_name` of its id."""
    name = video.get("name")
    return Path(str(name)).name if name else clip_name(int(video["id"]))


def seqinfo(video: dict[str, Any], length: int, frame_file: str | None, folder: Path, out: Path) -> str:
    """MOTChallenge's ``seqinfo.ini`` of one video; ``frame_file`` is one of its images' ``file_name``."""
    frames = Path(frame_file) if frame_file else Path(".")
    keys = {
        "name": sequence_name(video),
        "imDir": Path(os.path.relpath(out / frames.parent, folder)).as_posix(),
        "frameRate": _whole(video.get("fps", "")),
        "seqLength": video.get("length", length),
        "imWidth": video.get("width", ""),
        "imHeight": video.get("height", ""),
        "imExt": frames.suffix,
    }
    return "[Sequence]\n" + "".join(f"{key}={value}\n" for key, value in keys.items())


def _whole(value: Any) -> Any:
    """10 for 10.0: MOTChallenge's frame rates are whole numbers, and some readers parse them as ints."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _frames_of(doc: dict[str, Any], video: int) -> str | None:
    """The ``file_name`` of the first image of ``video`` (None if it has no images or names)."""
    return next((str(im["file_name"]) for im in doc.get("images", [])
                 if int(im.get("video_id", NO_VIDEO)) == video and im.get("file_name")), None)
