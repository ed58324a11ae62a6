"""20 annotators claim, heartbeat, abandon and submit 2,000 tasks at once, over HTTP, against PostgreSQL.

Two replicas of ``shadowqa api serve`` (separate processes on one database, lease sweepers running, short
leases) and 20 threads, each with its own annotator token; every annotator claims from one replica and
heartbeats and submits through the other, as behind a load balancer without sticky sessions. Afterwards the
database's lease log, tasks and annotations and the clients' own records must show: no task leased to two
people at once, every task submitted exactly once, every abandoned lease expired and requeued exactly once,
the two copies of a frame done by two people, and no 5xx answer.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

import httpx
import pytest
from sqlalchemy import Engine, select

from services.api.tokens import Role
from services.db.engine import session_factory
from services.db.models import ManualAnnotationRow, ManualTaskRow, TaskLeaseRow
from tests.services.api.helpers import COCO_BODY, add_tasks, frame_tasks, token

pytestmark = pytest.mark.slow

ANNOTATORS = 20
SINGLE_FRAMES, CONSENSUS_FRAMES = 1_600, 200  # 1,600 + 2 x 200 = 2,000 tasks
STRATA = ("weather=clear", "weather=rain", "weather=fog", "time_of_day=night")
P_ABANDON = 0.04
REPLICAS = 2
SERVE_OPTIONS = ("--lease-seconds", "1.5", "--max-leases", "2")
GIVE_UP_S = 240.0  # a liveness guard only: a queue that stops handing out tasks fails instead of hanging


@dataclass
class Records:
    """What the clients saw, shared by the annotator threads."""

    total: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    claims: list[tuple[str, str]] = field(default_factory=list)  # (task, annotator), in any order
    abandoned: Counter[str] = field(default_factory=Counter)  # task -> times a client walked away from it
    lost: Counter[str] = field(default_factory=Counter)  # task -> leases a client found run out (409) before done
    submitted: dict[str, str] = field(default_factory=dict)  # task -> who submitted it
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)  # (step, HTTP status)
    final_claims: dict[str, int] = field(default_factory=dict)  # annotator -> status of the claim after the end
    errors: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def note(self, step: str, response: httpx.Response) -> int:
        with self.lock:
            self.statuses[step, response.status_code] += 1
            if response.status_code >= 500:
                self.errors.append(f"{step}: {response.status_code} {response.text[:300]}")
        return response.status_code


def _annotate(urls: list[str], who: str, headers: dict[str, str], seed: int, records: Records) -> None:
    rng = random.Random(seed)
    with (httpx.Client(base_url=urls[seed % len(urls)], headers=headers, timeout=60.0) as claims,
          httpx.Client(base_url=urls[(seed + 1) % len(urls)], headers=headers, timeout=60.0) as http):
        while not records.done.is_set():
            claim = claims.post("/v1/tasks/claim")
            status = records.note("claim", claim)
            if status in (204, 409):  # nothing left for me now / I hold my limit (an abandoned lease still runs)
                time.sleep(0.05)
                continue
            if status != 200:
                return
            tid = claim.json()["task_id"]
            with records.lock:
                records.claims.append((tid, who))
            _work(http, tid, who, rng, records)
        records.final_claims[who] = records.note("claim", claims.post("/v1/tasks/claim"))


def _work(http: httpx.Client, tid: str, who: str, rng: random.Random, records: Records) -> None:
    if rng.random() < P_ABANDON:
        with records.lock:
            records.abandoned[tid] += 1  # walks away: never touches it again; the lease must run out
        return
    for _ in range(rng.choice((0, 0, 1, 2))):
        if records.note("heartbeat", http.post(f"/v1/tasks/{tid}/heartbeat")) != 200:
            with records.lock:
                records.lost[tid] += 1
            return
    status = records.note("submit", http.post(f"/v1/tasks/{tid}/submit", json=COCO_BODY))
    with records.lock:
        if status == 200:
            if tid in records.submitted:
                records.errors.append(f"{tid} accepted twice")
            records.submitted[tid] = who
            if len(records.submitted) == records.total:
                records.done.set()
        else:
            records.lost[tid] += 1


def _run(urls: list[str], tokens: dict[str, dict[str, str]], records: Records) -> None:
    threads = [threading.Thread(target=_annotate, args=(urls, who, headers, k, records), name=who)
               for k, (who, headers) in enumerate(tokens.items())]
    for thread in threads:
        thread.start()
    give_up = time.monotonic() + GIVE_UP_S
    while not records.done.wait(0.5) and time.monotonic() < give_up and any(t.is_alive() for t in threads):
        pass
    records.done.set()
    for thread in threads:
        thread.join(timeout=120)


@pytest.mark.faults
def test_twenty_annotators_on_two_thousand_tasks(pg_engine: Engine, api_replicas: Callable[..., list[str]]) -> None:
    tasks = [t for i in range(SINGLE_FRAMES) for t in frame_tasks(i, stratum=STRATA[i % len(STRATA)])]
    tasks += [t for i in range(SINGLE_FRAMES, SINGLE_FRAMES + CONSENSUS_FRAMES)
              for t in frame_tasks(i, copies=2, stratum=STRATA[i % len(STRATA)])]
    ids = add_tasks(pg_engine, tasks)
    assert len(ids) == 2_000
    urls = api_replicas(REPLICAS, *SERVE_OPTIONS)
    tokens = {f"annotator-{k:02d}": token(pg_engine, f"annotator-{k:02d}", Role.ANNOTATOR) for k in range(ANNOTATORS)}
    records = Records(total=len(ids))

    begin = time.perf_counter()
    _run(urls, tokens, records)
    print(f"\n{sum(records.statuses.values())} requests in {time.perf_counter() - begin:.1f} s; "
          f"{sum(records.abandoned.values())} abandoned, {sum(records.lost.values())} lost; "
          f"{dict(sorted(records.statuses.items()))}")

    assert records.errors == [], "no 5xx and no task accepted twice"
    assert len(records.submitted) == len(ids), f"stalled: {len(records.submitted)} of {len(ids)} submitted"
    assert set(records.final_claims.values()) == {204} and len(records.final_claims) == ANNOTATORS
    unexpected = {k: n for k, n in records.statuses.items() if k not in _EXPECTED}
    assert unexpected == {}, f"unexpected answers: {unexpected}"
    assert sum(records.abandoned.values()) >= 30, "the run must exercise expiry"
    _check_database(pg_engine, records, {t.task_id: t.frame_id for t in tasks})


_EXPECTED = {("claim", 200), ("claim", 204), ("claim", 409), ("heartbeat", 200), ("heartbeat", 409),
             ("submit", 200), ("submit", 409)}


def _check_database(engine: Engine, records: Records, frames: dict[str, str]) -> None:
    with session_factory(engine)() as s:
        rows = {r.task_id: r for r in s.scalars(select(ManualTaskRow)).all()}
        answers = s.scalars(select(ManualAnnotationRow)).all()
        log: dict[str, list[TaskLeaseRow]] = defaultdict(list)
        for lease in s.scalars(select(TaskLeaseRow).order_by(TaskLeaseRow.leased_at, TaskLeaseRow.id)).all():
            log[lease.task_id].append(lease)

    # none lost, none doubled: one annotation per task, by whoever the API told it was accepted
    assert {r.state for r in rows.values()} == {"submitted"}
    assert len(answers) == len(rows) == len(frames)
    assert {a.task_id: a.annotator for a in answers} == records.submitted
    # the lease log holds exactly the claims the clients got
    assert Counter((tid, lease.annotator) for tid, ls in log.items() for lease in ls) == Counter(records.claims)
    for tid, leases in log.items():
        assert [x.outcome for x in leases].count("submitted") == 1 and leases[-1].outcome == "submitted", tid
        assert leases[-1].annotator == records.submitted[tid], tid
        assert all(x.outcome in ("expired", "submitted") and x.ended_at is not None for x in leases), tid
        for before, after in pairwise(leases):  # one holder at a time
            assert before.ended_at is not None and before.ended_at <= after.leased_at, (
                f"{tid}: {before.annotator}'s lease [{before.leased_at}, {before.ended_at}] overlaps "
                f"{after.annotator}'s from {after.leased_at}")
        # every lease a client walked away from (or found run out) expired and was requeued exactly once
        expired = sum(x.outcome == "expired" for x in leases)
        assert rows[tid].expiries == expired == records.abandoned[tid] + records.lost[tid], tid
    # the two copies of a consensus frame were annotated by two different people
    by_frame: dict[str, set[str]] = defaultdict(set)
    copies: Counter[str] = Counter()
    for tid, who in records.submitted.items():
        by_frame[frames[tid]].add(who)
        copies[frames[tid]] += 1
    assert all(len(by_frame[f]) == n for f, n in copies.items())
    assert sum(n == 2 for n in copies.values()) == CONSENSUS_FRAMES
