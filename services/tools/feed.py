"""The frame feeder: a frame source as ``FrameMessage``s on the ``frames`` topic, at a steady rate.

Frames are referenced, not embedded: ``synthetic://driving?seed=S&n=N`` gives
``driving-s{S}-{I:06d}`` frames (``seq`` I + 1, image ``synthetic://driving?seed=S#I``),
``synthetic://driving3d?seed=S&n=N`` point clouds as ``driving3d-s{S}-{I:06d}`` frames (image
``synthetic://driving3d?seed=S#I``: the reference names the sweep; no points travel on Kafka),
``sklearn-digits://?split=SPLIT`` gives ``digits-{ID:04d}`` frames (``seq`` ID, image
``sklearn-digits://#ID``). Each message is keyed by its frame id.

The feeder waits out a broker outage (``services/tools/outage.py``): it flushes
about once a second, so it pauses while the broker is away and carries on, each
frame sent once, when it is back (then catching up with its rate).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass

from analysis.exceptions import InvalidInput
from analysis.policy.automation import ALL
from services.datasets.driving.video_coco import video_id
from services.engine.chain.clip_messages import clip_id
from services.engine.frame_refs import digits_ref, driving3d_ref, sequence_ref, synthetic_ref
from services.engine.sequence_source import SyntheticDrivingSequenceSource
from services.engine.sources import DigitsSource, SyntheticDriving3dSource, SyntheticDrivingSource, open_source
from services.loop.messages import FrameMessage, encode
from services.tools.kafka import Sink, key_bytes, require_topics
from services.tools.outage import patient_sink

FEEDABLE = ("synthetic://driving?seed=S&n=N, synthetic://driving3d?seed=S&n=N, "
            "synthetic://driving-seq?seed=S&clips=C&length=L or sklearn-digits://?split=SPLIT[&n=N]")
PROGRESS_EVERY_S = 1.0


@dataclass(frozen=True)
class ClipPlace:
    """Where a frame of a clip sits: its clip (``video_id``), its place in it and the clip's length."""

    video_id: int
    frame_index: int
    clip_length: int


@dataclass(frozen=True)
class PlannedFrame:
    """A frame to feed: its id, sequence number and reference, and its place in its clip if it has one."""

    frame_id: str
    seq: int
    image: str
    clip: ClipPlace | None = None

    @property
    def key(self) -> str:
        """The record key: the frame's id, or its clip's (a clip's frames on one partition)."""
        return self.frame_id if self.clip is None else clip_id(self.clip.video_id)

    def meta(self) -> dict[str, int]:
        return {} if self.clip is None else asdict(self.clip)


@dataclass(frozen=True)
class Plan:
    """What a source feeds: its canonical name and its frames, in order."""

    source: str
    frames: tuple[PlannedFrame, ...]


@dataclass(frozen=True)
class FeedProgress:
    sent: int
    total: int
    elapsed_s: float

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class FeedSummary:
    source: str
    topic: str
    sent: int
    elapsed_s: float

    def line(self) -> str:
        rate = self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0
        return f"fed {self.sent:,} frames of {self.source} to {self.topic} in {self.elapsed_s:.1f} s ({rate:,.0f}/s)"


def plan(source: str) -> Plan:
    """The frames ``source`` holds, without rendering any pixels; :class:`InvalidInput` if it cannot be fed."""
    opened = open_source(source)
    if isinstance(opened, SyntheticDrivingSource):
        s = opened.seed
        return Plan(opened.name, tuple(PlannedFrame(f"driving-s{s}-{i:06d}", i + 1, synthetic_ref(s, i))
                                       for i in range(opened.n)))
    if isinstance(opened, SyntheticDriving3dSource):
        s = opened.seed
        return Plan(opened.name, tuple(PlannedFrame(f"driving3d-s{s}-{i:06d}", i + 1, driving3d_ref(s, i))
                                       for i in range(opened.n)))
    if isinstance(opened, SyntheticDrivingSequenceSource):
        return Plan(opened.name, tuple(_sequence_frame(opened, i) for i in range(len(opened))))
    if isinstance(opened, DigitsSource):
        ids = [frame.frame_id for frame in opened]
        return Plan(opened.name, tuple(PlannedFrame(f"digits-{i:04d}", i, digits_ref(i)) for i in ids))
    raise InvalidInput(source, "", f"cannot be fed (expected {FEEDABLE})")


def _sequence_frame(source: SyntheticDrivingSequenceSource, index: int) -> PlannedFrame:
    clip, k = divmod(index, source.length)
    return PlannedFrame(f"driving-seq-s{source.seed}-{index:06d}", index + 1,
                        sequence_ref(source.seed, source.length, index), ClipPlace(video_id(clip), k, source.length))


def frame_message(frame: PlannedFrame, source: str, now: float, stratum: str = ALL) -> FrameMessage:
    return FrameMessage(frame_id=frame.frame_id, seq=frame.seq, image=frame.image, stratum=stratum, time=now,
                        meta={"source": source, **frame.meta()})


def feed_to_kafka(
    source: str, *, bootstrap: str, topic: str, rate: float = 0.0,
    progress: Callable[[FeedProgress], None] | None = None,
) -> FeedSummary:
    """Feed ``source`` to ``topic`` on the broker at ``bootstrap`` (the topic must exist), waiting out outages."""
    frames = plan(source)
    require_topics(bootstrap, [topic])
    sink = patient_sink(bootstrap, "feed")
    try:
        return feed(sink, topic, frames, rate=rate, progress=progress)
    finally:
        sink.close()


def feed(
    sink: Sink, topic: str, frames: Plan, *, rate: float = 0.0,
    progress: Callable[[FeedProgress], None] | None = None,
    clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
    wall: Callable[[], float] = time.time,
) -> FeedSummary:
    """Send every planned frame to ``topic`` at ``rate`` frames/s (0: as fast as possible), then flush.

    The sink is flushed about once a second too, and ``progress`` then called with the frames sent so far, and
    once at the end.
    """
    total = len(frames.frames)
    start = last = clock()
    for i, frame in enumerate(_paced(frames.frames, rate, start, clock, sleep)):
        sink.send(topic, key_bytes(frame.key), encode(frame_message(frame, frames.source, wall())))
        if clock() - last >= PROGRESS_EVERY_S:
            sink.flush()  # a patient sink waits here while the broker is away
            last = clock()
            if progress is not None:
                progress(FeedProgress(i + 1, total, last - start))
    sink.flush()
    elapsed = clock() - start
    if progress is not None:
        progress(FeedProgress(total, total, elapsed))
    return FeedSummary(frames.source, topic, total, elapsed)


def _paced(
    frames: Sequence[PlannedFrame], rate: float, start: float, clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> Iterator[PlannedFrame]:
    """The frames, the i-th not before ``start + i / rate`` (no waiting when ``rate`` is 0)."""
    for i, frame in enumerate(frames):
        if rate > 0:
            wait = start + i / rate - clock()
            if wait > 0:
                sleep(wait)
        yield frame
