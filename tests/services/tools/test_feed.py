"""The feeder: which messages a source becomes, their keys, and the pace they are sent at."""

from __future__ import annotations

import pytest

from analysis.exceptions import InvalidInput
from services.datasets import digits
from services.loop.messages import FrameMessage, decode
from services.tools.feed import FeedProgress, feed, plan
from tests.services.tools.memory import MemorySink


def test_synthetic_frames_are_referenced_by_seed_and_index() -> None:
    planned = plan("synthetic://driving?seed=3&n=4")
    assert planned.source == "synthetic://driving?seed=3&n=4"
    assert [(f.frame_id, f.seq, f.image) for f in planned.frames] == [
        (f"driving-s3-{i:06d}", i + 1, f"synthetic://driving?seed=3#{i}") for i in range(4)
    ]


def test_point_clouds_are_referenced_by_seed_and_index_without_sweeping_them() -> None:
    planned = plan("synthetic://driving3d?seed=3&n=4")
    assert planned.source == "synthetic://driving3d?seed=3&n=4"
    assert [(f.frame_id, f.seq, f.image) for f in planned.frames] == [
        (f"driving3d-s3-{i:06d}", i + 1, f"synthetic://driving3d?seed=3#{i}") for i in range(4)
    ]


def test_digits_frames_are_referenced_by_id() -> None:
    planned = plan("sklearn-digits://?split=calibration")
    ids = [int(i) for i in digits.load_split("calibration").ids]
    assert [(f.frame_id, f.seq, f.image) for f in planned.frames] == [
        (f"digits-{i:04d}", i, f"sklearn-digits://#{i}") for i in ids
    ]


@pytest.mark.parametrize(("source", "message"), [
    ("synthetic://driving?seed=-1", "seed: expected an integer >= 0"),
    ("frames.npz", "no such file"),
    ("synthetic://city", "unknown synthetic data set"),
])
def test_sources_that_cannot_be_fed_are_named(source: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        plan(source)


def test_every_frame_is_sent_once_keyed_by_its_id_then_flushed() -> None:
    sink = MemorySink()
    summary = feed(sink, "t-frames", plan("synthetic://driving?seed=1&n=25"), wall=lambda: 1000.0)
    assert summary.sent == 25 and sink.flushes == 1
    sent = sink.on("t-frames")
    messages = [decode(FrameMessage, value) for _, value in sent]
    assert [key for key, _ in sent] == [m.frame_id.encode() for m in messages]
    assert [m.seq for m in messages] == list(range(1, 26))
    assert all(m.time == 1000.0 and m.stratum == "all" for m in messages)
    assert messages[0].meta == {"source": "synthetic://driving?seed=1&n=25"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_frames_go_out_at_the_rate() -> None:
    clock, seen, sink = FakeClock(), list[FeedProgress](), MemorySink()
    summary = feed(sink, "t", plan("synthetic://driving?seed=0&n=10"), rate=4.0, clock=clock,
                   sleep=clock.sleep, progress=seen.append)
    assert clock.now == pytest.approx(9 / 4) and summary.elapsed_s == pytest.approx(9 / 4)
    assert len(clock.sleeps) == 9 and all(s == pytest.approx(0.25) for s in clock.sleeps)
    assert (seen[-1].sent, seen[-1].total) == (10, 10) and seen[-1].elapsed_s == pytest.approx(2.25)
    assert [p.sent for p in seen] == [5, 9, 10]  # about once a second, then at the end
    assert sink.flushes == 3  # each second too: the feed waits there while the broker is away


def test_rate_zero_never_waits() -> None:
    clock = FakeClock()
    feed(MemorySink(), "t", plan("synthetic://driving?seed=0&n=50"), rate=0.0, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == []


def test_the_summary_reads_as_one_line() -> None:
    summary = feed(MemorySink(), "t-frames", plan("synthetic://driving?seed=0&n=3"))
    assert summary.line().startswith("fed 3 frames of synthetic://driving?seed=0&n=3 to t-frames in ")
