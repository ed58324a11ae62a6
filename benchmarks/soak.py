"""Soak: steady traffic through the whole pipeline for ``--minutes``; does any process grow with the frames it saw?

One fresh set of topics and a fresh PostgreSQL database (``shadowqa_soak``);
the workers as ``shadowqa pipeline run`` starts them (automation with the real
model, router, comparator, aggregator, persist; the demo's loop settings, the
recommender applying its policies); ``shadowqa simulate annotators`` working
the manual queue; ``shadowqa feed`` sending synthetic driving frames at a fixed
rate. Every ``SAMPLE_S`` seconds: each process's resident memory and CPU time
(psutil, with any children), frames answered by the engine (the end offsets of
``automation-results``), and each consumer group's lag (committed offsets
against end offsets; the aggregator reads without a group, so its own lag
gauge). The latency of an annotation, as in ``benchmarks/pipeline.py``, is the
time from its record's timestamp to the first agreement-stats record whose
total count reaches its rank (the delay of the counting curve behind the
production curve). After the warm-up, a least-squares line of RSS against
frames gives each process's growth per 10^5 frames, as a share of its RSS at
the end of the warm-up.

The engine is the real one, not a replay of recorded results: the soak is of
every process a deployment runs, the engine's included, and the engine's CPU
inference sets the rate. ``RATE`` is what it kept up with in trials on this
machine's two cores while other work shared them (about 25 ms of CPU per frame;
20 frames/s fell behind, 12 did not): fewer frames than a replay would push,
so growth per 10^5 frames is extrapolated from the run's frames.

``python -m benchmarks soak [--quick]`` (30 min; quick: 3 min, nothing written);
``python -m benchmarks.soak --minutes M --rate R [--no-write]``;
``python -m benchmarks.soak_report`` redoes the numbers and the plot from the samples.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
import psutil  # type: ignore[import-untyped, unused-ignore]
import psycopg
from kafka import KafkaConsumer  # type: ignore[import-untyped, unused-ignore]
from kafka.structs import TopicPartition  # type: ignore[import-untyped, unused-ignore]

from benchmarks.harness import DATA, ROOT, machine
from benchmarks.services import worker_metric
from services.db.engine import upgrade
from services.infra import postgres
from services.infra.client import admin_client, free_port
from services.infra.topic_names import TopicNames
from services.infra.topics import create_topics, topic_layout
from services.loop.config import LoopConfig
from services.loop.messages import AgreementStats, decode
from services.settings import load_settings
from services.tools.annotator_process import annotators
from services.tools.pipeline_run import RunOptions, delete_run_topics
from services.tools.supervisor import Supervisor, python_env
from services.tools.worker_args import loop_args

SAMPLE_S = 10.0
RATE = 12.0  # frames/s fed: what the real engine sustained in trials on this machine's two cores, shared (module doc)
WARM_UP_S = 300.0  # 5 min (quick: a third of the run): start-up, imports, caches and the first policies
TARGET_PCT = 5.0  # growth per 10^5 frames the issue allows
SEED = 23
DATABASE = "shadowqa_soak"
WORKERS = ("automation", "router", "comparator", "aggregator", "persist")
SAMPLES = DATA / "soak-samples.json"


@dataclass
class Sample:
    t: float  # seconds since the feed started
    wall: float  # time.time() then
    frames: int  # automation results produced
    fed: int
    rss_mb: dict[str, float]
    cpu_s: dict[str, float]
    lag: dict[str, int]  # role (group) -> records behind
    gauges: dict[str, float]  # the aggregator's dedup keys and recommended automation rate
    feeding: bool  # the feeder was still sending (the steady phase the growth fit uses)


@dataclass
class Follower:
    """Reads manual-annotations and agreement-stats from the beginning: the latency's two curves."""

    bootstrap: str
    names: TopicNames
    annotated: dict[tuple[str, int], float] = field(default_factory=dict)  # (frame, copy) -> first timestamp
    points: list[tuple[float, int]] = field(default_factory=list)  # stats record timestamp, total counted
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Follower:
        threading.Thread(target=self._run, name="soak-follower", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                 auto_offset_reset="earliest")
        stats, manual = self.names.agreement_stats, self.names.manual_annotations
        tps = [TopicPartition(t, p) for t in (stats, manual) for p in sorted(consumer.partitions_for_topic(t) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        latest: dict[str, int] = {}
        while not self._stop.is_set():
            for tp, records in consumer.poll(timeout_ms=200, max_records=5000).items():
                for r in records:
                    if tp.topic == manual:
                        doc = orjson.loads(r.value)
                        self.annotated.setdefault((doc["frame_id"], doc["copy"]), r.timestamp / 1000.0)
                    else:
                        s = decode(AgreementStats, r.value)
                        latest[s.stratum] = s.n + (s.human_floor.n if s.human_floor else 0)
                        self.points.append((r.timestamp / 1000.0, sum(latest.values())))
        consumer.close()

    def counted(self) -> int:
        return max((c for _, c in self.points), default=0)


class Probe:
    """Frames answered and lag per group, from the broker; the aggregator's lag from its gauge."""

    def __init__(self, bootstrap: str, names: TopicNames, aggregator_port: int) -> None:
        self.names, self.port = names, aggregator_port
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        self.admin_cm = admin_client(bootstrap)
        self.admin = self.admin_cm.__enter__()

    def ends(self, topics: list[str]) -> dict[Any, int]:
        tps = [TopicPartition(t, p) for t in topics for p in sorted(self.consumer.partitions_for_topic(t) or ())]
        return dict(self.consumer.end_offsets(tps))

    def frames(self) -> tuple[int, int]:
        ends = self.ends([self.names.automation_results, self.names.frames])
        return (sum(v for tp, v in ends.items() if tp.topic == self.names.automation_results),
                sum(v for tp, v in ends.items() if tp.topic == self.names.frames))

    def lag(self) -> dict[str, int]:
        prefix = self.names.prefix
        out: dict[str, int] = {}
        for g in sorted(g["group_id"] for g in self.admin.list_groups() if g["group_id"].startswith(prefix)):
            committed = self.admin.list_group_offsets(g).get(g, {})
            ends = self.ends(sorted({tp.topic for tp in committed}))
            out[g.removeprefix(prefix).removeprefix("shadowqa-")] = sum(
                max(0, ends.get(tp, 0) - meta.offset) for tp, meta in committed.items() if meta.offset >= 0)
        out["aggregator"] = int(worker_metric(self.port, "shadowqa_consumer_lag"))
        return out

    def gauges(self) -> dict[str, float]:
        return {"dedup_keys": worker_metric(self.port, "shadowqa_aggregator_dedup_keys"),
                "automation_rate": worker_metric(self.port, "shadowqa_automation_rate_recommended")}

    def close(self) -> None:
        self.consumer.close()
        self.admin_cm.__exit__(None, None, None)


def _tree() -> str:
    """The commit measured and the files that differed from it when the run started (others may edit meanwhile)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    changed = [line[3:] for line in git("status", "--porcelain").splitlines()]
    return f"{git('rev-parse', '--short', 'HEAD')} + {len(changed)} changed/new paths: {', '.join(changed)}"


def _runtime(automation: psutil.Process) -> str:
    """Which runtime the automation worker runs its model under, from the libraries it has mapped."""
    time.sleep(5)  # the worker is ready before its first batch loads the model
    return "ONNX Runtime" if any("onnxruntime" in m.path for m in automation.memory_maps()) else "torch"


def _usage(processes: Mapping[str, psutil.Process]) -> tuple[dict[str, float], dict[str, float]]:
    """RSS in MB and CPU seconds (user + system) of each process with its children."""
    rss, cpu = {}, {}
    for name, p in processes.items():
        family = [p, *p.children(recursive=True)]
        rss[name] = sum(q.memory_info().rss for q in family) / 2**20
        cpu[name] = sum(q.cpu_times().user + q.cpu_times().system for q in family)
    return rss, cpu


def fresh_database(port: int) -> str:
    """A new, migrated ``shadowqa_soak`` database on the project's PostgreSQL (dropped first if it exists)."""
    conninfo = postgres.database_url(port).replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    url = postgres.database_url(port, DATABASE)
    upgrade(url)
    return url


@contextlib.contextmanager
def feeder(prefix: str, logs: Path, frames: int, rate: float) -> Iterator[subprocess.Popen[bytes]]:
    argv = [sys.executable, "-m", "services.cli.main", "feed", "--source", f"synthetic://driving?seed={SEED}&n={frames}",
            "--rate", str(rate)]
    with (logs / "feed.log").open("ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   env=python_env({"SHADOWQA_TOPIC_PREFIX": prefix}))
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait()


def soak(minutes: float, rate: float) -> tuple[list[Sample], Follower, dict[str, Any]]:
    settings = load_settings()
    tree = _tree()
    bootstrap, names = settings.kafka_bootstrap, TopicNames(f"soak-{uuid.uuid4().hex[:8]}-")
    logs = (DATA / "soak-logs").resolve()
    logs.mkdir(parents=True, exist_ok=True)
    database = fresh_database(settings.postgres_port)
    frames = int(minutes * 60 * rate)
    ports = {role: free_port() for role in WORKERS}
    loop = LoopConfig()
    create_topics(bootstrap, topic_layout(names, settings.partitions, settings.retention_hours))
    samples: list[Sample] = []
    follower = Follower(bootstrap, names).start()
    try:
        with Supervisor(names.prefix, logs, worker_args=loop_args(loop), metrics_ports=ports,
                        env={"SHADOWQA_DATABASE_URL": database}) as supervisor:
            supervisor.start("persist")
            supervisor.start_all()
            options = RunOptions(annotators=8, annotator_delay_ms=20.0, seed=SEED)
            with annotators(names.prefix, logs, options) as people, feeder(names.prefix, logs, frames, rate) as feed:
                processes = {w.role: psutil.Process(w.process.pid) for w in supervisor.workers}
                processes |= {"annotators": psutil.Process(people.pid), "feeder": psutil.Process(feed.pid)}
                engine = _runtime(processes["automation"])
                probe = Probe(bootstrap, names, ports["aggregator"])
                try:
                    _sample_until_fed(samples, processes, probe, supervisor, feed, frames)
                    _drain(follower, samples, processes, probe, supervisor)
                finally:
                    probe.close()
    finally:
        follower.stop()
        delete_run_topics(bootstrap, names.prefix)
    meta = {"tree": tree, "engine": engine, "prefix": names.prefix, "frames": frames, "rate": rate, "minutes": minutes,
            "loop": loop.to_dict(),
            "database": postgres.database_url(settings.postgres_port, DATABASE).split("@")[-1]}
    return samples, follower, meta


def _sample(samples: list[Sample], start: float, processes: Mapping[str, psutil.Process], probe: Probe,
            feeding: bool) -> Sample:
    live = {name: p for name, p in processes.items() if p.is_running() and p.status() != psutil.STATUS_ZOMBIE}
    rss, cpu = _usage(live)
    done, fed = probe.frames()
    s = Sample(time.monotonic() - start, time.time(), done, fed, rss, cpu, probe.lag(), probe.gauges(), feeding)
    samples.append(s)
    lag = ", ".join(f"{g} {v:,}" for g, v in s.lag.items())
    print(f"  {s.t / 60:5.1f} min: {fed:,} fed, {done:,} answered; RSS MB "
          + ", ".join(f"{k} {v:.0f}" for k, v in rss.items()) + f"; lag {lag}", flush=True)
    return s


def _sample_until_fed(samples: list[Sample], processes: Mapping[str, psutil.Process], probe: Probe,
                      supervisor: Supervisor, feed: subprocess.Popen[bytes], frames: int) -> None:
    start = time.monotonic()
    while True:
        supervisor.check()
        s = _sample(samples, start, processes, probe, feed.poll() is None)
        if not s.feeding:
            if feed.returncode != 0 or s.fed < frames:
                raise RuntimeError(f"the feeder exited with status {feed.returncode} after {s.fed:,} frames")
            return
        time.sleep(max(0.0, start + len(samples) * SAMPLE_S - time.monotonic()))


def _drain(follower: Follower, samples: list[Sample], processes: Mapping[str, psutil.Process], probe: Probe,
           supervisor: Supervisor, timeout_s: float = 180.0) -> None:
    """Wait (sampling on) until the engine answered every frame fed and the stats count every annotation made,
    or ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    start = time.monotonic() - samples[-1].t
    while time.monotonic() < deadline and (samples[-1].frames < samples[-1].fed
                                           or follower.counted() < len(follower.annotated)):
        time.sleep(SAMPLE_S)
        supervisor.check()
        _sample(samples, start, processes, probe, False)


def main(*, quick: bool = False) -> None:
    run(3.0 if quick else 30.0, RATE, write=not quick)


def run(minutes: float, rate: float, *, write: bool) -> None:
    from benchmarks.soak_report import report

    samples, follower, meta = soak(minutes, rate)
    meta["machine"] = machine()
    DATA.mkdir(parents=True, exist_ok=True)
    SAMPLES.write_bytes(orjson.dumps({"meta": meta, "samples": [asdict(s) for s in samples],
                                      "annotated": sorted(follower.annotated.values()), "points": follower.points},
                                     option=orjson.OPT_SERIALIZE_NUMPY))
    warm_up = WARM_UP_S if minutes >= 15 else minutes * 20.0
    print(report(SAMPLES, warm_up, write=write))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak")
    parser.add_argument("--minutes", type=float, default=30.0, help="minutes of traffic (default 30)")
    parser.add_argument("--rate", type=float, default=RATE, help=f"frames per second fed (default {RATE:g})")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite the BENCHMARKS.md section")
    args = parser.parse_args()
    run(args.minutes, args.rate, write=not args.no_write)
