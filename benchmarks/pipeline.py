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

import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from kafka import KafkaConsumer  # type: ignore[import-untyped, unused-ignore]
from kafka.structs import TopicPartition  # type: ignore[import-untyped, unused-ignore]

from analysis.policy.automation import AutomationPolicy
from analysis.sampling import RouterState
from benchmarks.harness import DATA, ROOT, machine, write_section
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
ROLES = {"automation": 0, "router": 1, "comparator": 1, "aggregator": 1}


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


def run_pipeline(bootstrap: str, work: list[tuple[bytes, bytes, list[bytes]]], rate: float | None,
                 logs: Path) -> tuple[float, float, list[float], list[tuple[float, int]]]:
    """(start, end, annotation send times, stats points) of one pass through fresh workers and topics.

    ``rate`` None: the input is produced first and the workers started on it; the pass starts when the
    first worker is ready. Otherwise the workers run first and the input is produced at ``rate`` frames/s.
    """
    names = TopicNames(f"bench-{uuid.uuid4().hex[:8]}-")
    create_topics(bootstrap, topic_layout(names, 4, 1.0))
    try:
        sink = KafkaSink(bootstrap)
        sent_at: list[float] = []
        if rate is None:
            _send(sink, names, work, 0.0, sent_at)
        with Supervisor(names.prefix, logs, worker_args=["--no-auto-apply"]) as supervisor:
            watch = StatsWatch(bootstrap, names.agreement_stats)
            supervisor.start_all(ROLES)
            start = min(w.ready_file.stat().st_mtime for w in supervisor.workers)
            if rate is not None:
                start = time.time()
                _send(sink, names, work, rate, sent_at)
            end = watch.wait_for(len(sent_at), timeout_s=600)
            watch.stop()
            sink.close()
            return start, end, sent_at, watch.points
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
    return times[first] - sent


def main(*, quick: bool = False) -> dict[str, float]:
    settings = load_settings()
    paths = kafka.default_paths()
    up = kafka.up(paths, settings.kafka_port, settings.kafka_controller_port, settings.kafka_heap_mb, say=print)
    bootstrap = settings.kafka_bootstrap
    n, seconds = (2000, 4) if quick else (20000, 20)
    logs = DATA / "pipeline-logs"
    try:
        frames = recording()
        work = workload(frames, n)
        messages = len(work) + sum(len(a) for _, _, a in work)
        raw_start, raw_end = run_raw_loop(bootstrap, work)
        raw = n / (raw_end - raw_start)
        print(f"raw kafka-python loop: {raw:,.0f} records/s", flush=True)
        p_start, p_end, sent, _ = run_pipeline(bootstrap, work, None, logs)
        pipe = n / (p_end - p_start)
        print(f"pipeline: {pipe:,.0f} frames/s ({messages:,} input records)", flush=True)
        warm = 500 * WARM_UP_S
        paced = workload(frames, warm + 500 * seconds)
        _, _, sent, points = run_pipeline(bootstrap, paced, 500.0, logs)
        skip = sum(len(a) for _, _, a in paced[:warm])
        lat = latencies(sent, points)[skip:]
        p50, p99 = float(np.percentile(lat, 50)), float(np.percentile(lat, 99))
        print(f"latency at 500 frames/s: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms", flush=True)
    finally:
        if up.started:
            kafka.down(paths)
    body = "\n".join([
        "## Streaming pipeline (`benchmarks/pipeline.py`)", "",
        f"Kafka 4.4.0 (single node, this machine), 4 partitions, one worker process per role (router, comparator, "
        f"aggregator; automation results replayed from a recording of {UNIQUE:,} frames, people answering at once); "
        f"{machine()}." + (" QUICK SMOKE RUN, not a measurement." if quick else ""), "",
        "| measure | value |", "|---|---:|",
        f"| raw kafka-python consume→produce loop over the {n:,} automation results (ceiling) | {raw:,.0f} records/s |",
        f"| pipeline: {n:,} frames ({messages:,} input records) from the first worker ready to the agreement "
        f"stats counting the last comparison | {pipe:,.0f} frames/s |",
        f"| **pipeline / raw loop** | **{pipe / raw:.2f}** |",
        f"| latency, annotation produced → agreement stats counting it, at 500 frames/s for {seconds} s "
        f"(after {WARM_UP_S} s of warm-up): p50 | "
        f"{p50 * 1000:,.0f} ms |",
        f"| the same, p99 | {p99 * 1000:,.0f} ms |",
    ])
    if not quick:  # a quick run never overwrites measurements
        write_section("pipeline", body)
    return {"raw": raw, "pipeline": pipe, "ratio": pipe / raw, "p50": p50, "p99": p99}
