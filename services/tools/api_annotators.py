"""Simulated people working the queue through the HTTP API, as a real annotation team does.

Each person has their own annotator token (created with the admin token),
claims a task, looks at the frame (here: its ground truth through the error
model, as the Kafka-side simulation does, so an annotation still depends only
on (seed, frame, copy)), and submits it: boxes in COCO form, cuboids (a
point-cloud frame's task) as tagged ``cuboid3d`` geometry; a clip task's answer is every frame's boxes with
the person's track ids (:mod:`services.tools.clip_answers`). Some walk away from a
task (``abandon``): its lease runs out and the queue hands it to someone else;
some skip a task with a reason (``skip``). The API decides who gets which copy,
so the names differ from the Kafka-side simulation's; the annotations do not.
A point-cloud task's person first reads its cloud from the API as a PCD file.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.engine.frame_refs import frame_truth
from services.io.pcd import parse_pcd
from services.loop.messages import AnnotatedObject
from services.loop.messages.geometry import V1_BOX
from services.tools.annotators import annotate_truth, error_model
from services.tools.clip_answers import clip_submission
from services.tools.exceptions import ToolError

log = logging.getLogger(__name__)


class AnnotatorsFailed(ToolError):
    """The API refused the simulated people (bad admin token, unreachable), or a person met an error."""


@dataclass(frozen=True)
class TeamOptions:
    people: int = 8
    seed: int = 11
    error_model: str = "default"
    delay_ms: float = 20.0  # time a person spends on a task
    abandon: float = 0.02  # share of claimed tasks a person walks away from
    skip: float = 0.005  # share of claimed tasks a person hands back with a reason
    idle_wait_s: float = 0.2  # pause after an empty claim
    name_prefix: str = "sim"


@dataclass
class TeamTally:
    claimed: Counter[str] = field(default_factory=Counter)
    submitted: Counter[str] = field(default_factory=Counter)
    abandoned: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)  # submissions refused because the lease had run out
    clouds: dict[str, str] = field(default_factory=dict)  # frame ref -> SHA-256 of the points its PCD held

    def line(self) -> str:
        looked = f", {len(self.clouds):,} point clouds read as PCD" if self.clouds else ""
        return (f"annotators: {sum(self.submitted.values()):,} submitted, {sum(self.abandoned.values()):,} "
                f"abandoned, {sum(self.skipped.values()):,} skipped by {len(self.claimed)} people{looked}")


class Team:
    """``people`` threads working the queue at ``base_url`` until :meth:`stop`."""

    def __init__(self, base_url: str, admin_token: str, options: TeamOptions) -> None:
        self.base_url, self.options = base_url.rstrip("/"), options
        self._admin = admin_token
        self._model = error_model(options.error_model)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.tally = TeamTally()
        self.errors: list[str] = []

    def start(self) -> Team:
        tokens = self._tokens()
        for k, (name, token) in enumerate(tokens):
            thread = threading.Thread(target=self._person, args=(name, token, k), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> TeamTally:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)
        return self.tally

    def __enter__(self) -> Team:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _tokens(self) -> list[tuple[str, str]]:
        out = []
        with httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self._admin}"},
                          timeout=10) as client:
            for k in range(1, self.options.people + 1):
                name = f"{self.options.name_prefix}-{k}"
                try:
                    r = client.post("/v1/admin/tokens", json={"name": name, "role": "annotator"})
                except httpx.HTTPError as exc:
                    raise AnnotatorsFailed(f"cannot reach the API at {self.base_url} ({exc})") from exc
                if r.status_code != 201:
                    raise AnnotatorsFailed(f"creating the token of {name} failed: {r.status_code} {r.text}")
                out.append((name, r.json()["token"]))
        return out

    def _person(self, name: str, token: str, k: int) -> None:
        rng = random.Random(f"{self.options.seed}:{name}")  # who walks away when: seeded, per person
        o = self.options
        with httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            while not self._stop.is_set():
                try:
                    self._step(client, name, rng)
                except httpx.HTTPError as exc:  # the API restarting: try again shortly
                    log.warning("%s: %s", name, exc)
                    self._stop.wait(1.0)
                except Exception as exc:
                    with self._lock:
                        self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                    self._stop.wait(o.idle_wait_s)

    def _step(self, client: httpx.Client, name: str, rng: random.Random) -> None:
        o = self.options
        r = post_patiently(client, "/v1/tasks/claim", self._stop)
        if r.status_code in (204, 409):  # nothing waiting, or still holding an abandoned task until it expires
            self._stop.wait(o.idle_wait_s)
            return
        _check(r, "claim")
        task: dict[str, Any] = r.json()
        self._count("claimed", name)
        draw = rng.random()
        if draw < o.abandon:
            self._count("abandoned", name)
            return
        if draw < o.abandon + o.skip:
            _check(post_patiently(client, f"/v1/tasks/{task['task_id']}/skip", self._stop,
                         json={"reason": "simulated: frame unclear"}), "skip")
            self._count("skipped", name)
            return
        if task.get("points_url"):
            self._look_at_points(client, task)
        if o.delay_ms > 0:
            time.sleep(o.delay_ms / 1000.0)
        body = clip_submission(task, o.seed) if task.get("frames") else self._frame_answer(task)
        r = post_patiently(client, f"/v1/tasks/{task['task_id']}/submit", self._stop, json=body)
        if r.status_code == 409:
            self._count("lost", name)
            return
        _check(r, "submit")
        self._count("submitted", name)

    def _look_at_points(self, client: httpx.Client, task: dict[str, Any]) -> None:
        """A person opens a point cloud before drawing in it: the task's PCD, read as a viewer reads it (a cloud
        that does not read, or holds no point, is an error of the run)."""
        r = client.get(task["points_url"])
        _check(r, "points")
        points = parse_pcd(r.content, task["points_url"])
        if len(points) == 0:
            raise AnnotatorsFailed(f"{task['points_url']}: the point cloud holds no point")
        with self._lock:
            self.tally.clouds[task["image_ref"]] = hashlib.sha256(points.tobytes()).hexdigest()

    def _frame_answer(self, task: dict[str, Any]) -> dict[str, Any]:
        objects, tags = annotate_truth(frame_truth(task["image_ref"]), self.options.seed, task["copy_number"],
                                       self._model)
        return {"annotations": [submitted(obj) for obj in objects], "tags": tags}

    def _count(self, what: str, name: str) -> None:
        with self._lock:
            getattr(self.tally, what)[name] += 1


def submitted(obj: AnnotatedObject) -> dict[str, Any]:
    """An object as a submission carries it: a box in COCO form (``bbox``), any other kind as tagged geometry."""
    shape = {"bbox": list(obj.geometry.value)} if obj.geometry.kind == V1_BOX else {"geometry": obj.geometry.wire()}
    return {**shape, "category_id": obj.category_id, "attributes": obj.attributes}


def post_patiently(client: httpx.Client, url: str, stop: threading.Event, **kwargs: Any) -> httpx.Response:
    """POST, sent again after each 503 (the API's database busy or away) once its Retry-After has passed.

    A person whose claim or submission meets a database outage waits and tries
    the same step again, as the API asks, rather than failing the run; only a
    stop ends the wait (the last 503 is returned then).
    """
    while True:
        response = client.post(url, **kwargs)
        if response.status_code != 503 or stop.is_set():
            return response
        log.info("%s: 503, trying again in %.1f s", url, retry_after_s(response))
        stop.wait(retry_after_s(response))


def retry_after_s(response: httpx.Response, default: float = 1.0) -> float:
    """The response's Retry-After in seconds (delta-seconds form), within [0.1, 30]; ``default`` if absent."""
    try:
        seconds = float(response.headers.get("Retry-After", default))
    except ValueError:
        seconds = default
    return min(max(seconds, 0.1), 30.0)


def _check(response: httpx.Response, step: str) -> None:
    if response.status_code >= 300:
        raise AnnotatorsFailed(f"{step}: {response.status_code} {response.text[:300]}")
