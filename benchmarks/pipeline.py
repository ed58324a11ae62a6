"""The streaming pipeline against the ceiling of this machine, on the project's broker, in one run.

Throughput: automation results replayed from a recording (no model cost) and
their manual annotations (people answering at once) are put in the topics
first; then the router, comparator and aggregator workers (``shadowqa worker``
processes) start on them; frames per second from the moment the first worker
is ready (the others may still be starting: this counts against the pipeline)
to the agreement stats counting the last comparison. The ceiling: a raw
kafka-python consume→produce loop (``benchmarks/raw_loop.py``) over the same
automation results, also already in the topic, from its first record in to
its last record out acknowledged.

Latency: the same records paced at 500 frames/s, each frame's annotations
produced right after its automation result, for 2 s of warm-up (not counted:
the first batches load state and warm caches) and then the measured seconds.
The j-th annotation's latency is
the time from its production to the first agreement-stats record whose total
count reaches j (the delay of the counting curve behind the production curve:
exactly the per-annotation latency if the pipeline were FIFO).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from kafka import KafkaConsumer  # type: ignore[import-untyped, unused-ignore]
from kafka.structs import TopicPartition  # type: ignore[import-untyped, unused-ignore]
from sqlalchemy import create_engine, text

from analysis.policy.automation import AutomationPolicy
from analysis.sampling import RouterState
from benchmarks.harness import DATA, ROOT, write_section
from benchmarks.pipeline_report import BASELINE, Round, Setup, median, section
from benchmarks.services import fresh_database as fresh_postgres_database
from benchmarks.worker_cpu import CpuMeter, Profile, profiling, py_spy
from services.db.engine import upgrade
from services.infra import kafka
from services.infra.topic_names import TopicNames
from services.infra.topics import TopicSpec, create_topics, topic_layout
from services.loop.build import build_router
from services.loop.config import LoopConfig
from services.loop.messages import AgreementStats, AutomationMessage, FrameMessage, ManualAnnotation, decode, encode
from services.loop.routing import route
from services.settings import load_settings
from services.tools.annotators import annotate_task, error_model
from services.tools.kafka import KafkaSink
from services.tools.pipeline_run import delete_run_topics
from services.tools.supervisor import Supervisor

UNIQUE = 1000  # frames run through the engine once for the recording
RECORDING = DATA / f"pipeline-recording-{UNIQUE}.jsonl"
WARM_UP_S = 2
RATES = (500.0, 1000.0)  # frames/s of the paced (latency) passes
LOOP_MEASURED = ("router", "comparator", "aggregator")
MEASURED = (*LOOP_MEASURED, "persist")  # one worker each; no automation worker (results are replayed)
PROFILES = ROOT / "benchmarks" / "profiles"


@dataclass(frozen=True)
class Frame:
    automation: dict[str, Any]
    annotations: dict[int, dict[str, Any]]  # copy -> annotation document (fields echoed from the task are redone)


def recording() -> list[Frame]:
    """Engine output and simulated people's annotations (both copies) for UNIQUE frames, cached on disk."""
    if not RECORDING.exists():
        _record()
    return [Frame(d["automation"], {int(k): v for k, v in d["annotations"].items()})
            for d in map(orjson.loads, RECORDING.read_bytes().splitlines())]


def _record() -> None:
    from services.engine.annotate import annotate
    from services.engine.loading import load_runner

    runner = load_runner("builtin:driving-detector")
    frames = [FrameMessage(frame_id=f"driving-s41-{i:06d}", seq=i + 1, image=f"synthetic://driving?seed=41#{i}",
                           time=time.time(), meta={}) for i in range(UNIQUE)]
    people = error_model("default")
    lines = []
    for start in range(0, UNIQUE, 32):
        for m in annotate(runner, frames[start:start + 32]):
            _, tasks, _ = route(build_router(LoopConfig(consensus_share=1.0), AutomationPolicy()), RouterState(),
                                m, time.time())
            copies = {t.copy_: annotate_task(t, seed=0, model=people, people=8, now=time.time()) for t in tasks}
            lines.append(orjson.dumps({"automation": orjson.loads(encode(m)),
                                       "annotations": {str(k): orjson.loads(encode(a)) for k, a in copies.items()}}))
    DATA.mkdir(parents=True, exist_ok=True)
    RECORDING.write_bytes(b"\n".join(lines) + b"\n")


