"""The pipeline survives a restart of the broker: killed (SIGKILL) mid-run and started again after a pause, while
the workers, ``shadowqa feed``, ``shadowqa simulate annotators`` (and an idle second team on an empty queue: the
reported failure, its stall probe meeting the absent broker) and the API's outbox (annotations submitted before,
during and after the outage, to a topic of their own) run, and nobody restarts any of them.

The test kills the project's shared broker, so it starts it again in a ``finally`` whatever happens: the rest of
the suite keeps a broker. Every stage has resumed once each of its output topics has a record *created* after the
broker answered again (a record queued during the outage does not count); the bound on that is a guard, the run
itself is followed until it settles and fails only when nothing moves for STALL_S. Each worker's log says the
outage in two lines, the broker lost and reconnected (streams/quiet_logs.py), not in thousands of retries.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer  # type: ignore[import-untyped, unused-ignore]
from kafka.structs import TopicPartition  # type: ignore[import-untyped, unused-ignore]
from sqlalchemy import Engine

from services.api.outbox import Outbox
from services.datasets.profiles import profile
from services.db.engine import make_engine, upgrade
from services.infra import kafka
from services.infra.client import answers_requests, free_port
from services.infra.process import command_line
from services.infra.topic_names import TopicNames
from services.loop.messages import ManualAnnotation, decode
from services.loop.tally import Tally
from services.settings import Settings
from services.tools.annotator_process import annotators
from services.tools.kafka import CLIENT_ID, RECONNECT_BACKOFF_MAX_MS, KafkaSink
from services.tools.pipeline_run import RunOptions
from services.tools.snapshot import read_topic
from services.tools.stall import StallWatch, movement, stall_message
from services.tools.supervisor import ROLES, Supervisor, python_env
from services.tools.watch import TopicWatcher
from services.tools.worker_args import loop_args
from tests.utils.outbox import marks, submit
from tests.utils.pipeline_checks import REACHABLE, check_counted_once, frame_ids

pytestmark = [pytest.mark.slow, pytest.mark.faults]

# 240 frames at 20/s: the broker dies about 4 s into the feed, with every stage at work; a window of 40 comparisons
# gives recommendations (and policies the router follows) on both sides of the outage
FRAMES, SEED, RATE = 240, 24, 20.0
LOOP = replace(REACHABLE, window=40)
KILL_WHEN = 60  # frames through the engine (and at least one annotation compared) when the broker is killed
PAUSE_S = 5.0  # the broker stays dead this long, then takes its start-up time to answer again
RESUME_BOUND_S = 30.0  # guard: every stage produces again within this after the broker answers
STALL_S = 60.0  # guard: nothing moved for this long (the outage included) fails the run
ROWS = 30  # annotations submitted to the outbox before the outage, during it and after it
OUTAGE_LINES = 6  # lines per worker log from the kill until the run settled, at most (1,510-2,230 before quiet_logs)
# who writes each topic: a record created on it after the restart shows that this stage resumed
STAGES = {"frames": "feed", "automation-results": "automation", "manual-queue": "router",
          "manual-annotations": "annotators", "comparisons": "comparator", "agreement-stats": "aggregator"}


class CreationTimes:
    """The newest record creation time (ms) seen so far on each of a run's STAGES topics (a background thread)."""

    def __init__(self, bootstrap: str, names: TopicNames) -> None:
        self.newest: dict[str, int] = {}
        self._base = {names.name(t): t for t in STAGES}
        self._stop = threading.Event()
        self._consumer: Any = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                            client_id=f"{CLIENT_ID}-test-times",
                                            reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS)
        tps = [TopicPartition(t, p) for t in self._base for p in sorted(self._consumer.partitions_for_topic(t) or ())]
        self._consumer.assign(tps)
        self._thread = threading.Thread(target=self._run, name="creation-times", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                for tp, records in self._consumer.poll(timeout_ms=200, max_records=5000).items():
                    base = self._base[tp.topic]
                    self.newest[base] = max([self.newest.get(base, 0)] + [r.timestamp for r in records])
        finally:
            self._consumer.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@contextlib.contextmanager
def _feed(names: TopicNames, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``shadowqa feed`` of the run's frames at RATE, as a user starts it; killed if still running at the end."""
    source = profile(LOOP.dataset).source(SEED, FRAMES)
    argv = [sys.executable, "-m", "services.cli.main", "feed", "--source", source, "--rate", str(RATE),
            "--prefix", names.prefix]
    with log.open("ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=python_env({}),
                                   start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def _outbox(bootstrap: str, topic: str, folder: Path) -> Iterator[Engine]:
    """The API's outbox publishing a fresh SQLite database's annotations to ``topic`` until the block ends."""
    url = f"sqlite:///{folder / 'outbox.sqlite3'}"
    upgrade(url)
    engine, sink = make_engine(url), KafkaSink(bootstrap)
    outbox = Outbox(engine, sink, topic)
    outbox.start()
    try:
        yield engine
    finally:
        outbox.stop()
        sink.close()
        engine.dispose()


def _broker_restart(settings: Settings, while_away: Callable[[], object]) -> float:
    """SIGKILL the project's broker, call ``while_away``, leave it dead PAUSE_S, start it again (in a ``finally``:
    whatever happens, the suite keeps its broker); the wall-clock time just before it answered requests again.

    Measured on its own (:class:`FirstAnswer`), not as the time ``kafka.up`` returns: ``up`` also waits for the group
    coordinator of every ``__consumer_offsets`` partition, and in those seconds the feed, already reconnected, could
    send all its remaining frames, which then did not count as sent after the restart (CI failed so)."""
    paths = kafka.default_paths()
    pid = kafka.status(paths).pid
    assert pid is not None, f"the project's broker ({paths.pid}) does not run"
    try:
        os.kill(pid, signal.SIGKILL)
        while command_line(pid) is not None:  # gone (the broker is not our child: nobody to wait on)
            time.sleep(0.05)
        while_away()
        time.sleep(PAUSE_S)
    finally:
        with FirstAnswer(settings.kafka_bootstrap) as first:
            kafka.up(paths, settings.kafka_port, settings.kafka_controller_port, settings.kafka_heap_mb)
    return first.before


class FirstAnswer:
    """Polls the broker (ApiVersions on a plain socket, every POLL_S) from ``__enter__`` until it answers;
    ``before`` is the wall-clock start of the last poll it did not answer: the broker answered after it, so a record
    created after ``before`` was created after the outage or within one poll of its end. A block that raised (the
    broker did not start) stops the polling and keeps its own error."""

    POLL_S = 0.05

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap, self.before = bootstrap, time.time()
        self._answered, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, name="first-answer", daemon=True)

    def __enter__(self) -> FirstAnswer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            if exc_type is None:
                self._thread.join(timeout=STALL_S)
                assert self._answered.is_set(), f"the broker at {self.bootstrap} did not answer after kafka.up"
        finally:
            self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            start = time.time()
            if answers_requests(self.bootstrap):
                self._answered.set()
                return
            self.before = start
            self._stop.wait(self.POLL_S)


def _follow(watcher: TopicWatcher, tools: dict[str, subprocess.Popen[bytes]], supervisor: Supervisor,
            until: Callable[[Tally], bool], logs: Path) -> Tally:
    """Watch the run until ``until(tally)``; fail when a tool or worker exited, or nothing moved for STALL_S."""
    stall = StallWatch()
    while True:
        supervisor.check()
        for name, tool in tools.items():
            assert tool.poll() in (None, 0), f"{name} exited with status {tool.returncode}; logs in {logs}"
        if watcher.error is not None:
            raise watcher.error
        t = watcher.snapshot()
        if until(t):
            return t
        still = stall.still_s(movement(t, 0))
        assert still < STALL_S, f"{stall_message(t, 0, FRAMES, still)}; logs in {logs}"
        time.sleep(0.5)


def test_the_workers_and_tools_ride_out_a_broker_restart_and_count_every_frame_once(
    settings: Settings, run_topics: TopicNames, topics: TopicNames, tmp_path: Path,
) -> None:
    names, logs, bootstrap = run_topics, tmp_path / "logs", settings.kafka_bootstrap
    begin = time.monotonic()
    options = RunOptions(frames=FRAMES, seed=SEED, annotators=8, annotator_delay_ms=0, loop=LOOP)
    ports = {role: free_port() for role in ROLES}  # as `pipeline run`: each worker's lag reporter meets the outage too
    with Supervisor(names.prefix, logs, worker_args=loop_args(LOOP), metrics_ports=ports) as supervisor, \
            _outbox(bootstrap, topics.manual_annotations, tmp_path) as db:
        supervisor.start_all()
        times, watcher = CreationTimes(bootstrap, names), TopicWatcher(bootstrap, names).start()
        try:
            with annotators(names.prefix, logs, options) as people, _feed(names, logs / "feed.log") as feed, \
                    annotators(topics.prefix, logs / "idle", options) as idle:
                tools = {"simulate annotators": people, "feed": feed, "idle simulate annotators": idle}
                submitted = submit(db, range(ROWS))
                _follow(watcher, tools, supervisor, lambda t: len(t.results) >= KILL_WHEN and bool(t.comparisons),
                        logs)
                before = {w.name: _lines(w.log) for w in supervisor.workers}
                killed = time.time()
                back = _broker_restart(settings, lambda: submitted.extend(submit(db, range(ROWS, 2 * ROWS))))
                resumed = dict[str, float]()
                submitted += submit(db, range(2 * ROWS, 3 * ROWS))

                def all_resumed(t: Tally) -> bool:
                    moved = [topic for topic, newest in dict(times.newest).items() if newest >= back * 1000]
                    if _published(db) >= 2 * ROWS:  # every row submitted before the broker answered again
                        moved.append("outbox")
                    for stage in moved:
                        resumed.setdefault(STAGES.get(stage, stage), round(time.time() - back, 1))
                    assert time.time() - back < RESUME_BOUND_S, f"resumed so far: {resumed}"
                    return len(resumed) == len(STAGES) + 1

                _follow(watcher, tools, supervisor, all_resumed, logs)
                t = _follow(watcher, tools, supervisor, lambda t: feed.poll() == 0 and t.settled(FRAMES), logs)
                said = _outage_lines(supervisor, before)
            _wait_published(db, len(submitted))
        finally:
            watcher.stop()
            times.stop()
    assert people.returncode == idle.returncode == 130  # alive until the test's SIGINT stopped them
    print(f"broker away {back - killed:.1f} s; resumed, seconds after it answered again: {resumed}; "
          f"run {time.monotonic() - begin:.1f} s; worker log lines from the kill until settled: "
          f"{ {name: len(lines) for name, lines in said.items()} }")
    for name, lines in said.items():
        text = "\n".join(lines)
        assert len(lines) <= OUTAGE_LINES, f"{name} logged {len(lines)} lines through the outage, the first 20:\n" + \
            "\n".join(lines[:20])
        assert text.count("broker lost at ") == text.count("broker reconnected after ") == 1, text

    feed_log = (logs / "feed.log").read_text()
    assert "feed: the broker does not answer" in feed_log and "feed: the broker answers again" in feed_log
    frames = read_topic(bootstrap, names.frames).records
    assert len(frames) == len({r.key for r in frames}) == FRAMES  # every frame sent once, none lost or repeated
    assert t.shipped | t.queued == frame_ids(SEED, FRAMES) and not t.shipped & t.queued
    check_counted_once(t)  # every task annotated, every annotation compared once, every comparison counted once
    relayed = read_topic(bootstrap, topics.manual_annotations).records
    assert {decode(ManualAnnotation, r.value).task_id for r in relayed} == set(submitted)  # at least once, all


def _lines(log: Path) -> int:
    return len(log.read_text(errors="replace").splitlines())


def _outage_lines(supervisor: Supervisor, before: dict[str, int]) -> dict[str, list[str]]:
    """Each worker's log lines after its first ``before[name]``, once every worker said the broker reconnected
    (each says it once its clients were quiet for a moment after the broker answered); fails when one has not after
    STALL_S."""
    deadline = time.monotonic() + STALL_S
    while True:
        supervisor.check()
        said = {w.name: w.log.read_text(errors="replace").splitlines()[before[w.name]:] for w in supervisor.workers}
        if all(any("broker reconnected after " in line for line in lines) for lines in said.values()):
            return said
        assert time.monotonic() < deadline, "not every worker said the broker reconnected; their lines since the " \
            f"kill, the last 5: { {name: (len(lines), lines[-5:]) for name, lines in said.items()} }"
        time.sleep(0.2)


def _published(engine: Engine) -> int:
    return sum(published for published, _, _ in marks(engine).values())


def _wait_published(engine: Engine, rows: int) -> None:
    """Wait until the outbox has published ``rows`` annotations; fail when it stops publishing for STALL_S."""
    last_move, done = time.monotonic(), 0
    while done < rows:
        now = _published(engine)
        last_move, done = (time.monotonic(), now) if now > done else (last_move, done)
        assert time.monotonic() - last_move < STALL_S, f"the outbox published {done} of {rows} and stopped"
        time.sleep(0.2)
