"""The streaming pipeline end to end on the real broker: four faust workers, simulated annotators, the feeder.

Each run starts the workers as separate processes (``shadowqa worker``), as a deployment would, under a fresh topic
prefix, and is checked from its topics. The good frames and the malformed messages share one run (the module's
``mixed_run``), read by two tests; each worker-kill test has a run of its own.
"""

from __future__ import annotations

import re
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import orjson
import pytest

from services.infra.client import free_port
from services.infra.topic_names import TopicNames
from services.infra.topics import create_topics, topic_layout
from services.loop.messages import DeadLetter, decode
from services.loop.offline import OfflineResult, replay_snapshot
from services.loop.tally import Tally
from services.settings import Settings
from services.tools.annotator_process import annotators
from services.tools.kafka import KafkaSink
from services.tools.pipeline_run import RunOptions, delete_run_topics, drive, export_run
from services.tools.snapshot import read_topic
from services.tools.supervisor import Supervisor
from services.tools.worker_args import loop_args
from tests.services.loop.messages.samples import DELETE, sample
from tests.utils.pipeline_checks import REACHABLE, check_counted_once, frame_ids, records_written

Tick = Callable[[Tally, Supervisor], None]


def _run(settings: Settings, names: TopicNames, tmp_path: Path, options: RunOptions,
         on_tick: Tick | None = None, before: Callable[[], None] | None = None,
         metrics_ports: dict[str, int] | None = None, after: Callable[[], None] | None = None,
         ) -> tuple[Tally, OfflineResult]:
    options = replace(options, out=tmp_path)
    args = loop_args(options.loop)
    with Supervisor(names.prefix, tmp_path / "logs", worker_args=args, metrics_ports=metrics_ports or {}) as supervisor:
        supervisor.start_all()
        if before is not None:
            before()
        with annotators(names.prefix, tmp_path / "logs", options):
            outcome = drive(settings, names, options, supervisor, on_tick=on_tick)
        if after is not None:
            after()
    export_run(settings.kafka_bootstrap, names, tmp_path / "snapshot")
    return outcome.tally, replay_snapshot(tmp_path / "snapshot", options.loop)


# 750 frames in windows of 75 machine comparisons give 7 recommendations and as many published policies, some
# raises, frames shipped by them (1,500 frames in windows of 150 checked nothing more, in twice the time)
FRAMES, SEED = 750, 21
MIXED_LOOP = replace(REACHABLE, window=75)
BAD = 500  # malformed messages sent to each of the frames and the manual-annotations topics
PARTITIONS = 4  # of the per-frame topics, as the run_topics fixture makes them


@dataclass
class MixedRun:
    """One run of good frames with malformed messages sent first: its counts, the offline recomputation, the
    workers' metrics scraped while they ran, and its dead letters."""

    names: TopicNames
    tally: Tally
    offline: OfflineResult
    scraped: dict[str, str]
    letters: list[DeadLetter]


@pytest.fixture(scope="module")
def mixed_run(kafka_bootstrap: str, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MixedRun]:
    names = TopicNames(prefix=f"p{uuid.uuid4().hex[:12]}-")
    create_topics(kafka_bootstrap, topic_layout(names, PARTITIONS, settings.retention_hours))
    try:
        yield _mixed_run(settings, names, tmp_path_factory.mktemp("mixed-run"))
    finally:
        delete_run_topics(kafka_bootstrap, names.prefix)


def _mixed_run(settings: Settings, names: TopicNames, tmp_path: Path) -> MixedRun:
    def send_bad() -> None:
        sink = KafkaSink(settings.kafka_bootstrap)
        for key, value in _bad_frames(BAD):
            sink.send(names.frames, key, value)
        for key, value in _bad_annotations(BAD):
            sink.send(names.manual_annotations, key, value)
        sink.flush()
        sink.close()

    ports = {"automation": free_port(), "comparator": free_port()}
    scraped: dict[str, str] = {}

    def scrape() -> None:  # the workers' Prometheus endpoints, while they still run
        deadline = time.monotonic() + 60
        for role, port in ports.items():
            while True:
                scraped[role] = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
                if _dead_letter_count(scraped[role]) >= BAD or time.monotonic() > deadline:
                    break
                time.sleep(1)

    options = RunOptions(frames=FRAMES, rate=0, seed=SEED, annotators=8, annotator_delay_ms=0, loop=MIXED_LOOP)
    t, offline = _run(settings, names, tmp_path, options, before=send_bad, metrics_ports=ports, after=scrape)
    deadline = time.monotonic() + 60
    while t.dead_letters < 2 * BAD and time.monotonic() < deadline:  # settled counts good work; letters may trail
        time.sleep(1)
        t.dead_letters = len(read_topic(settings.kafka_bootstrap, names.dead_letters).records)
    records = read_topic(settings.kafka_bootstrap, names.dead_letters).records
    return MixedRun(names, t, offline, scraped, [decode(DeadLetter, r.value) for r in records])


