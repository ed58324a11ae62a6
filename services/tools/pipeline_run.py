"""One whole run of the streaming pipeline on the local broker: what ``make demo`` does.

Provision the broker (started here only if it was not running), create a fresh
set of topics under a run prefix, start one worker per role plus the persisting
worker, the HTTP API and a simulated annotation team working the queue through
it, feed N frames at a rate, follow the topics until every frame is routed and
every annotation compared and aggregated, export the topics as snapshots,
recompute the comparator and aggregator offline from them, write the report,
and stop everything that was started — workers, API, annotators, the run's
topics and, if this run started it, the broker.

A run takes as long as it needs while it moves: it gives up only when nothing
has moved for ``stall_s`` (services/tools/stall.py names the stage that
stopped), or past the optional overall cap ``timeout_s``. Paths (the report
folder, a SQLite database) are made absolute before any process starts, so the
workers and the API, started in the caller's working directory, read and write
the same files as this process.

A run of clips (``pipeline run --sequences``, :meth:`RunOptions.of_clips`) feeds the driving-seq profile's
clips frame by frame; the automation worker runs the profile's chain of steps on each whole clip, each step's
output goes to its own topic (``automation-steps.<step>``, created and exported with the others), the queue
carries clip tasks that the simulated team answers through the API with track ids, and the run is settled when
every clip is routed and every clip annotation compared and aggregated.

The database is a fresh SQLite file in the report folder unless
``SHADOWQA_DATABASE_URL`` names one. With ``metrics_port`` BASE, Prometheus
metrics are served on BASE (automation), BASE+1 (router), BASE+2 (comparator),
BASE+3 (aggregator), BASE+4 (persist) and BASE+5 (the API, also its HTTP port).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from services.datasets.profiles import CLIP_LENGTH, DRIVING_SEQ, profile
from services.db.engine import upgrade
from services.engine.chain.spec import load_pipeline
from services.infra import kafka
from services.infra.client import admin_client
from services.infra.topic_names import PER_FRAME, SINGLE, TopicNames, step_topic
from services.infra.topics import create_topics, delete_topics, topic_layout
from services.loop.config import LoopConfig
from services.loop.offline import OfflineResult, replay_snapshot
from services.loop.tally import Tally
from services.settings import Settings
from services.tools.api_annotators import Team, TeamOptions, TeamTally
from services.tools.api_processes import api_processes
from services.tools.exceptions import ToolError
from services.tools.feed import FeedSummary
from services.tools.feed_thread import FeedThread
from services.tools.snapshot import export_snapshot
from services.tools.stall import StallWatch, movement, stall_message
from services.tools.supervisor import Supervisor
from services.tools.watch import TopicWatcher
from services.tools.worker_args import loop_args

GROUPS_LEAVE_S = 20.0  # a stopped member leaves at once, a killed one when its session times out
METRICS_OFFSETS = {"automation": 0, "router": 1, "comparator": 2, "aggregator": 3, "persist": 4, "api": 5}


class RunTimedOut(ToolError):
    """Raised when a run does not settle within its overall cap (``--timeout``); says what was still missing."""


class RunStalled(ToolError):
    """Raised when nothing in a run has moved for its stall window; names the stage that stopped, with the counts."""


@dataclass(frozen=True)
class RunOptions:
    frames: int = 4000
    rate: float = 80.0  # frames per second fed
    seed: int = 11
    annotators: int = 8
    annotator_delay_ms: float = 20.0
    error_model: str = "default"
    loop: LoopConfig = field(default_factory=LoopConfig)  # the workers' and the offline recomputation's
    out: Path = Path("reports/demo")  # made absolute (against the working directory) before anything starts
    stall_s: float = 120.0  # give up when nothing has moved for this long
    timeout_s: float | None = None  # give up past this in all, however the run moves (None: no cap)
    keep_topics: bool = False
    metrics_port: int | None = None  # BASE: Prometheus ports BASE..BASE+5 (module docstring)
    lease_s: float = 10.0  # the API's task lease: an abandoned task is back in the queue after this
    abandon: float = 0.02  # share of claimed tasks the simulated people walk away from
    skip: float = 0.01  # share they hand back with a reason (a run of 1,000 claims has one: P(none) ~ 5e-5)
    database_url: str | None = None  # None: SHADOWQA_DATABASE_URL if set, else a fresh SQLite file in ``out``
    clips: int | None = None  # a run of clips (``of_clips``): this many clips, ``frames`` is their frames
    clip_length: int = CLIP_LENGTH

    @classmethod
    def of_clips(cls, clips: int, clip_length: int = CLIP_LENGTH, **options: Any) -> RunOptions:
        """A run of ``clips`` clips of ``clip_length`` frames of the driving-seq profile (its chain, its clip
        spec), the loop's other settings as given."""
        loop = replace(options.pop("loop", LoopConfig()), dataset=DRIVING_SEQ.name)
        return cls(frames=clips * clip_length, clips=clips, clip_length=clip_length, loop=loop, **options)

    @property
    def unit(self) -> str:
        """What the loop routes and compares, by name: ``frame`` or ``clip``."""
        return "frame" if self.clips is None else "clip"

    @property
    def units(self) -> int:
        """What the loop routes and compares: frames, or clips."""
        return self.frames if self.clips is None else self.clips

    @property
    def source(self) -> str:
        """The frame source fed."""
        if self.clips is None:
            return profile(self.loop.dataset).source(self.seed, self.frames)
        return f"synthetic://driving-seq?seed={self.seed}&clips={self.clips}&length={self.clip_length}"

    @property
    def steps(self) -> tuple[str, ...]:
        """The steps of the chain the automation worker runs on clips (none for frames)."""
        pipeline = profile(self.loop.dataset).pipeline
        return () if pipeline is None else tuple(s.name for s in load_pipeline(pipeline).steps)

    @property
    def target(self) -> float:
        return self.loop.target

    @property
    def alpha(self) -> float:
        return self.loop.alpha


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
    team: TeamTally | None = None
    database_url: str = ""


