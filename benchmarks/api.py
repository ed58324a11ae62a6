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
import os
import statistics
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, distinct, func, select

from benchmarks.api_clients import (
    PROCESSES,
    STRATA,
    THREADS,
    BenchmarkFailed,
    Job,
    RunResult,
    jobs,
    problems,
    run_clients,
    summarize,
)
from benchmarks.harness import machine, write_section
from benchmarks.services import fresh_database
from services.api.tokens import Role, Tokens
from services.db.engine import make_engine, session_factory
from services.db.mappers import task_row
from services.db.models import ManualAnnotationRow, ManualTaskRow
from services.infra import postgres
from services.loop.messages import ManualTask, task_id
from services.settings import load_settings
from services.tools.api_processes import api_processes


# --- databases and servers --------------------------------------------------------------------------------------------
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
    with api_processes(replicas, {"SHADOWQA_DATABASE_URL": database_url}, logs, ["--no-kafka"]) as apis:
        yield Servers([api.url for api in apis], [api.pid for api in apis])


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