def workload(frames: list[Frame], n: int) -> list[tuple[bytes, bytes, list[bytes]]]:
    """n frames (the recording repeated under new ids): (key, automation result, annotations as routed)."""
    router, state = build_router(LoopConfig(), AutomationPolicy()), RouterState()
    out = []
    for i in range(n):
        base = frames[i % len(frames)]
        frame_id, seq = f"bench-{i:07d}", i + 1
        auto = AutomationMessage.model_validate({**base.automation, "frame_id": frame_id, "seq": seq})
        state, tasks, _ = route(router, state, auto, time.time())
        annotations = []
        for t in tasks:
            doc = {**base.annotations[t.copy_], "task_id": t.task_id, "frame_id": frame_id, "seq": seq,
                   "inclusion_prob": t.inclusion_prob, "consensus_prob": t.consensus_prob,
                   "policy_version": t.policy_version, "copies": t.copies, "stratum": t.stratum}
            annotations.append(encode(ManualAnnotation.model_validate(doc)))
        out.append((frame_id.encode(), encode(auto), annotations))
    return out


class StatsWatch:
    """Follows agreement-stats: (record timestamp in s, total comparisons counted) per record."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.points: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        tp = TopicPartition(topic, 0)
        self._consumer.assign([tp])
        self._consumer.seek_to_beginning(tp)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        latest: dict[str, int] = {}
        while not self._stop.is_set():
            for records in self._consumer.poll(timeout_ms=100).values():
                for r in records:
                    s = decode(AgreementStats, r.value)
                    latest[s.stratum] = s.n + (s.human_floor.n if s.human_floor else 0)
                    self.points.append((r.timestamp / 1000.0, sum(latest.values())))

    def wait_for(self, total: int, timeout_s: float) -> float:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.points and self.points[-1][1] >= total:
                return self.points[-1][0]
            time.sleep(0.05)
        raise TimeoutError(f"agreement stats reached {self.points[-1][1] if self.points else 0} of {total}")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._consumer.close()


def _send(sink: KafkaSink, names: TopicNames, work: list[tuple[bytes, bytes, list[bytes]]], rate: float,
          sent_at: list[float]) -> None:
    start = time.time()
    for i, (key, auto, manual) in enumerate(work):
        if rate > 0:
            wait = start + i / rate - time.time()
            if wait > 0:
                time.sleep(wait)
        sink.send(names.automation_results, key, auto)
        for a in manual:
            sink.send(names.manual_annotations, key, a)
            sent_at.append(time.time())
    sink.flush()


@dataclass
class Pass:
    """One pass through fresh workers and topics: its start and end (s), the annotations' send times, the stats
    records seen, CPU seconds per worker while it ran, and when the database held every comparison."""

    start: float
    end: float
    sent_at: list[float]
    points: list[tuple[float, int]]
    cpu: dict[str, float]
    persisted_at: float


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A fresh, migrated database for the persist worker: a new PostgreSQL database on the server
    ``SHADOWQA_TEST_DATABASE_URL`` names (dropped after), else a new SQLite file."""
    server = os.environ.get("SHADOWQA_TEST_DATABASE_URL")
    if not server:
        path = DATA / f"pipeline-{uuid.uuid4().hex[:8]}.sqlite3"
        upgrade(f"sqlite:///{path}")
        try:
            yield f"sqlite:///{path}"
        finally:
            path.unlink(missing_ok=True)
        return
    with fresh_postgres_database(server) as url:
        yield url


def _start(supervisor: Supervisor, meter: CpuMeter, timeout_s: float = 120.0) -> float:
    """Start one worker per measured role; each one's CPU meter begins when it is ready. The first ready time."""
    workers = [supervisor.start(role) for role in MEASURED]
    deadline, first = time.monotonic() + timeout_s, float("inf")
    waiting = list(workers)
    while waiting:
        for w in list(waiting):
            if w.ready_file.exists():
                meter.begin(w.role, w.process.pid)
                first = min(first, w.ready_file.stat().st_mtime)
                waiting.remove(w)
        if time.monotonic() > deadline:
            supervisor.wait_ready(0)  # raises, naming the workers not ready
        supervisor.check()
        time.sleep(0.02)
    return first


def _wait_persisted(url: str, comparisons: int, timeout_s: float) -> float:
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with engine.connect() as c:
                if c.execute(text("SELECT count(*) FROM comparisons")).scalar_one() >= comparisons:
                    return time.time()
            time.sleep(0.1)
        raise TimeoutError(f"persist did not write {comparisons} comparisons in {timeout_s:.0f} s")
    finally:
        engine.dispose()


