"""One recorded stream, one loop: the same recommendations online, from its snapshot and in replay (issue 12).

The stream is recorded by the four streaming workers on the real broker: the automation worker answers a few
hundred driving frames, the router routes them, this test annotates every task as the simulated people do,
and the comparator and the aggregator turn the annotations into comparisons and recommendations. Then

(a) online: the ``recommendations`` topic, as exported in the run's snapshot;
(b) ``replay --from-snapshot``: ``replay_snapshot`` recomputes comparisons and recommendations from the snapshot;
(c) ``shadowqa replay``'s driver: ``Driver.step`` over the recorded automation results, its people returning
    the recorded manual annotation of each task it routes,

must be the same recommendations, one by one, in every field but the wall-clock ``time``.

How the three are made comparable, honestly:

- Auto-apply is off, so no policy is ever published or applied: the router stays at policy version 0 online
  and in the driver (which applies a recommended policy only with ``auto_apply``). Under version 0 routing
  is a hash of (frame id, salt), so the driver routes every frame as the router did (checked: the same tasks).
- The recommender's windows depend on the order comparisons are counted in. Online that is the order the
  comparator emits them. The test waits until the router has routed every frame, then sends the annotations
  one frame at a time in frame-id order (both copies of a consensus task together) and waits for that frame's
  comparisons before the next frame: the ``comparisons`` topic holds them in frame-id order, the machine
  comparison before the consensus one. The driver is stepped one frame per ``Driver.step``, in the same
  frame-id order, and ``compare_ready`` orders one frame's comparisons the same way (checked: the driver's
  comparisons equal the recorded ones, in order). ``replay_snapshot`` counts the recorded order.
- The check has teeth: the driver and ``replay_snapshot`` run with a window one larger disagree with the online
  recommendations.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from services.datasets.profiles import DRIVING, profile
from services.infra.topic_names import TopicNames
from services.loop.checks import comparison_key, snapshot_lines
from services.loop.config import LoopConfig
from services.loop.context import CompareContext
from services.loop.driver import Driver, StepOutput
from services.loop.messages import (
    AutomationMessage,
    ComparisonMessage,
    ManualAnnotation,
    ManualTask,
    RecommendationMessage,
    decode,
    encode,
)
from services.loop.offline import replay_snapshot
from services.loop.recommend import recommendation_message
from services.loop.tally import Tally
from services.settings import Settings
from services.tools.annotators import annotate_task, error_model
from services.tools.feed import feed_to_kafka
from services.tools.kafka import KafkaSink, key_bytes
from services.tools.pipeline_run import export_run
from services.tools.snapshot import read_topic
from services.tools.stall import StallWatch, movement, stall_message
from services.tools.supervisor import Supervisor
from services.tools.watch import TopicWatcher
from services.tools.worker_args import loop_args

# a reachable target, so the recommender raises the rate; a small window, so the stream closes several windows
CONFIG = LoopConfig(target=0.5, window=50, dataset=DRIVING.name, auto_apply=False)
FRAMES, SEED, PEOPLE = 300, 41, 8
STALL_S = 90.0  # a wait gives up when nothing in the run has moved for this long


class Run:
    """The workers of the recorded run, and a watcher of its topics."""

    def __init__(self, settings: Settings, names: TopicNames, supervisor: Supervisor) -> None:
        self.bootstrap, self.names, self.supervisor = settings.kafka_bootstrap, names, supervisor
        self.watcher = TopicWatcher(self.bootstrap, names).start()

    def wait(self, done: Callable[[Tally], bool], what: str) -> Tally:
        """Block until ``done`` holds for the run's counts; fail once nothing has moved for ``STALL_S``."""
        stall = StallWatch()
        while True:
            with self.watcher.lock:
                if done(self.watcher.tally):
                    return self.watcher.tally
                counts = movement(self.watcher.tally, FRAMES)
            self.supervisor.check()
            if self.watcher.error is not None:
                raise self.watcher.error
            still = stall.still_s(counts)
            if still > STALL_S:
                pytest.fail(f"waiting for {what}: {stall_message(self.watcher.snapshot(), FRAMES, FRAMES, still)}")
            time.sleep(0.005)


def _routed_tasks(run: Run) -> dict[str, list[ManualTask]]:
    """Every frame's manual tasks, once the router has routed every frame and issued all copies."""
    run.wait(lambda t: t.routed >= FRAMES, "every frame routed")
    stall = StallWatch()
    while True:
        records = read_topic(run.bootstrap, run.names.manual_queue).records
        by_frame: dict[str, list[ManualTask]] = {}
        for r in records:
            task = decode(ManualTask, r.value or b"")
            by_frame.setdefault(task.frame_id, []).append(task)
        if all(len(tasks) == tasks[0].copies for tasks in by_frame.values()):
            return {f: sorted(tasks, key=lambda t: t.copy_) for f, tasks in by_frame.items()}
        if stall.still_s((len(records),)) > STALL_S:
            pytest.fail("the router never issued every copy of its consensus tasks")
        time.sleep(0.1)