def run_pipeline(settings: Settings, options: RunOptions, say: Callable[[str], None] = print,
                 progress: Callable[[str], None] | None = None) -> RunOutcome:
    begin = time.monotonic()
    options = replace(options, out=options.out.resolve())
    paths = kafka.default_paths()
    up = kafka.up(paths, settings.kafka_port, settings.kafka_controller_port, settings.kafka_heap_mb, say=say)
    say(f"Kafka {'started' if up.started else 'already running'} on {settings.kafka_bootstrap}")
    prefix = f"run-{int(time.time())}-{os.getpid()}-"
    names = TopicNames(prefix)
    database = _database(settings, options)
    say(f"database: {_shown(database)}")
    try:
        create_topics(settings.kafka_bootstrap, topic_layout(names, settings.partitions, settings.retention_hours,
                                                             options.steps))
        say(f"topics created under prefix {prefix!r}")
        admin = secrets.token_urlsafe(32)  # 43 characters: the API refuses admin tokens under 32
        with _workers(prefix, options, database) as supervisor, \
                api_server(prefix, database, admin, options) as url, \
                Team(url, admin, _team(options, prefix)) as team:
            say(f"workers ready: automation, router, comparator, aggregator, persist; API on {url}")
            outcome = drive(settings, names, options, supervisor, progress)
            outcome.team = team.stop()
            if team.errors:
                raise ToolError(f"simulated annotators met {len(team.errors)} error(s), first: {team.errors[0]}")
        outcome.database_url = database
        outcome.snapshot_dir = options.out / "snapshot"
        export_run(settings.kafka_bootstrap, names, outcome.snapshot_dir, options.steps)
        outcome.offline = replay_snapshot(outcome.snapshot_dir, options.loop)
    finally:
        if not options.keep_topics:
            delete_run_topics(settings.kafka_bootstrap, prefix)
        if up.started:
            kafka.down(paths)
            say("Kafka stopped (this run started it)")
    outcome.prefix, outcome.broker_started, outcome.elapsed_s = prefix, up.started, time.monotonic() - begin
    return outcome


@contextlib.contextmanager
def _workers(prefix: str, options: RunOptions, database: str) -> Iterator[Supervisor]:
    args = loop_args(options.loop)
    ports = {} if options.metrics_port is None else {
        role: options.metrics_port + offset for role, offset in METRICS_OFFSETS.items() if role != "api"}
    supervisor = Supervisor(prefix, options.out / "logs", worker_args=args, metrics_ports=ports,
                            env={"SHADOWQA_DATABASE_URL": database})
    try:
        supervisor.start("persist")
        supervisor.start_all()
        yield supervisor
    finally:
        supervisor.stop()