def run_pipeline(bootstrap: str, work: list[tuple[bytes, bytes, list[bytes]]], rate: float | None,
                 logs: Path, profile_to: Path | None = None) -> Pass:
    """One pass through fresh workers (router, comparator, aggregator, persist), topics and database.

    ``rate`` None: the input is produced first and the workers started on it; the pass starts when the
    first worker is ready. Otherwise the workers run first and the input is produced at ``rate`` frames/s.
    ``profile_to``: py-spy profiles of every worker into that folder.
    """
    names = TopicNames(f"bench-{uuid.uuid4().hex[:8]}-")
    create_topics(bootstrap, topic_layout(names, 4, 1.0))
    try:
        with fresh_database() as url:
            sink = KafkaSink(bootstrap)
            sent_at: list[float] = []
            if rate is None:
                _send(sink, names, work, 0.0, sent_at)
            meter = CpuMeter()
            with Supervisor(names.prefix, logs, worker_args=["--no-auto-apply"],
                            env={"SHADOWQA_DATABASE_URL": url}) as supervisor, \
                    contextlib.ExitStack() as stack:
                watch = StatsWatch(bootstrap, names.agreement_stats)
                start = _start(supervisor, meter)
                if profile_to is not None:
                    stack.enter_context(profiling(dict(meter.pids), profile_to))
                if rate is not None:
                    start = time.time()
                    _send(sink, names, work, rate, sent_at)
                end = watch.wait_for(len(sent_at), timeout_s=600)
                for role in LOOP_MEASURED:
                    meter.end(role)
                persisted_at = _wait_persisted(url, len(sent_at), timeout_s=600)
                meter.end("persist")
                watch.stop()
                sink.close()
            return Pass(start, end, sent_at, watch.points, meter.spent, persisted_at)
    finally:
        delete_run_topics(bootstrap, names.prefix)


def run_raw_loop(bootstrap: str, work: list[tuple[bytes, bytes, list[bytes]]]) -> tuple[float, float]:
    """(first record in, last record out acknowledged) of the raw loop over the already produced results."""
    names = TopicNames(f"bench-{uuid.uuid4().hex[:8]}-")
    source, sink_topic = names.automation_results, f"{names.prefix}raw-out"
    hour = 3_600_000
    create_topics(bootstrap, [TopicSpec(source, 4, "delete", hour), TopicSpec(sink_topic, 4, "delete", hour)])
    try:
        sink = KafkaSink(bootstrap)
        for key, auto, _ in work:
            sink.send(source, key, auto)
        sink.flush()
        sink.close()
        done = subprocess.run([sys.executable, "-m", "benchmarks.raw_loop", bootstrap, source, sink_topic,
                               str(len(work))], capture_output=True, text=True, cwd=ROOT, check=True, timeout=600)
        first, last = map(float, done.stdout.split())
        return first, last
    finally:
        delete_run_topics(bootstrap, names.prefix)


def latencies(sent_at: list[float], points: list[tuple[float, int]]) -> np.ndarray:
    times = np.array([t for t, _ in points])
    counts = np.maximum.accumulate(np.array([c for _, c in points]))
    sent = np.sort(np.array(sent_at))
    first = np.searchsorted(counts, np.arange(1, len(sent) + 1), side="left")  # first point counting >= j
    out: np.ndarray = times[first] - sent
    return out


def one_pass(bootstrap: str, frames: list[tuple[bytes, bytes, list[bytes]]], rate: float | None,
             logs: Path) -> dict[str, Any]:
    """One pass as plain data: frames/s (throughput) or p50/p99 s (paced), persist's frames/s, CPU ms/frame."""
    run = run_pipeline(bootstrap, frames, rate, logs)
    n = len(frames)
    doc: dict[str, Any] = {"cpu_ms": {role: 1000 * s / n for role, s in run.cpu.items()},
                           "persist": n / (run.persisted_at - run.start)}
    if rate is None:
        doc["fps"] = n / (run.end - run.start)
    else:
        skip = sum(len(a) for _, _, a in frames[:int(rate * WARM_UP_S)])
        lat = latencies(run.sent_at, run.points)[skip:]
        doc["p50"], doc["p99"] = float(np.percentile(lat, 50)), float(np.percentile(lat, 99))
    return doc