def test_frames_beside_malformed_messages_are_each_shipped_or_queued_compared_once_and_replay_offline_equal(
    mixed_run: MixedRun,
) -> None:
    # a reachable target, so the recommender certifies thresholds, the router follows the
    # published policies, and frames are both shipped and sent to people
    t, offline = mixed_run.tally, mixed_run.offline
    assert t.shipped | t.queued == frame_ids(SEED, FRAMES) and not t.shipped & t.queued
    assert t.shipped and t.queued and t.policies >= 1
    check_counted_once(t)
    assert t.comparison_records == len(t.comparisons)  # no fault, no duplicate
    bad_keys = {key.decode() for key, _ in _bad_frames(BAD) + _bad_annotations(BAD)}
    assert {letter.key for letter in mixed_run.letters} <= bad_keys  # no good message became a dead letter
    assert offline.checked == ["comparisons", "agreement-stats", "recommendations"]
    assert offline.problems == []  # the recommendations too: the same, one by one, recomputed from the snapshot
    assert len(offline.recommendations) >= 3 and any(r.action == "raise" for r in offline.recommendations)
    assert offline.stats.keys() == t.stats.keys()


@pytest.mark.parametrize("role", ["comparator", "aggregator"])
@pytest.mark.faults
def test_a_worker_killed_mid_run_and_restarted_loses_and_double_counts_nothing(
    role: str, settings: Settings, run_topics: TopicNames, tmp_path: Path,
) -> None:
    killed: list[int] = []

    def kill_once(t: Tally, supervisor: Supervisor) -> None:  # acts on the broker's count: the tally can lag
        if not killed and (written := records_written(settings.kafka_bootstrap, run_topics.comparisons)) >= 250:
            killed.append(written)
            supervisor.kill(role)  # SIGKILL: no shutdown, no commit, no changelog flush
            time.sleep(1.0)
            supervisor.start(role, index=0)

    # 900 frames give about 955 comparisons and the tick that kills sees 250-300 on the broker: more than half are
    # left to the restarted worker
    options = RunOptions(frames=900, rate=60, seed=22, annotators=8, annotator_delay_ms=0, loop=REACHABLE)
    t, offline = _run(settings, run_topics, tmp_path, options, on_tick=kill_once)
    assert killed, "the run ended before the worker could be killed"
    assert t.shipped | t.queued == frame_ids(22, 900)
    assert len(t.comparisons) >= 2 * killed[0], "most of the comparisons must come after the restart"
    check_counted_once(t)
    assert offline.problems == []


def _bad_frames(n: int) -> list[tuple[bytes, bytes]]:
    shapes = [
        b"not json at all",
        b"\xff\xfe\x00 binary",
        b"[1, 2, 3]",
        orjson.dumps(sample("frames", schema_version=99)),
        orjson.dumps(sample("frames", frame_id=DELETE)),
        orjson.dumps(sample("frames", seq=-4)),
        orjson.dumps(sample("frames", image=17)),
        orjson.dumps(sample("frames", time="yesterday")),
    ]
    return [(f"bad-frame-{i}".encode(), shapes[i % len(shapes)]) for i in range(n)]


def _bad_annotations(n: int) -> list[tuple[bytes, bytes]]:
    ann = "manual-annotations"
    shapes = [
        b"{not json",
        b"\x80\x81",
        b"null",
        orjson.dumps(sample(ann, copy=3)),
        orjson.dumps(sample(ann, task_id="driving-s0-000007/2")),  # names the wrong copy
        orjson.dumps(sample(ann, inclusion_prob=0.0)),
        orjson.dumps(sample(ann, objects=[{"bbox": [1, 2, -3, 4], "category_id": 1}])),
        orjson.dumps(sample(ann, schema_version=DELETE)),
    ]
    return [(f"driving-s0-{i:06d}".encode(), shapes[i % len(shapes)]) for i in range(n)]


def test_1000_malformed_messages_become_dead_letters_counted_per_stage(mixed_run: MixedRun) -> None:
    assert _dead_letter_count(mixed_run.scraped["automation"]) == BAD  # the count is a metric, per stage
    assert _dead_letter_count(mixed_run.scraped["comparator"]) == BAD
    assert len(mixed_run.letters) == 2 * BAD
    names = mixed_run.names
    by_source = {names.frames: 0, names.manual_annotations: 0}
    for letter in mixed_run.letters:
        by_source[letter.source_topic] += 1
        assert letter.reason and letter.partition is not None and letter.offset is not None
        assert letter.stage in ("automation", "comparator")
    assert by_source == {names.frames: BAD, names.manual_annotations: BAD}


def _dead_letter_count(exposition: str) -> float:
    """Sum of ``shadowqa_dead_letters_total`` over its labels in a Prometheus text exposition."""
    return sum(float(v) for v in re.findall(r"^shadowqa_dead_letters_total\{[^}]*\} (\S+)$", exposition, re.M))
