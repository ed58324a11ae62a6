"""The annotator side of the API benchmark: client processes working the queue through HTTP or in-process,
and what they measured (latency percentiles, counts, CPU); the runs and the report are ``benchmarks/api.py``."""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx

from services.api.exceptions import QueueError
from services.api.queue import Queue
from services.db.engine import make_engine
from services.loop.messages import AnnotatedObject

PROCESSES, THREADS = 4, 2  # C = 8 annotators
STRATA = ("weather=clear", "weather=rain", "weather=fog", "time_of_day=night")
COCO_BODY: dict[str, Any] = {"annotations": [{"bbox": [10.0, 20.0, 30.0, 12.0], "category_id": 1}],
                             "tags": {"weather": "rain"}}
OBJECTS = [AnnotatedObject(bbox=(10.0, 20.0, 30.0, 12.0), category_id=1, attributes={})]
GIVE_UP_S = 600.0  # a liveness guard only: a run that stalls fails instead of hanging
EXPECTED = frozenset({"claim 200", "claim 204", "submit 200"})


class BenchmarkFailed(RuntimeError):
    """The queue lost, doubled or refused work during a benchmark run: its speed is not a result."""


# --- the numbers (pure) ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Summary:
    """Latency percentiles in seconds (nearest rank: each is one of the samples)."""

    n: int
    p50: float
    p95: float
    p99: float


def percentile(ordered: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile of ``ordered`` (sorted, non-empty): the ceil(q/100·n)-th smallest."""
    if not ordered:
        raise ValueError("no samples")
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def summarize(samples: Sequence[float]) -> Summary:
    ordered = sorted(samples)
    return Summary(len(ordered), percentile(ordered, 50), percentile(ordered, 95), percentile(ordered, 99))


@dataclass
class ClientLog:
    """One annotator's record of a run (sent back from its process)."""

    latencies: dict[str, list[float]] = field(default_factory=dict)  # operation -> seconds per call
    statuses: Counter[str] = field(default_factory=Counter)  # "claim 200", "submit 409", ...
    done: list[str] = field(default_factory=list)  # tasks submitted (queue runs) or requests answered 200 (GET)
    errors: list[str] = field(default_factory=list)
    start: float = 0.0  # time.monotonic(): one clock for every process on Linux
    end: float = 0.0
    cpu: float = 0.0  # CPU seconds of the annotator's thread (the queue's own work too, in the direct run)


@dataclass(frozen=True)
class RunResult:
    name: str
    items: int  # claim+submit pairs, or GET requests
    requests: int  # every call made, the final 204 claims included
    seconds: float
    latency: dict[str, Summary]
    statuses: Counter[str]
    done: tuple[str, ...]
    errors: tuple[str, ...]
    samples: dict[str, list[float]]
    client_cpu: float
    server_cpu: float = 0.0  # CPU seconds of the API processes during the run

    @property
    def rate(self) -> float:
        return self.items / self.seconds

    @property
    def request_rate(self) -> float:
        return self.requests / self.seconds


def combine(name: str, logs: Sequence[ClientLog]) -> RunResult:
    """The run's result from every annotator's log: from the first start to the last end."""
    samples: dict[str, list[float]] = {}
    statuses: Counter[str] = Counter()
    for log in logs:
        statuses.update(log.statuses)
        for op, seconds in log.latencies.items():
            samples.setdefault(op, []).extend(seconds)
    done = tuple(t for log in logs for t in log.done)
    return RunResult(name, len(done), sum(statuses.values()), max(g.end for g in logs) - min(g.start for g in logs),
                     {op: summarize(s) for op, s in sorted(samples.items())}, statuses, done,
                     tuple(e for log in logs for e in log.errors), samples, sum(log.cpu for log in logs))


def problems(run: RunResult, n: int, rows: dict[str, int]) -> list[str]:
    """What is wrong with a queue run of ``n`` tasks, from its clients and the database's ``rows`` counts."""
    found = [f"{k}: {v} (expected {n})" for k, v in rows.items() if v != n]
    if len(run.done) != n or len(set(run.done)) != n:
        found.append(f"clients were told {len(run.done)} submits succeeded for {len(set(run.done))} distinct "
                     f"tasks (expected {n})")
    if run.statuses["claim 200"] != n:
        found.append(f"{run.statuses['claim 200']} claims answered 200 (expected {n})")
    unexpected = {k: v for k, v in run.statuses.items() if k not in EXPECTED}
    if unexpected:
        found.append(f"unexpected answers: {dict(sorted(unexpected.items()))}")
    return found + [f"client error: {e}" for e in run.errors[:5]]


# --- what each annotator does (in the client processes) --------------------------------------------------------------
Step = Callable[[], tuple[int, str | None]]  # -> (status, task id or None)


def _timed(log: ClientLog, op: str, step: Step) -> tuple[int, str | None]:
    begin = time.perf_counter()
    status, tid = step()
    log.latencies.setdefault(op, []).append(time.perf_counter() - begin)
    log.statuses[f"{op} {status}"] += 1
    return status, tid


def _queue_loop(claim: Step, submit: Callable[[str], Step], log: ClientLog) -> None:
    while True:
        status, tid = _timed(log, "claim", claim)
        if status != 200 or tid is None:
            return  # 204: nothing left; anything else is counted and fails the run's check
        if _timed(log, "submit", submit(tid))[0] == 200:
            log.done.append(tid)


def _get_loop(http: httpx.Client, path: str, repeat: int, log: ClientLog) -> None:
    for _ in range(repeat):
        status, _ = _timed(log, f"GET {path}", lambda: (http.get(path).status_code, None))
        if status == 200:
            log.done.append(path)


def _http_claim(http: httpx.Client) -> tuple[int, str | None]:
    answer = http.post("/v1/tasks/claim")
    return answer.status_code, answer.json()["task_id"] if answer.status_code == 200 else None


def _http_submit(http: httpx.Client, tid: str) -> Step:
    return lambda: (http.post(f"/v1/tasks/{tid}/submit", json=COCO_BODY).status_code, tid)


def _direct_claim(queue: Queue, name: str) -> tuple[int, str | None]:
    lease = queue.claim(name)
    return (204, None) if lease is None else (200, lease.task_id)


def _direct_submit(queue: Queue, name: str, tid: str) -> Step:
    def step() -> tuple[int, str | None]:
        try:
            queue.submit(name, tid, OBJECTS, COCO_BODY["tags"])
        except QueueError as exc:
            return exc.status, tid
        return 200, tid
    return step


@dataclass(frozen=True)
class Job:
    """One client process's share of a run: its annotators (name, token, base URL) and what they do."""

    kind: str  # "api", "direct", or "GET <path>"
    database_url: str
    annotators: tuple[tuple[str, str, str], ...]
    repeat: int = 0  # GET requests per annotator


def _loops(job: Job, stack: contextlib.ExitStack) -> list[Callable[[ClientLog], None]]:
    if job.kind == "direct":
        engine = make_engine(job.database_url)
        stack.callback(engine.dispose)
        queue = Queue(engine)
        return [partial(_queue_loop, partial(_direct_claim, queue, name), partial(_direct_submit, queue, name))
                for name, _, _ in job.annotators]
    loops: list[Callable[[ClientLog], None]] = []
    for _, token, url in job.annotators:
        http = stack.enter_context(httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                                timeout=60.0))
        if job.kind == "api":
            loops.append(partial(_queue_loop, partial(_http_claim, http), partial(_http_submit, http)))
        else:
            loops.append(partial(_get_loop, http, job.kind.removeprefix("GET "), job.repeat))
    return loops


