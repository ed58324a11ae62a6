"""The bridge: shadowqa's queue on one side, a Label Studio server on the other.

Each round (every ``interval_s``):

1. **renew**: extend the leases of every copy the bridge holds (the database only: a Label Studio that is down
   costs no lease);
2. **reconcile**: read the open Label Studio tasks (one list request per 100 tasks) and relay the annotations
   no webhook brought (a webhook lost, or Label Studio was down when the annotation was made); a task deleted in
   Label Studio gives its copies back to the queue;
3. **claim**: lease the waiting copies of frames whose Label Studio task is open (a skipped copy comes back to
   the same task, where Label Studio never shows it again to whoever skipped it), then of new frames up to
   ``open_frames``, least evidence first; each new frame becomes one Label Studio task whose ``overlap`` is the
   number of copies (Label Studio gives each copy to a different person);
4. **settle**: a task's overlap follows the copies it still holds; a task that holds none is closed (deleted in
   Label Studio unless every copy was answered there); an image URL close to its expiry is signed again.

What reaches Label Studio is the task's image URL, its frame id and its profile; never the machine's output (no
predictions, no boxes, no scores, no stratum). A person who opens a task and walks away holds Label Studio's task
lock for its TTL (the provisioned server's is the lease length), after which the task is offered to others; if
the bridge itself stops, its leases run out and the queue takes the tasks back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge

from services.api.queue import Lease
from services.api.queue_tools import ToolQueue
from services.labelstudio.client import LabelStudio
from services.labelstudio.exceptions import LabelStudioError, LabelStudioUnavailable
from services.labelstudio.ingest import BRIDGE, Ingest
from services.labelstudio.labeling import Labeling, profile_of
from services.labelstudio.signing import DEFAULT_VALID_S, image_url
from services.labelstudio.store import OpenTask, TaskMap

log = logging.getLogger(__name__)
WEBHOOK_ROUTE = "/v1/labelstudio/webhook"
SECRET_HEADER = "X-Shadowqa-Secret"
WEBHOOK_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED")
# tasks open and copies held are read from the database by the API (services/labelstudio/metrics.py)
UP = Gauge("shadowqa_labelstudio_up", "1 when the bridge's last round reached Label Studio, else 0")
ROUNDS = Counter("shadowqa_labelstudio_rounds", "Bridge rounds, by result", ["result"])
RELEASED = Counter("shadowqa_labelstudio_released", "Copies the bridge gave back to the queue, by reason",
                   ["reason"])
for _result in ("ok", "unavailable", "error"):
    ROUNDS.labels(result=_result)


@dataclass(frozen=True)
class BridgeConfig:
    """How the bridge works: where the browser gets images and Label Studio sends webhooks, and its pace."""

    api_url: str  # shadowqa's API as the browser and Label Studio reach it (images, webhook)
    secret: str = field(repr=False)  # signs image URLs and authenticates the webhook (the API has the same)
    lease_s: float = 300.0  # the bridge's leases, renewed each round while the task is open in Label Studio
    open_frames: int = 20  # frames open in Label Studio at once
    interval_s: float = 5.0
    signed_s: float = DEFAULT_VALID_S  # how long an image URL is valid; signed again at half-time
    webhook: bool = True  # register the webhook (off: the poll alone brings annotations)
    webhook_url: str | None = None  # the API as Label Studio's server reaches it (None: ``api_url``)


@dataclass
class Round:
    """What one round did."""

    renewed: int = 0
    relayed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    created: int = 0
    attached: int = 0
    closed: int = 0
    released: int = 0


class Bridge:
    """Moves tasks between ``queue`` and the Label Studio ``ls`` (see the module's docstring)."""

    def __init__(self, ls: LabelStudio, queue: ToolQueue, tasks: TaskMap, labelings: dict[str, Labeling],
                 config: BridgeConfig, clock: Callable[[], float] = time.time) -> None:
        self.ls, self.queue, self.tasks, self.labelings, self.config = ls, queue, tasks, labelings, config
        self.ingest = Ingest(queue, tasks, labelings, clock)
        self._clock = clock
        self._projects: dict[str, int] = {}

    # -- one round ------------------------------------------------------------------------------------------

    def round(self) -> Round:
        """Renew, reconcile, claim, settle (the module's docstring). Raises :class:`LabelStudioUnavailable` after
        renewing when Label Studio does not answer (the next round catches up)."""
        done = Round()
        self._renew(done)
        answered = self._reconcile(done)
        self._claim(done)
        self._settle(done, self._held(), answered)
        return done

    def _renew(self, done: Round) -> None:
        """Extend the leases of every copy the bridge holds (those that ran out are the queue's again)."""
        leases = self.queue.held_by(BRIDGE)
        done.renewed = len(self.queue.renew(BRIDGE, [lease.task_id for lease in leases], self.config.lease_s))

    def _held(self) -> dict[str, list[Lease]]:
        """The copies the bridge holds now, by frame."""
        now = self._clock()
        held: dict[str, list[Lease]] = defaultdict(list)
        for lease in self.queue.held_by(BRIDGE):
            if lease.lease_deadline >= now:
                held[lease.frame_id].append(lease)
        return held

    def _reconcile(self, done: Round) -> dict[int, int]:
        """Relay what each open task holds; the answers (not skips) each task has in Label Studio."""
        answered: dict[int, int] = {}
        by_project: dict[int, list[OpenTask]] = defaultdict(list)
        for task in self.tasks.open_tasks():
            by_project[task.project_id].append(task)
        for project, tasks in by_project.items():
            found = self.ls.tasks_from(project, min(t.ls_task_id for t in tasks))
            for task in tasks:
                ls_task = found.get(task.ls_task_id)
                if ls_task is None:
                    self._close(task, "deleted in Label Studio", done)
                    continue
                for relayed in self.ingest.task(ls_task, "poll"):
                    done.relayed[relayed.outcome] += 1
                answered[task.ls_task_id] = sum(1 for a in ls_task.get("annotations") or []
                                                if isinstance(a, dict) and not a.get("was_cancelled"))
        return answered

    def _claim(self, done: Round) -> None:
        open_tasks = {t.frame_id: t for t in self.tasks.open_tasks()}
        room = max(0, self.config.open_frames - len(open_tasks))
        fresh: list[list[Lease]] = []
        for group in self.queue.claim_frames(BRIDGE, room, self.config.lease_s, prefer=list(open_tasks)):
            if group[0].frame_id in open_tasks:
                done.attached += 1
            else:
                fresh.append(group)
        by_profile: dict[str, list[list[Lease]]] = defaultdict(list)
        for group in fresh:
            by_profile[profile_of(group[0].image)].append(group)
        for profile, groups in by_profile.items():
            self._create(profile, groups)
            done.created += len(groups)

    def _settle(self, done: Round, held: dict[str, list[Lease]], answered: dict[int, int]) -> None:
        now = self._clock()
        tasks = self.tasks.open_tasks()
        for task in tasks:
            copies = len(held.get(task.frame_id, []))
            if copies == 0:
                complete = answered.get(task.ls_task_id, 0) >= task.overlap
                if not complete:
                    self.ls.delete_task(task.ls_task_id)
                self.tasks.close(task.ls_task_id, "answered" if complete else "no copy held any more")
                done.closed += 1
                continue
            overlap = answered.get(task.ls_task_id, 0) + copies
            if overlap != task.overlap:
                self.ls.update_task(task.ls_task_id, {"overlap": overlap})
                self.tasks.update(task.ls_task_id, overlap=overlap)
            if task.signed_until - now < self.config.signed_s / 2:
                until = now + self.config.signed_s
                self.ls.update_task(task.ls_task_id, {"data": self._data(task.frame_id, task.image_task_id, until)})
                self.tasks.update(task.ls_task_id, signed_until=until)
        mapped = {task.frame_id for task in tasks}
        stray = [lease.task_id for frame, leases in held.items() if frame not in mapped for lease in leases]
        if stray:  # held but in no open task (the bridge stopped between the import and its record): back they go
            reason = "not open in Label Studio"
            released = self.queue.release(BRIDGE, stray, reason)
            RELEASED.labels(reason=reason).inc(len(released))
            done.released += len(released)

    def _close(self, task: OpenTask, reason: str, done: Round) -> None:
        """Close the task; its copies go back to the queue."""
        copies = [lease.task_id for lease in self.queue.held_by(BRIDGE) if lease.frame_id == task.frame_id]
        released = self.queue.release(BRIDGE, copies, reason)
        RELEASED.labels(reason=reason).inc(len(released))
        done.released += len(released)
        self.tasks.close(task.ls_task_id, reason)
        done.closed += 1
        log.info("Label Studio task %s (frame %s) %s: %d copies back in the queue", task.ls_task_id, task.frame_id,
                 reason, len(released))

    # -- Label Studio side ------------------------------------------------------------------------------------

    def _create(self, profile: str, groups: list[list[Lease]]) -> None:
        """One Label Studio task per frame (one import for them all), its overlap the frame's number of copies."""
        project = self.project(profile)
        until = self._clock() + self.config.signed_s
        ids = self.ls.import_tasks(project, [{"data": self._data(g[0].frame_id, g[0].task_id, until, profile)}
                                             for g in groups])
        for ls_task_id, group in zip(ids, groups, strict=True):
            if len(group) > 1:
                self.ls.update_task(ls_task_id, {"overlap": len(group)})
            self.tasks.add(OpenTask(ls_task_id=ls_task_id, project_id=project, frame_id=group[0].frame_id,
                                    image_task_id=group[0].task_id, overlap=len(group), signed_until=until))

    def _data(self, frame_id: str, image_task_id: str, until: float, profile: str | None = None) -> dict[str, Any]:
        """A task's ``data``: what Label Studio shows and keeps; nothing of the machine's answer."""
        data = {"image": image_url(self.config.api_url, self.config.secret, image_task_id, int(until)),
                "shadowqa_frame": frame_id}
        if profile is not None:
            data["shadowqa_profile"] = profile
        return data

    def project(self, profile: str) -> int:
        """The id of ``profile``'s project (made, with its webhook, the first time)."""
        if profile in self._projects:
            return self._projects[profile]
        labeling = self.labelings[profile]
        found = self.ls.project_by_title(labeling.title)
        if found is None:
            found = self.ls.create_project({
                "title": labeling.title, "label_config": labeling.config(),
                "description": f"shadowqa's blind sample of {profile} frames, kept by the bridge. Annotate what "
                               "you see; skip what you cannot; tasks come back to the queue when skipped.",
                "maximum_annotations": 1, "skip_queue": "REQUEUE_FOR_OTHERS", "show_skip_button": True,
                "show_collab_predictions": False, "evaluate_predictions_automatically": False,
                "enable_empty_annotation": True})
        elif found.get("label_config") != labeling.config():
            self.ls.update_project(int(found["id"]), {"label_config": labeling.config()})
        project = int(found["id"])
        if self.config.webhook:
            self._webhook(project)
        self._projects[profile] = project
        return project

    def _webhook(self, project: int) -> None:
        url = (self.config.webhook_url or self.config.api_url).rstrip("/") + WEBHOOK_ROUTE
        fields = {"project": project, "url": url, "send_payload": True, "send_for_all_actions": False,
                  "actions": list(WEBHOOK_ACTIONS), "headers": {SECRET_HEADER: self.config.secret},
                  "is_active": True}
        mine = [w for w in self.ls.webhooks(project) if w.get("url") == url]
        if mine:
            self.ls.update_webhook(int(mine[0]["id"]), fields)
        else:
            self.ls.create_webhook(fields)

    # -- running ----------------------------------------------------------------------------------------------

    def run(self, stop: threading.Event, say: Callable[[str], None] = log.info) -> None:
        """Rounds every ``interval_s`` until ``stop`` is set; Label Studio away or a failed round is logged and
        retried at the next round."""
        reached: bool | None = None
        while not stop.is_set():
            begin = time.monotonic()
            try:
                done = self.round()
            except LabelStudioUnavailable as exc:
                ROUNDS.labels(result="unavailable").inc()
                UP.set(0)
                if reached is not False:
                    say(f"Label Studio is away ({exc}); leases are kept, retrying every {self.config.interval_s:g} s")
                reached = False
            except (LabelStudioError, Exception) as exc:  # one bad round must not stop the bridge
                ROUNDS.labels(result="error").inc()
                log.exception("bridge round failed: %s", exc)
            else:
                ROUNDS.labels(result="ok").inc()
                UP.set(1)
                if reached is False:
                    say("Label Studio is back; catching up")
                reached = True
                if done.created or done.relayed or done.closed:
                    say(f"round: {done.created} new task(s), {dict(done.relayed)} relayed, {done.closed} closed, "
                        f"{done.renewed} lease(s) renewed")
            stop.wait(max(0.0, self.config.interval_s - (time.monotonic() - begin)))
