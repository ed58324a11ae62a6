"""People working the queue through the HTTP API while it fails under them (killed, or its database away).

Each person is a thread with its own annotator token that takes the task it already holds (``GET /v1/tasks``:
a claim whose answer was lost still left the task leased to them) or claims one, and submits it. A request that
fails in transit is sent again, and so is one answered 503 (after its ``Retry-After``): as a client of any
HTTP API does. A submission sent again after its first answer was lost may find it recorded already: the API
refuses it (409, the task is submitted), and the person moves on; a claim sent again may find the lost one
recorded (409, they already hold a task), and the person takes that task. Any other answer is an error, kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Engine

from services.loop.messages import ManualAnnotation, decode
from services.tools.snapshot import read_topic
from tests.services.api.helpers import COCO_BODY
from tests.utils.outbox import marks

RETRY_S = 0.2  # pause after a request failed in transit
IDLE_S = 0.1  # pause after an empty claim
STALL_S = 60.0  # guard of :func:`wait_until`: nothing moved for this long fails the test


@dataclass
class Counts:
    submitted: list[str] = field(default_factory=list)  # answered 200
    recorded_before: list[str] = field(default_factory=list)  # sent again, refused: the lost attempt was recorded
    unavailable: int = 0  # 503 answers
    without_retry_after: int = 0  # 503 answers without Retry-After
    in_transit: int = 0  # requests that failed before an answer (refused, reset, timed out)
    errors: list[str] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)  # monotonic times of the 2xx answers
    holders: dict[str, str] = field(default_factory=dict)  # task -> the token of the person who submitted it

    @property
    def done(self) -> set[str]:
        return set(self.submitted) | set(self.recorded_before)


class People:
    """``people`` threads working the queue at ``url`` until :meth:`stop`; their :attr:`counts`."""

    def __init__(self, url: str, admin_token: str, people: int, delay_s: float, name: str = "person") -> None:
        self.url, self.delay_s = url, delay_s
        self.counts = Counts()
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._tokens = [token(url, admin_token, f"{name}-{k}") for k in range(people)]
        self._threads = [threading.Thread(target=self._person, args=(t,), daemon=True) for t in self._tokens]

    def start(self) -> People:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> Counts:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        return self.counts

    def snapshot(self) -> Counts:
        with self._lock:
            return Counts(list(self.counts.submitted), list(self.counts.recorded_before), self.counts.unavailable,
                          self.counts.without_retry_after, self.counts.in_transit, list(self.counts.errors),
                          list(self.counts.answered), dict(self.counts.holders))

    def __enter__(self) -> People:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _person(self, bearer: str) -> None:
        with httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {bearer}"}, timeout=30) as client:
            while not self._stop.is_set():
                task = self._next(client)
                if task is None:
                    self._stop.wait(IDLE_S)
                    continue
                self._stop.wait(self.delay_s)
                self._submit(client, task, bearer)

    def _next(self, client: httpx.Client) -> str | None:
        """The task this person holds, else a claimed one; None when nothing waits (or stopping)."""
        held = self._call(client, "GET", "/v1/tasks")
        if held is None or not self._ok(held[0], "my tasks"):
            return None
        if held[0].json():
            return str(held[0].json()[0]["task_id"])
        claimed = self._call(client, "POST", "/v1/tasks/claim")
        if claimed is None or claimed[0].status_code == 204:
            return None
        answer, again = claimed
        if answer.status_code == 409 and again and "already holds" in answer.text:
            return None  # the lost attempt was recorded: the task is theirs, the next GET /v1/tasks lists it
        if not self._ok(answer, "claim"):
            return None
        return str(claimed[0].json()["task_id"])

    def _submit(self, client: httpx.Client, task: str, bearer: str) -> None:
        sent = self._call(client, "POST", f"/v1/tasks/{task}/submit", json=COCO_BODY)
        if sent is None:
            return
        answer, again = sent
        with self._lock:
            if answer.status_code in (200, 409):
                self.counts.holders[task] = bearer
            if answer.status_code == 200:
                self.counts.submitted.append(task)
                self.counts.answered.append(time.monotonic())
            elif answer.status_code == 409 and again and "submitted" in answer.text:
                self.counts.recorded_before.append(task)
            else:
                self.counts.errors.append(f"submit {task}: {answer.status_code} {answer.text[:200]}")

    def _call(self, client: httpx.Client, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, bool] | None:
        """The first answer that is not 503, and whether the request had to be sent again; None if stopped."""
        again = False
        while not self._stop.is_set():
            try:
                answer = client.request(method, path, **kwargs)
            except httpx.TransportError:
                with self._lock:
                    self.counts.in_transit += 1
                again = True
                self._stop.wait(RETRY_S)
                continue
            if answer.status_code != 503:
                return answer, again
            retry_after = answer.headers.get("Retry-After")
            with self._lock:
                self.counts.unavailable += 1
                self.counts.without_retry_after += retry_after is None
            again = True
            self._stop.wait(float(retry_after or 1))
        return None

    def _ok(self, answer: httpx.Response, step: str) -> bool:
        if answer.status_code < 300:
            with self._lock:
                self.counts.answered.append(time.monotonic())
            return True
        with self._lock:
            self.counts.errors.append(f"{step}: {answer.status_code} {answer.text[:200]}")
        return False


def submit_again(url: str, task: str, bearer: str) -> httpx.Response:
    """Send a task's submission once more, as its holder (a retry after a lost answer)."""
    return httpx.post(f"{url}/v1/tasks/{task}/submit", json=COCO_BODY, headers={"Authorization": f"Bearer {bearer}"},
                      timeout=30)


def token(url: str, admin_token: str, name: str) -> str:
    """A new annotator token named ``name``, created with the admin token."""
    answer = httpx.post(f"{url}/v1/admin/tokens", json={"name": name, "role": "annotator"},
                        headers={"Authorization": f"Bearer {admin_token}"}, timeout=30)
    assert answer.status_code == 201, f"creating the token of {name}: {answer.status_code} {answer.text}"
    return str(answer.json()["token"])


def wait_until(what: str, progress: Callable[[], int], goal: int) -> None:
    """Until ``progress()`` reaches ``goal``; fails when it has not moved for STALL_S (never on a total time)."""
    last, moved = -1, time.monotonic()
    while (now := progress()) < goal:
        last, moved = (now, time.monotonic()) if now > last else (last, moved)
        assert time.monotonic() - moved < STALL_S, f"{what}: {now} of {goal}, nothing moved for {STALL_S:.0f} s"
        time.sleep(0.2)


def published(engine: Engine) -> int:
    """How many annotations the outbox has published."""
    return sum(done for done, _, _ in marks(engine).values())


def relayed(bootstrap: str, topic: str, tasks: list[str]) -> int:
    """Check that ``topic`` holds the annotation of every one of ``tasks`` and of no other, any copy of one the
    outbox sent twice being the same record; the number of such copies."""
    records = read_topic(bootstrap, topic).records
    values: dict[str, set[bytes | None]] = {}
    for r in records:
        values.setdefault(decode(ManualAnnotation, r.value or b"").task_id, set()).add(r.value)
    assert set(values) == set(tasks)
    assert all(len(v) == 1 for v in values.values()), "a task's annotation was published with different values"
    return len(records) - len(values)