def _guarded(loop: Callable[[ClientLog], None], log: ClientLog) -> None:
    log.start, cpu = time.monotonic(), time.thread_time()
    try:
        loop(log)
    except Exception as exc:  # reported to the parent, which fails the run
        log.errors.append(f"{type(exc).__name__}: {exc}")
    log.end, log.cpu = time.monotonic(), time.thread_time() - cpu


def client_process(job: Job, ready: Any, go: Any, results: Any) -> None:
    """Set up this process's annotators, say so, wait for the start, run them in threads, send back their logs."""
    with contextlib.ExitStack() as stack:
        loops = _loops(job, stack)
        logs = [ClientLog() for _ in loops]
        ready.put(os.getpid())
        go.wait()
        threads = [threading.Thread(target=_guarded, args=(loop, log)) for loop, log in zip(loops, logs, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results.put(logs)


def run_clients(name: str, jobs: Sequence[Job]) -> RunResult:
    """Start one process per job, start them all at once, gather what their annotators saw."""
    mp = multiprocessing.get_context("spawn")
    ready, results, go = mp.Queue(), mp.Queue(), mp.Event()
    processes = [mp.Process(target=client_process, args=(job, ready, go, results), daemon=True) for job in jobs]
    for process in processes:
        process.start()
    try:
        for _ in jobs:
            ready.get(timeout=120)
        go.set()
        logs = [log for _ in jobs for log in results.get(timeout=GIVE_UP_S)]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return combine(name, logs)


def jobs(kind: str, database_url: str, tokens: Sequence[tuple[str, str]], urls: Sequence[str],
         repeat: int = 0) -> list[Job]:
    """The annotators dealt to PROCESSES jobs (annotator k to job k mod PROCESSES), each job's annotators spread
    over ``urls`` in turn (so every process talks to every replica and the replicas share the annotators)."""
    people = [(name, token, urls[k // PROCESSES % len(urls)] if urls else "") for k, (name, token) in enumerate(tokens)]
    return [Job(kind, database_url, tuple(people[p::PROCESSES]), repeat) for p in range(PROCESSES)]
