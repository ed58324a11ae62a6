"""The streaming pipeline end to end on the real broker: four faust workers, simulated annotators, the feeder.

Each test runs the workers as separate processes (``shadowqa worker``), as a
deployment would, under a fresh topic prefix, and checks the run from its topics.
"""

from __future__ import annotations

import re
import socket
import time
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from services.datasets.profiles import DRIVING
from services.infra.topic_names import TopicNames
from services.loop.config import LoopConfig
from services.loop.messages import DeadLetter, decode
from services.loop.offline import OfflineResult, replay_snapshot
from services.loop.tally import Tally
from services.settings import Settings
from services.tools.kafka import KafkaSink
from services.tools.pipeline_run import RunOptions, annotators, drive, export_run
from services.tools.snapshot import read_topic
from services.tools.supervisor import Supervisor
from services.tools.worker_args import loop_args
from tests.services.loop.messages.samples import DELETE, sample

# a reachable target, so the recommender certifies thresholds and the router follows the published policies
REACHABLE = LoopConfig(target=0.5, dataset=DRIVING.name)

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


def _frame_ids(seed: int, n: int) -> set[str]:
    return {f"driving-s{seed}-{i:06d}" for i in range(n)}


def _check_counted_once(t: Tally) -> None:
    """Every task annotated; every annotation compared once; every comparison counted once, none twice."""
    assert t.annotated == t.tasks
    expected = {(f, "machine") for f, copy in t.annotated if copy == 1 and f not in t.failed}
    expected |= {(f, "consensus") for f, copy in t.annotated if copy == 2}
    assert t.comparisons == expected
    assert t.aggregated == len(expected)  # the agreement stats include each comparison exactly once
    machine = sum(s.n for s in t.stats.values())
    assert machine == sum(kind == "machine" for _, kind in expected)


def test_5000_frames_are_each_shipped_or_queued_compared_once_and_replay_offline_equal(
    settings: Settings, run_topics: TopicNames, tmp_path: Path,
) -> None:
    # a reachable target, so the recommender certifies thresholds, the router follows the
    # published policies, and frames are both shipped and sent to people
    options = RunOptions(frames=5000, rate=0, seed=21, annotators=8, annotator_delay_ms=0, loop=REACHABLE)
    t, offline = _run(settings, run_topics, tmp_path, options)
    frames = _frame_ids(21, 5000)
    assert t.shipped | t.queued == frames and not t.shipped & t.queued
    assert t.shipped and t.queued and t.policies >= 1
    _check_counted_once(t)
    assert t.comparison_records == len(t.comparisons)  # no fault, no duplicate
    assert t.dead_letters == 0
    assert offline.checked == ["comparisons", "agreement-stats", "recommendations"]
    assert offline.problems == []  # the recommendations too: the same, one by one, recomputed from the snapshot
    assert len(offline.recommendations) >= 3 and any(r.action == "raise" for r in offline.recommendations)
    assert offline.stats.keys() == t.stats.keys()


@pytest.mark.parametrize("role", ["comparator", "aggregator"])
def test_a_worker_killed_mid_run_and_restarted_loses_and_double_counts_nothing(
    role: str, settings: Settings, run_topics: TopicNames, tmp_path: Path,
) -> None:
    killed: list[int] = []

    def kill_once(t: Tally, supervisor: Supervisor) -> None:
        if not killed and len(t.comparisons) >= 400:
            killed.append(len(t.comparisons))
            supervisor.kill(role)  # SIGKILL: no shutdown, no commit, no changelog flush
            time.sleep(1.0)
            supervisor.start(role, index=0)

    # 1,200 frames give about 970 comparisons (2,500 gave 2,027): the kill at 400 leaves more than half to the
    # restarted worker
    options = RunOptions(frames=1200, rate=60, seed=22, annotators=8, annotator_delay_ms=0, loop=REACHABLE)
    t, offline = _run(settings, run_topics, tmp_path, options, on_tick=kill_once)
    assert killed, "the run ended before the worker could be killed"
    assert t.shipped | t.queued == _frame_ids(22, 1200)
    assert len(t.comparisons) >= 2 * killed[0], "most of the comparisons must come after the restart"
    _check_counted_once(t)
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


def test_1000_malformed_messages_become_dead_letters_and_the_good_ones_are_all_processed(
    settings: Settings, run_topics: TopicNames, tmp_path: Path,
) -> None:
    def send_bad() -> None:
        sink = KafkaSink(settings.kafka_bootstrap)
        for key, value in _bad_frames(500):
            sink.send(run_topics.frames, key, value)
        for key, value in _bad_annotations(500):
            sink.send(run_topics.manual_annotations, key, value)
        sink.flush()
        sink.close()

    ports = {"automation": _free_port(), "comparator": _free_port()}
    scraped: dict[str, str] = {}

    def scrape() -> None:  # the workers' Prometheus endpoints, while they still run
        deadline = time.monotonic() + 60
        for role, port in ports.items():
            while True:
                scraped[role] = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
                if _dead_letter_count(scraped[role]) >= 500 or time.monotonic() > deadline:
                    break
                time.sleep(1)

    options = RunOptions(frames=600, rate=0, seed=23, annotators=4, annotator_delay_ms=0, loop=REACHABLE)
    t, offline = _run(settings, run_topics, tmp_path, options, before=send_bad, metrics_ports=ports, after=scrape)
    assert _dead_letter_count(scraped["automation"]) == 500  # the count is a metric, per stage
    assert _dead_letter_count(scraped["comparator"]) == 500
    assert t.shipped | t.queued == _frame_ids(23, 600)  # every good frame routed
    _check_counted_once(t)  # every good annotation compared and counted
    deadline = time.monotonic() + 60
    while t.dead_letters < 1000 and time.monotonic() < deadline:  # settled counts good work; letters may trail
        time.sleep(1)
        t.dead_letters = len(read_topic(settings.kafka_bootstrap, run_topics.dead_letters).records)
    records = read_topic(settings.kafka_bootstrap, run_topics.dead_letters).records
    letters = [decode(DeadLetter, r.value) for r in records]
    assert len(letters) == 1000
    by_source = {run_topics.frames: 0, run_topics.manual_annotations: 0}
    for letter in letters:
        by_source[letter.source_topic] += 1
        assert letter.reason and letter.partition is not None and letter.offset is not None
        assert letter.stage in ("automation", "comparator")
    assert by_source == {run_topics.frames: 500, run_topics.manual_annotations: 500}
    assert offline.problems == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dead_letter_count(exposition: str) -> float:
    """Sum of ``shadowqa_dead_letters_total`` over its labels in a Prometheus text exposition."""
    return sum(float(v) for v in re.findall(r"^shadowqa_dead_letters_total\{[^}]*\} (\S+)$", exposition, re.M))
