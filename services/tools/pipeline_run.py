"""One whole run of the streaming pipeline on the local broker: what ``make demo`` does.

Provision the broker (started here only if it was not running), create a fresh
set of topics under a run prefix, start one worker per role and the simulated
annotators, feed N frames at a rate, follow the topics until every frame is
routed and every annotation compared and aggregated, export the topics as
snapshots, recompute the comparator and aggregator offline from them, write the
report, and stop everything that was started — workers, annotators, the run's
topics and, if this run started it, the broker.
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
from dataclasses import dataclass, field
from pathlib import Path

from services.infra import kafka
from services.infra.client import admin_client
from services.infra.topic_names import PER_FRAME, SINGLE, TopicNames
from services.infra.topics import create_topics, delete_topics, topic_layout
from services.pipeline.offline import OfflineResult, replay_snapshot
from services.pipeline.tally import Tally
from services.settings import Settings
from services.tools.exceptions import ToolError
from services.tools.feed import FeedSummary, feed_to_kafka
from services.tools.snapshot import export_snapshot
from services.tools.supervisor import Supervisor
from services.tools.watch import TopicWatcher

ROOT = Path(__file__).resolve().parents[2]
GROUPS_LEAVE_S = 20.0  # a stopped member leaves at once, a killed one when its session times out


class RunTimedOut(ToolError):
    """Raised when a run does not settle in time; says what was still missing."""


@dataclass(frozen=True)
class RunOptions:
    frames: int = 4000
    rate: float = 80.0  # frames per second fed
    seed: int = 11
    annotators: int = 8
    annotator_delay_ms: float = 20.0
    error_model: str = "default"
    target: float = 0.85
    alpha: float = 0.05
    audit_floor: float = 0.25
    window: int = 150  # machine comparisons per recommender step
    out: Path = Path("reports/demo")
    timeout_s: float = 480.0
    keep_topics: bool = False


@dataclass
class RunOutcome:
    prefix: str
    feed: FeedSummary | None
    tally: Tally
    offline: OfflineResult
    elapsed_s: float
    broker_started: bool
    snapshot_dir: Path
    timeline: list[tuple[float, Tally]] = field(default_factory=list)


def run_pipeline(settings: Settings, options: RunOptions, say: Callable[[str], None] = print,
                 progress: Callable[[str], None] | None = None) -> RunOutcome:
    begin = time.monotonic()
    paths = kafka.default_paths()
    up = kafka.up(paths, settings.kafka_port, settings.kafka_controller_port, settings.kafka_heap_mb, say=say)
    say(f"Kafka {'started' if up.started else 'already running'} on {settings.kafka_bootstrap}")
    prefix = f"run-{int(time.time())}-{os.getpid()}-"
    names = TopicNames(prefix)
    try:
        create_topics(settings.kafka_bootstrap, topic_layout(names, settings.partitions, settings.retention_hours))
        say(f"topics created under prefix {prefix!r}")
        with _workers(prefix, options) as supervisor, annotators(prefix, options.out / "logs", options):
            say("workers ready: automation, router, comparator, aggregator")
            outcome = drive(settings, names, options, supervisor, progress)
        outcome.snapshot_dir = options.out / "snapshot"
        export_run(settings.kafka_bootstrap, names, outcome.snapshot_dir)
        outcome.offline = replay_snapshot(outcome.snapshot_dir, "driving", target=options.target, alpha=options.alpha)
    finally:
        if not options.keep_topics:
            delete_run_topics(settings.kafka_bootstrap, prefix)
        if up.started:
            kafka.down(paths)
            say("Kafka stopped (this run started it)")
    outcome.prefix, outcome.broker_started, outcome.elapsed_s = prefix, up.started, time.monotonic() - begin
    return outcome


@contextlib.contextmanager
def _workers(prefix: str, options: RunOptions) -> Iterator[Supervisor]:
    args = ["--target", str(options.target), "--alpha", str(options.alpha), "--audit-floor", str(options.audit_floor),
            "--window", str(options.window)]
    supervisor = Supervisor(prefix, options.out / "logs", worker_args=args)
    try:
        supervisor.start_all()
        yield supervisor
    finally:
        supervisor.stop()


@contextlib.contextmanager
def annotators(prefix: str, log_dir: Path, options: RunOptions) -> Iterator[subprocess.Popen[bytes]]:
    """``shadowqa simulate annotators`` working the run's queue until the block ends (then SIGINT: finish, commit)."""
    argv = [sys.executable, "-m", "services.cli.main", "simulate", "annotators", "--workers", str(options.annotators),
            "--delay-ms", str(options.annotator_delay_ms), "--error-model", options.error_model,
            "--seed", str(options.seed), "--prefix", prefix]
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / "annotators.log").open("ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)  # finish the task in hand, commit, exit
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def drive(settings: Settings, names: TopicNames, options: RunOptions, supervisor: Supervisor,
          progress: Callable[[str], None] | None = None,
          on_tick: Callable[[Tally, Supervisor], None] | None = None) -> RunOutcome:
    """Feed the frames and follow the topics until the run settles; ``on_tick`` sees the counts each second."""
    source = f"synthetic://driving?seed={options.seed}&n={options.frames}"
    fed: list[int] = [0]
    summary: list[FeedSummary] = []
    failure: list[BaseException] = []

    def feeder() -> None:
        try:
            summary.append(feed_to_kafka(source, bootstrap=settings.kafka_bootstrap, topic=names.frames,
                                         rate=options.rate, progress=lambda p: fed.__setitem__(0, p.sent)))
            fed[0] = options.frames
        except BaseException as exc:
            failure.append(exc)

    watcher = TopicWatcher(settings.kafka_bootstrap, names).start()
    thread = threading.Thread(target=feeder, name="feed", daemon=True)
    start = time.monotonic()
    thread.start()
    timeline: list[tuple[float, Tally]] = []
    try:
        while True:
            time.sleep(1.0)
            supervisor.check()
            if failure:
                raise failure[0]
            if watcher.error is not None:
                raise watcher.error
            tally = watcher.snapshot()
            timeline.append((time.monotonic() - start, tally))
            if progress is not None:
                progress(tally.line(fed[0]))
            if on_tick is not None:
                on_tick(tally, supervisor)
            if not thread.is_alive() and tally.settled(options.frames):
                break
            if time.monotonic() - start > options.timeout_s:
                raise RunTimedOut(f"the run did not settle within {options.timeout_s:.0f} s: {tally.line(fed[0])}; "
                                  f"worker logs in {supervisor.log_dir}")
    finally:
        watcher.stop()
    return RunOutcome("", summary[0] if summary else None, tally, OfflineResult([], {}), 0.0, False, Path(),
                      timeline)


def export_run(bootstrap: str, names: TopicNames, folder: Path) -> None:
    """Snapshot every topic of the run into ``folder/<topic>.jsonl``."""
    folder.mkdir(parents=True, exist_ok=True)
    for base in PER_FRAME + SINGLE:
        export_snapshot(bootstrap, names.name(base), folder / f"{base}.jsonl")


def delete_run_topics(bootstrap: str, prefix: str) -> None:
    """Delete every topic of a run: the pipeline's and the workers' internal ones (changelogs, repartitions)."""
    with admin_client(bootstrap) as admin:
        topics = [t for t in admin.list_topics() if t.startswith(prefix)]
        deadline = time.monotonic() + GROUPS_LEAVE_S
        while True:  # a group is deleted once empty: members that just stopped may take a moment to leave
            groups = [g["group_id"] for g in admin.list_groups() if g["group_id"].startswith(prefix)]
            if groups:
                admin.delete_groups(groups)
            if not groups or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    delete_topics(bootstrap, topics)
