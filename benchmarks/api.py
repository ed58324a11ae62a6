"""The annotation queue's HTTP API against the database-bound ceiling of the same queue, in one run.

Every run gets a fresh PostgreSQL database on the project's cluster (migrated;
N tasks over four strata, one frame in ten with a consensus copy; one annotator
token each), and C annotators in P client processes (a few threads each, so the
clients' GIL does not cap the server) work the queue until it is empty: claim,
submit, again, until the claim answers 204.

- API: the annotators talk HTTP to one ``shadowqa api serve --no-kafka``
  process; then to two (each annotator on one of them).
- direct: the same loop calling :class:`services.api.queue.Queue` inside the
  client processes (no HTTP, no auth, no JSON): the ceiling the database sets.
- GET: the same annotators send a cheap authenticated ``GET /v1/tasks`` (a token
  lookup and an empty lease list) and an unauthenticated ``GET /healthz`` (no
  database): what the HTTP stack alone serves.

A run lasts from the first annotator starting to the last one seeing 204; its
latencies are the clients' own (request sent to answer read); CPU seconds are
the annotator threads' and the API processes' (PostgreSQL's are not counted).
Everything runs twice, the second round in reverse order, and the ratios are
given round by round: this 2-core box is shared, so only same-round ratios count. Every queue run is
checked in the database afterwards: each task submitted, exactly one annotation
each, every claim answered 200 or 204 and every submit 200; otherwise it fails.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, distinct, func, select, text

from benchmarks.harness import ROOT, machine, write_section
from services.api.queue import Queue, QueueError
from services.api.tokens import Role, Tokens
from services.db.engine import make_engine, session_factory, upgrade
from services.db.mappers import task_row
from services.db.models import ManualAnnotationRow, ManualTaskRow
from services.infra import postgres
from services.messages import AnnotatedObject, ManualTask, task_id
from services.settings import load_settings

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


# --- databases and servers -------------------------------------------------------------------------------------------
@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, migrated database on the server of ``server_url``, dropped afterwards."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"shadowqa_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name "
                                    "AND pid <> pg_backend_pid() AND usename = current_user"), {"name": name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def tasks(n: int) -> list[ManualTask]:
    """``n`` tasks over the strata; every tenth frame also has a consensus copy (two people, never one)."""
    out: list[ManualTask] = []
    frame = 0
    while len(out) < n:
        copies = 2 if frame % 10 == 0 and n - len(out) >= 2 else 1
        fid = f"driving-s0-{frame:06d}"
        out += [ManualTask.model_validate({
            "task_id": task_id(fid, c), "frame_id": fid, "seq": frame + 1, "image": f"synthetic://driving?seed=0#{frame}",
            "copy": c, "inclusion_prob": 0.5, "consensus_prob": 0.5 if copies == 2 else 0.0, "policy_version": 0,
            "copies": copies, "stratum": STRATA[frame % len(STRATA)], "time": 1_760_000_000.0 + frame,
        }) for c in range(1, copies + 1)]
        frame += 1
    return out


def seed(engine: Engine, n: int, annotators: int) -> list[tuple[str, str]]:
    """Queue ``n`` tasks; (name, token) of ``annotators`` new annotator tokens."""
    with session_factory(engine)() as session, session.begin():
        session.add_all([task_row(t) for t in tasks(n)])
    names = [f"annotator-{k:02d}" for k in range(annotators)]
    return [(name, Tokens(engine).create(name, Role.ANNOTATOR, created_by="benchmark")) for name in names]


def database_counts(engine: Engine) -> dict[str, int]:
    with session_factory(engine)() as s:
        def count(query: Any) -> int:
            return int(s.scalar(query) or 0)
        return {
            "tasks": count(select(func.count()).select_from(ManualTaskRow)),
            "tasks submitted": count(select(func.count()).select_from(ManualTaskRow)
                                     .where(ManualTaskRow.state == "submitted")),
            "annotations": count(select(func.count()).select_from(ManualAnnotationRow)),
            "tasks with an annotation": count(select(func.count(distinct(ManualAnnotationRow.task_id)))),
        }


@dataclass(frozen=True)
class Servers:
    urls: list[str]
    pids: list[int]

    def cpu(self) -> float:
        """CPU seconds the API processes have used so far (Linux /proc)."""
        ticks = os.sysconf("SC_CLK_TCK")
        fields = [Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split() for pid in self.pids]
        return sum(int(f[11]) + int(f[12]) for f in fields) / ticks  # utime, stime


@contextlib.contextmanager
def servers(database_url: str, replicas: int, logs: Path) -> Iterator[Servers]:
    """``replicas`` processes of ``shadowqa api serve --no-kafka`` on the database, started and ready."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        run = uuid.uuid4().hex[:8]  # a ready file of an earlier run must not announce this one
        urls = [_serve(database_url, logs / f"api-{run}-{k}", started) for k in range(replicas)]
        yield Servers(urls, [p.pid for p in started])
    finally:
        for process in started:
            process.send_signal(signal.SIGINT)
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _serve(database_url: str, stem: Path, started: list[subprocess.Popen[bytes]]) -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ready, log = stem.with_suffix(".ready"), stem.with_suffix(".log")
    argv = [sys.executable, "-m", "services.cli.main", "api", "serve", "--no-kafka", "--port", str(port),
            "--ready-file", str(ready)]
    env = {**os.environ, "SHADOWQA_DATABASE_URL": database_url}
    with log.open("wb") as out:
        started.append(subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT))
    deadline = time.monotonic() + 60
    while not ready.exists():
        if started[-1].poll() is not None or time.monotonic() > deadline:
            raise BenchmarkFailed(f"the API did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}"


# --- the runs --------------------------------------------------------------------------------------------------------
QUEUE_RUNS = (("direct", 0), ("api", 1), ("api", 2))


def run_name(kind: str, replicas: int) -> str:
    return f"API, {replicas} replica{'s' if replicas > 1 else ''}" if kind == "api" else "direct Queue"


def measured(name: str, jobs_: Sequence[Job], api: Servers) -> RunResult:
    before = api.cpu()
    run = run_clients(name, jobs_)
    return replace(run, server_cpu=api.cpu() - before)


def queue_run(server_url: str, n: int, kind: str, replicas: int, logs: Path) -> RunResult:
    """``n`` tasks worked by C annotators through ``replicas`` API processes (``kind`` "api") or in-process
    ("direct"), on a fresh database; checked there afterwards."""
    name = run_name(kind, replicas)
    with fresh_database(server_url) as url:
        engine = make_engine(url)
        try:
            people = seed(engine, n, PROCESSES * THREADS)
            with servers(url, replicas, logs) as api:
                run = measured(name, jobs(kind, url, people, api.urls), api)
            wrong = problems(run, n, database_counts(engine))
        finally:
            engine.dispose()
    if wrong:
        raise BenchmarkFailed(f"{name}: " + "; ".join(wrong))
    print(f"{name}: {run.rate:,.0f} tasks/s ({run.seconds:.1f} s)", flush=True)
    return run


def get_runs(server_url: str, repeat: int, logs: Path) -> list[RunResult]:
    """C annotators each sending ``repeat`` cheap GETs to one API process on an empty database."""
    runs = []
    with fresh_database(server_url) as url:
        engine = make_engine(url)
        try:
            people = seed(engine, 0, PROCESSES * THREADS)
        finally:
            engine.dispose()
        with servers(url, 1, logs) as api:
            for path in GETS:
                run = measured(f"GET {path}", jobs(f"GET {path}", url, people, api.urls, repeat), api)
                if run.items != repeat * len(people) or run.errors:
                    raise BenchmarkFailed(f"GET {path}: {run.items} of {repeat * len(people)} answered 200; "
                                          f"{dict(run.statuses)} {run.errors[:3]}")
                print(f"GET {path}: {run.rate:,.0f} requests/s", flush=True)
                runs.append(run)
    return runs


GETS = ("/v1/tasks", "/healthz")


def measure(server_url: str, n: int, repeat: int, rounds: int, logs: Path) -> dict[str, list[RunResult]]:
    """Every run, ``rounds`` times (the queue runs in reverse order every other round, so a drift in the
    machine's background load does not favour one of them); run name -> its results, round by round."""
    results: dict[str, list[RunResult]] = {}
    for r in range(rounds):
        for kind, replicas in QUEUE_RUNS if r % 2 == 0 else QUEUE_RUNS[::-1]:
            results.setdefault(run_name(kind, replicas), []).append(queue_run(server_url, n, kind, replicas, logs))
        for run in get_runs(server_url, repeat, logs):
            results.setdefault(run.name, []).append(run)
    return results


def ratios(results: dict[str, list[RunResult]]) -> dict[str, list[float]]:
    """Each ratio, round by round (runs of one round share the machine's load of that moment)."""
    direct, one, two = (results[run_name(*k)] for k in QUEUE_RUNS)
    tasks_get, health = results["GET /v1/tasks"], results["GET /healthz"]
    return {
        "API (1 replica) / direct Queue, tasks/s": [a.rate / d.rate for a, d in zip(one, direct, strict=True)],
        "API 2 replicas / 1 replica, tasks/s": [b.rate / a.rate for a, b in zip(one, two, strict=True)],
        "API queue requests/s / GET /v1/tasks requests/s": [a.request_rate / g.rate
                                                            for a, g in zip(one, tasks_get, strict=True)],
        "GET /v1/tasks / GET /healthz, requests/s": [g.rate / h.rate for g, h in zip(tasks_get, health, strict=True)],
    }


def main(*, quick: bool = False) -> dict[str, float]:
    n, repeat, rounds = (200, 25, 1) if quick else (1_000, 150, 2)
    server_url = postgres.up(load_settings().postgres_port, say=print).url
    with tempfile.TemporaryDirectory(prefix="shadowqa-bench-api-") as tmp:
        results = measure(server_url, n, repeat, rounds, Path(tmp))
    found = ratios(results)
    body = report(n, repeat, results, found, quick)
    print(body)
    if not quick:  # a quick run never overwrites measurements
        write_section("api", body)
    return {name: statistics.median(values) for name, values in found.items()}


def _per_round(values: Sequence[float], fmt: str) -> str:
    return " / ".join(format(v, fmt) for v in values)


def report(n: int, repeat: int, results: dict[str, list[RunResult]], found: dict[str, list[float]],
           quick: bool) -> str:
    """The BENCHMARKS.md section: set-up, throughput, CPU and latency per run, ratios, what they mean."""
    rounds = len(next(iter(results.values())))
    lines = [
        "## Annotation queue API vs the queue in-process (`benchmarks/api.py`)", "",
        f"PostgreSQL {postgres.server_version()} (the project's cluster, a fresh database per run); {n:,} tasks in "
        f"{len(STRATA)} strata (one frame in ten with a consensus copy); {PROCESSES * THREADS} annotators in "
        f"{PROCESSES} client processes × {THREADS} threads on the same machine, claim then submit until the claim "
        f"answers 204; `shadowqa api serve --no-kafka` (one uvicorn process per replica); GETs: {repeat} per "
        f"annotator on an empty database. {rounds} round(s), values given round by round (second round in reverse "
        f"order); {machine()}." + (" QUICK SMOKE RUN, not a measurement." if quick else ""), "",
        "| run | tasks (claim+submit) or GETs per s | calls per s | CPU ms per task or GET: clients | API processes |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, runs in results.items():
        lines.append(f"| {name} | {_per_round([r.rate for r in runs], ',.0f')} | "
                     f"{_per_round([r.request_rate for r in runs], ',.0f')} | "
                     f"{_per_round([r.client_cpu / r.items * 1000 for r in runs], '.1f')} | "
                     f"{_per_round([r.server_cpu / r.items * 1000 for r in runs], '.1f')} |")
    lines += ["", "Client-side latency, all rounds pooled:", "",
              "| run | operation | calls | p50 ms | p95 ms | p99 ms |", "|---|---|---:|---:|---:|---:|"]
    for name, runs in results.items():
        for op in runs[0].samples:
            s = summarize([x for r in runs for x in r.samples[op]])
            lines.append(f"| {name} | {op} | {s.n:,} | {s.p50 * 1000:.1f} | {s.p95 * 1000:.1f} | {s.p99 * 1000:.1f} |")
    lines += ["", "| ratio | per round |", "|---|---:|"]
    lines += [f"| {name} | {_per_round(values, '.2f')} |" for name, values in found.items()]
    lines += ["", _meaning(results, found), "",
              "Every queue run was checked in its database afterwards: each task submitted, one annotation each, "
              "every claim answered 200 or 204 and every submit 200 (a run that fails this raises)."]
    return "\n".join(lines)


def _meaning(results: dict[str, list[RunResult]], found: dict[str, list[float]]) -> str:
    def cpu_ms(name: str, server: bool) -> float:
        return statistics.median((r.server_cpu if server else r.client_cpu) / r.items * 1000 for r in results[name])

    api_ms, direct_ms = cpu_ms("API, 1 replica", True), cpu_ms("direct Queue", False)
    ratio, scale = (statistics.median(v) for v in list(found.values())[:2])
    return (f"What it means: through HTTP the queue does {ratio:.2f}× its in-process rate (median of rounds). The API "
            f"process spends {api_ms:.1f} CPU ms per task where the same queue work in-process costs the client "
            f"{direct_ms:.1f} ms: the rest is the HTTP stack, JSON, validation and a token lookup in the database on "
            f"every request (a GET /v1/tasks costs the server {cpu_ms('GET /v1/tasks', True):.1f} ms, /healthz "
            f"{cpu_ms('GET /healthz', True):.1f} ms). Clients, API processes and PostgreSQL share the 2 cores (CPU "
            f"of PostgreSQL is not counted above), so a second replica ({scale:.2f}×) can only add what one "
            "GIL-bound server process leaves idle; these are ratios for this box, not a capacity figure.")