@contextlib.contextmanager
def api_server(prefix: str, database: str, admin_token: str, options: RunOptions) -> Iterator[str]:
    """``shadowqa api serve`` for the run (its topics, its database) until the block ends; yields its base URL."""
    port = 0 if options.metrics_port is None else options.metrics_port + METRICS_OFFSETS["api"]  # 0: any free
    env = {"SHADOWQA_TOPIC_PREFIX": prefix, "SHADOWQA_DATABASE_URL": database, "SHADOWQA_ADMIN_TOKEN": admin_token}
    serve = ["--lease-seconds", str(options.lease_s), "--max-weight", str(options.loop.max_weight)]
    with api_processes(1, env, options.out / "logs", serve, port=port) as (api,):
        yield api.url


def _team(options: RunOptions, prefix: str) -> TeamOptions:
    return TeamOptions(people=max(options.annotators, 2), seed=options.seed, error_model=options.error_model,
                       delay_ms=options.annotator_delay_ms, abandon=options.abandon, skip=options.skip,
                       name_prefix=f"sim-{prefix.rstrip('-')}")


def _database(settings: Settings, options: RunOptions) -> str:
    """The run's database, migrated: the option, else SHADOWQA_DATABASE_URL if set, else a fresh SQLite file; a
    SQLite file named by a relative path is made absolute here (the workers must find the same file)."""
    url = options.database_url or (settings.database_url if "database_url" in settings.model_fields_set else None)
    if url is None:
        options.out.mkdir(parents=True, exist_ok=True)
        path = (options.out / "shadowqa.sqlite3").resolve()
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    url = absolute_database_url(url)
    upgrade(url)
    return url


def absolute_database_url(url: str) -> str:
    """``url`` with a relative SQLite file path made absolute against the working directory; others unchanged."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:") \
            or Path(name).is_absolute():
        return url
    return parsed.set(database=str(Path(name).resolve())).render_as_string(hide_password=False)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def drive(settings: Settings, names: TopicNames, options: RunOptions, supervisor: Supervisor,
          progress: Callable[[str], None] | None = None,
          on_tick: Callable[[Tally, Supervisor], None] | None = None) -> RunOutcome:
    """Feed the frames and follow the topics until the run settles; ``on_tick`` sees the counts each second.
    Raises :class:`RunStalled` when nothing has moved for ``options.stall_s`` (naming the stage that stopped),
    :class:`RunTimedOut` past ``options.timeout_s`` if set."""
    watcher = TopicWatcher(settings.kafka_bootstrap, names).start()
    feed = FeedThread(settings.kafka_bootstrap, names.frames, options.source, options.frames, options.rate).start()
    start = time.monotonic()
    stall = StallWatch()
    timeline: list[tuple[float, Tally]] = []
    try:
        while True:
            time.sleep(1.0)
            supervisor.check()
            feed.check()
            if watcher.error is not None:
                raise watcher.error
            tally = watcher.snapshot()
            timeline.append((time.monotonic() - start, tally))
            if progress is not None:
                progress(tally.line(feed.sent, options.unit))
            if on_tick is not None:
                on_tick(tally, supervisor)
            if feed.done and tally.settled(options.units):
                break
            _give_up_if_stuck(options, tally, feed.sent, stall.still_s(movement(tally, feed.sent)),
                              time.monotonic() - start, supervisor.log_dir)
    finally:
        watcher.stop()
    return RunOutcome("", feed.summary, tally, OfflineResult([], {}), 0.0, False, Path(), timeline)


def _give_up_if_stuck(options: RunOptions, tally: Tally, fed: int, still_s: float, elapsed_s: float,
                      logs: Path) -> None:
    if still_s >= options.stall_s:
        clip_length = None if options.clips is None else options.clip_length
        raise RunStalled(f"{stall_message(tally, fed, options.frames, still_s, clip_length)}; worker logs in {logs}")
    if options.timeout_s is not None and elapsed_s > options.timeout_s:
        raise RunTimedOut(f"the run did not settle within {options.timeout_s:.0f} s: {tally.line(fed, options.unit)}; "
                          f"worker logs in {logs}")


def export_run(bootstrap: str, names: TopicNames, folder: Path, steps: Sequence[str] = ()) -> None:
    """Snapshot every topic of the run into ``folder/<topic>.jsonl`` (``comparisons`` in offset order: the order
    the aggregator counted them in, which the offline recomputation of recommendations follows), the topics of the
    chain's ``steps`` too (``automation-steps.<step>.jsonl``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for base in PER_FRAME + SINGLE + tuple(step_topic(s) for s in steps):
        export_snapshot(bootstrap, names.name(base), folder / f"{base}.jsonl",
                        order="offset" if base == "comparisons" else "time")


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