def one_round(bootstrap: str, work: list[tuple[bytes, bytes, list[bytes]]],
              paced: dict[float, list[tuple[bytes, bytes, list[bytes]]]], logs: Path,
              baseline: Path | None = None) -> Round:
    n = len(work)
    raw_start, raw_end = run_raw_loop(bootstrap, work)
    raw = n / (raw_end - raw_start)
    print(f"raw kafka-python loop: {raw:,.0f} records/s", flush=True)
    before: dict[str, Any] | None = None
    if baseline is not None:
        before = {"throughput": _baseline_pass(baseline, None, n)}
        print(f"baseline: {before['throughput']}", flush=True)
    run = one_pass(bootstrap, work, None, logs)
    print(f"pipeline: {run['fps']:,.0f} frames/s, persisted {run['persist']:,.0f} frames/s; CPU ms/frame "
          + ", ".join(f"{r} {v:.2f}" for r, v in run["cpu_ms"].items()), flush=True)
    out: dict[float, tuple[float, float, dict[str, float]]] = {}
    for rate, frames in paced.items():
        if baseline is not None and before is not None and rate == max(paced):
            before["paced"] = _baseline_pass(baseline, rate, len(frames))
            print(f"baseline at {rate:,.0f} frames/s: {before['paced']}", flush=True)
        p = one_pass(bootstrap, frames, rate, logs)
        out[rate] = (p["p50"], p["p99"], p["cpu_ms"])
        print(f"latency at {rate:,.0f} frames/s: p50 {p['p50'] * 1000:.0f} ms, p99 {p['p99'] * 1000:.0f} ms; CPU "
              "ms/frame " + ", ".join(f"{r} {v:.2f}" for r, v in p["cpu_ms"].items()), flush=True)
    return Round(raw, run["fps"], run["persist"], run["cpu_ms"], out, before)


def _baseline_pass(tree: Path, rate: float | None, n: int) -> dict[str, Any]:
    """``one_pass`` run by the benchmark of another source tree (its workers run its code)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, "-m", "benchmarks.pipeline", "pass", str(rate or 0), str(n), out.name],
                       cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, check=True, timeout=900,
                       stdout=subprocess.DEVNULL)
        doc: dict[str, Any] = orjson.loads(Path(out.name).read_bytes())
        return doc


def profile(bootstrap: str, work: list[tuple[bytes, bytes, list[bytes]]], logs: Path) -> dict[str, Profile]:
    """A throughput pass with every worker under py-spy; each worker's profile, its text under PROFILES."""
    with tempfile.TemporaryDirectory() as tmp:
        run_pipeline(bootstrap, work, None, logs, profile_to=Path(tmp))
        profiles = {role: Profile.read((Path(tmp) / f"{role}.collapsed").read_text()) for role in MEASURED}
        (DATA / "profiles").mkdir(parents=True, exist_ok=True)
        for role in MEASURED:  # the raw stacks, for a closer look (not kept in the repository)
            shutil.copy(Path(tmp) / f"{role}.collapsed", DATA / "profiles" / f"pipeline-{role}.collapsed")
    PROFILES.mkdir(parents=True, exist_ok=True)
    for role, p in profiles.items():
        (PROFILES / f"pipeline-{role}.txt").write_text(p.text())
    return profiles


def main(*, quick: bool = False, rounds: int = 3) -> dict[str, float]:
    settings = load_settings()
    paths = kafka.default_paths()
    up = kafka.up(paths, settings.kafka_port, settings.kafka_controller_port, settings.kafka_heap_mb, say=print)
    bootstrap = settings.kafka_bootstrap
    n, seconds, rounds = (2000, 4, 1) if quick else (20000, 20, rounds)
    logs = DATA / "pipeline-logs"
    try:
        frames = recording()
        work = workload(frames, n)
        paced = {rate: workload(frames, int(rate * (WARM_UP_S + seconds))) for rate in RATES}
        base = os.environ.get(BASELINE)
        measured = [one_round(bootstrap, work, paced, logs, Path(base) if base else None) for _ in range(rounds)]
        profiles = profile(bootstrap, work, logs) if py_spy() else {}
    finally:
        if up.started:
            kafka.down(paths)
    messages = len(work) + sum(len(a) for _, _, a in work)
    body = section(measured, profiles, Setup(n, messages, seconds, WARM_UP_S, UNIQUE), quick=quick)
    if not quick:  # a quick run never overwrites measurements
        write_section("pipeline", body)
    else:
        print(body)
    return {"raw": median(m.raw for m in measured), "pipeline": median(m.pipe for m in measured),
            "ratio": median(m.pipe / m.raw for m in measured),
            **{f"p99@{r:.0f}": median(m.paced[r][1] for m in measured) for r in RATES}}


def _pass_main(argv: list[str]) -> None:
    """``python -m benchmarks.pipeline pass RATE N OUT``: one pass (RATE 0: throughput) of N frames into OUT."""
    rate, n, out = float(argv[0]) or None, int(argv[1]), Path(argv[2])
    bootstrap = load_settings().kafka_bootstrap
    out.write_bytes(orjson.dumps(one_pass(bootstrap, workload(recording(), n), rate, DATA / "pipeline-logs")))


if __name__ == "__main__":
    if sys.argv[1:2] == ["pass"]:
        _pass_main(sys.argv[2:])
