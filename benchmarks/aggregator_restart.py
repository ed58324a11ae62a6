"""The aggregator's restart: time and memory to reach its stats again, against the number of comparisons behind it.

For each size N a fresh set of topics (a unique prefix) gets N comparisons
(distinct frames, ten strata, one consensus pair in ten, 10 per second of
comparison time) produced straight into ``comparisons``. A first
``shadowqa worker --role aggregator`` process counts them all and is stopped
once its checkpoint covers the last one (``--checkpoint-interval 1``); a second
one, the restart, is timed from its start to the moment its published stats
count every machine comparison (the sum of ``shadowqa_acceptance_n``: its stats
as they stood before), with its resident memory (VmRSS) then and its peak
(VmHWM). The baseline measured in the same run: a bare kafka-python consumer
reading the same N records (the cost of touching the history at all). A
restart whose cost does not grow with history shows time and memory ratios near
1 between the sizes; one that re-reads the topic grows like N (the section
"aggregator-restart-before", measured before checkpoints).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson
from kafka import KafkaConsumer, KafkaProducer  # type: ignore[import-untyped, unused-ignore]

from benchmarks.harness import ROOT, machine, write_section
from benchmarks.services import worker_metric
from services.loop.messages import ComparisonMessage, decode, encode
from services.settings import load_settings
from services.tools.pipeline_run import delete_run_topics

STRATA = tuple(f"s{k}" for k in range(10))
RATE = 10.0  # comparisons per second of comparison time: a team of a few hundred people, each a frame a minute
PROGRESS_EVERY_S = 10.0
RESTARTS = 3  # restarts timed per size; the median is reported
STALL_S = 300.0  # no progress in the count for this long: the worker is stuck, not slow


@dataclass(frozen=True)
class Restart:
    comparisons: int
    produce_s: float
    raw_read_s: float
    first_s: float  # a first start counting all N and checkpointing them
    first_peak_mb: float
    restart_s: float
    rss_mb: float
    peak_mb: float


def _record(i: int) -> bytes:
    consensus = i % 10 == 9
    message = ComparisonMessage(
        frame_id=f"f{i - 1 if consensus else i:09d}",  # a consensus pair is of the machine frame before it
        kind="consensus" if consensus else "machine", accepted=(i * 7919) % 100 < 85,
        inclusion_prob=1.0 if i % 3 else 0.25, stratum=STRATA[i % len(STRATA)],
        confidence=None if consensus else (i % 997) / 997, model_version="people" if consensus else "m1",
        time=1_700_000_000.0 + i / RATE, tp=3, fp=0, fn=1, mean_iou=0.8, policy_version=1,
    )
    return encode(message)


def _produce(bootstrap: str, topic: str, n: int) -> float:
    start = time.perf_counter()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, batch_size=512 * 1024, acks=1)
    for i in range(n):
        value = _record(i)
        producer.send(topic, key=orjson.loads(value)["frame_id"].encode(), value=value)
        if i % 100_000 == 0:
            print(f"  produced {i:,}/{n:,}", flush=True)
    producer.flush()
    producer.close()
    return time.perf_counter() - start


def _raw_read(bootstrap: str, topic: str, n: int) -> float:
    start = time.perf_counter()
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None,
                             enable_auto_commit=False, max_poll_records=5000, fetch_max_bytes=50 * 1024 * 1024)
    seen = 0
    while seen < n:
        for records in consumer.poll(timeout_ms=1000).values():
            seen += len(records)
    consumer.close()
    return time.perf_counter() - start


def _memory_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _aggregator(prefix: str, until: str, target: float, what: str) -> tuple[float, float, float]:
    """Start an aggregator, time it until its metric ``until`` reaches ``target``; its RSS and peak then."""
    port = _free_port()
    env = {**os.environ, "SHADOWQA_TOPIC_PREFIX": prefix}
    argv = [sys.executable, "-m", "services.cli.main", "worker", "--role", "aggregator", "--metrics-port", str(port),
            "--checkpoint-interval", "1"]
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        last, last_change, last_print = -1.0, time.monotonic(), 0.0
        while (value := worker_metric(port, until)) < target:
            progress = value + worker_metric(port, "shadowqa_comparisons_counted_total")
            if process.poll() is not None:
                raise RuntimeError(f"the aggregator exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            now = time.monotonic()
            if progress != last:
                last, last_change = progress, now
            elif now - last_change > STALL_S:
                raise RuntimeError(f"the aggregator made no progress for {STALL_S:.0f} s ({what}: {value:,.0f})")
            if now - last_print > PROGRESS_EVERY_S:
                print(f"  {what}: {max(value, 0):,.0f}/{target:,.0f}", flush=True)
                last_print = now
            time.sleep(0.2)
        elapsed = time.perf_counter() - start
        rss, peak = _memory_mb(process.pid)
        return elapsed, rss, peak
    finally:
        process.terminate()
        process.wait()


def measure(n: int) -> Restart:
    settings = load_settings()
    prefix = f"bench-restart-{uuid.uuid4().hex[:8]}-"
    subprocess.run([sys.executable, "-m", "services.cli.main", "infra", "topics", "create"], cwd=ROOT, check=True,
                   env={**os.environ, "SHADOWQA_TOPIC_PREFIX": prefix}, stdout=subprocess.DEVNULL)
    topic = f"{prefix}comparisons"
    try:
        assert decode(ComparisonMessage, _record(9)).kind == "consensus"
        produce_s = _produce(settings.kafka_bootstrap, topic, n)
        raw_s = _raw_read(settings.kafka_bootstrap, topic, n)
        first_s, _, first_peak = _aggregator(prefix, "shadowqa_aggregator_checkpoint_offset", n,
                                             "first start, checkpointed offset")
        machine = sum(1 for i in range(n) if i % 10 != 9)
        restarts = sorted(_aggregator(prefix, "shadowqa_acceptance_n", machine, "restart, stats' n")
                          for _ in range(RESTARTS))
        restart_s, rss, peak = restarts[len(restarts) // 2]  # the median restart
    finally:
        delete_run_topics(settings.kafka_bootstrap, prefix)
    return Restart(n, produce_s, raw_s, first_s, first_peak, restart_s, rss, peak)


def main(quick: bool = False) -> None:
    sizes = (10_000, 100_000) if quick else (100_000, 1_000_000)
    runs = []
    for n in sizes:
        print(f"  {n:,} comparisons", flush=True)
        runs.append(measure(n))
    small, large = runs
    rows = "\n".join(f"| {r.comparisons:,} | {r.raw_read_s:.1f} | {r.first_s:.1f} | {r.first_peak_mb:.0f} "
                     f"| {r.restart_s:.1f} | {r.restart_s / r.raw_read_s:.2f} | {r.rss_mb:.0f} | {r.peak_mb:.0f} |"
                     for r in runs)
    body = f"""## Aggregator restart against history length (`benchmarks/aggregator_restart.py`)

A first aggregator counts N comparisons (10 per second of comparison time: the dedup window holds the last
pending TTL + 1 h = 2 h of keys, 72,000 at this rate) and checkpoints them; a second one, the restart, is timed
from its start until its published stats count all N again (restored from the checkpoint, no tail), with its
memory then (RSS) and at its peak; the median of {RESTARTS} restarts. A restart's time is mostly the worker's own
start-up (Python, faust, Kafka clients). Baseline: a bare kafka-python consumer reading the same records. {machine()}.

| N | raw read s | first start s | its peak MB | restart s | restart / raw read | restart RSS MB | restart peak MB |
|---:|---:|---:|---:|---:|---:|---:|---:|
{rows}

| growth from {small.comparisons:,} to {large.comparisons:,} comparisons | × |
|---|---:|
| restart time | {large.restart_s / small.restart_s:.2f} |
| restart peak memory | {large.peak_mb / small.peak_mb:.2f} |
| raw read time (the history itself) | {large.raw_read_s / small.raw_read_s:.1f} |
"""
    write_section("aggregator-restart", body)
    print(body)