def _annotate_in_frame_order(run: Run, by_frame: dict[str, list[ManualTask]]) -> None:
    """One frame at a time, in frame-id order: its annotations sent, then its comparisons awaited."""
    failed = run.wait(lambda t: len(t.results) >= FRAMES, "every engine result").failed.copy()
    sink, model = KafkaSink(run.bootstrap), error_model("default")
    try:
        for frame_id in sorted(by_frame):
            tasks = by_frame[frame_id]
            for task in tasks:
                annotation = annotate_task(task, seed=SEED, model=model, people=PEOPLE, now=time.time())
                sink.send(run.names.manual_annotations, key_bytes(frame_id), encode(annotation))
            sink.flush()
            expected = {(frame_id, "machine")} if frame_id not in failed else set()
            expected |= {(frame_id, "consensus")} if len(tasks) == 2 else set()
            run.wait(partial(_compared, expected), f"the comparisons of {frame_id}")
    finally:
        sink.close()


def _compared(expected: set[tuple[str, str]], tally: Tally) -> bool:
    return expected <= tally.comparisons


def _online_recommendations(run: Run) -> None:
    """Wait until the aggregator has counted every comparison and published every window's recommendation."""
    tally = run.wait(lambda t: t.aggregated >= len(t.comparisons), "the aggregator to count every comparison")
    windows = sum(kind == "machine" for _, kind in tally.comparisons) // CONFIG.window
    topic = run.names.recommendations
    run.wait(lambda t: len(read_topic(run.bootstrap, topic).records) >= windows, f"{windows} recommendations")


def _record(settings: Settings, names: TopicNames, tmp_path: Path) -> Path:
    """Run the stream through the workers (annotated in frame order) and export every topic as a snapshot."""
    with Supervisor(names.prefix, tmp_path / "logs", worker_args=loop_args(CONFIG)) as supervisor:
        supervisor.start_all()
        run = Run(settings, names, supervisor)
        try:
            feed_to_kafka(profile(CONFIG.dataset).source(SEED, FRAMES), bootstrap=run.bootstrap, topic=names.frames)
            _annotate_in_frame_order(run, _routed_tasks(run))
            _online_recommendations(run)
        finally:
            run.watcher.stop()
    export_run(settings.kafka_bootstrap, names, tmp_path / "snapshot")
    return tmp_path / "snapshot"


def _replayed(snapshot: Path, config: LoopConfig) -> list[StepOutput]:
    """``Driver.step`` over the recorded engine results, one frame per step in frame-id order; its people
    hand back the recorded annotation of each task it routes."""
    recorded = [decode(ManualAnnotation, raw) for raw in snapshot_lines(snapshot, "manual-annotations")]
    by_task = {a.task_id: a for a in recorded}
    driver = Driver(config, CompareContext.for_dataset(config.dataset), lambda task: by_task.get(task.task_id))
    messages = [decode(AutomationMessage, raw) for raw in snapshot_lines(snapshot, "automation-results")]
    return [driver.step([m], now=m.time) for m in sorted(messages, key=lambda m: m.frame_id)]


def _recommendations(steps: list[StepOutput]) -> list[RecommendationMessage]:
    return [recommendation_message(r, 0.0) for s in steps for r in s.recommendations]


def _fields(recommendations: list[RecommendationMessage]) -> list[dict[str, Any]]:
    """Every field but the wall-clock time: action, thresholds, automation rate, policy version, reason, ..."""
    return [r.model_dump(exclude={"time"}) for r in recommendations]


def _task_key(t: ManualTask) -> tuple[Any, ...]:
    return t.task_id, t.inclusion_prob, t.consensus_prob, t.copies, t.policy_version, t.stratum


def test_one_recorded_stream_gives_the_same_recommendations_online_from_the_snapshot_and_in_replay(
    settings: Settings, run_topics: TopicNames, tmp_path: Path,
) -> None:
    snapshot = _record(settings, run_topics, tmp_path)
    online = [decode(RecommendationMessage, raw) for raw in snapshot_lines(snapshot, "recommendations")]
    assert len(online) >= 3 and any(r.action == "raise" for r in online)  # several, and not all alike
    assert not list(snapshot_lines(snapshot, "policies"))  # auto-apply off: the router stayed at version 0

    offline = replay_snapshot(snapshot, CONFIG)
    assert offline.checked == ["comparisons", "agreement-stats", "recommendations"]
    assert offline.problems == []

    steps = _replayed(snapshot, CONFIG)
    tasks = [decode(ManualTask, raw) for raw in snapshot_lines(snapshot, "manual-queue")]
    assert sorted(_task_key(t) for s in steps for t in s.tasks) == sorted(_task_key(t) for t in tasks)
    recorded = [decode(ComparisonMessage, raw) for raw in snapshot_lines(snapshot, "comparisons")]
    replayed = [c for s in steps for c in s.comparisons]
    assert [comparison_key(c) for c in replayed] == [comparison_key(c) for c in recorded]  # the same order

    assert _fields(online) == _fields(offline.recommendations) == _fields(_recommendations(steps))

    other = replace(CONFIG, window=CONFIG.window + 1)  # the comparison can fail: another window disagrees
    assert _fields(_recommendations(_replayed(snapshot, other))) != _fields(online)
    assert any("recommendation" in p for p in replay_snapshot(snapshot, other).problems)
