"""The annotation queue, as the annotator who holds the leases sees it: claim, look, heartbeat, submit, skip.

A task's frame is looked at as PNG (``image``) or, a point cloud, as binary PCD v0.7 (``points.pcd``); the task
view gives the URL of the one its frame has.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from services.api import metrics
from services.api.deps import Annotator, ApiDep
from services.api.errors import invalid
from services.api.frames import PCD_MEDIA_TYPE, pcd_of, png, png_of, point_cloud
from services.api.queue import Lease
from services.api.schemas import Skip, Submission, Submitted, TaskFrame, TaskView
from services.api.state import Api
from services.loop.messages.fields import TaskId

__all__ = ["png", "router"]  # png: the Label Studio routes serve images as these do

router = APIRouter(prefix="/v1/tasks", tags=["queue"])
TaskIdPath = Annotated[TaskId, Path()]
NOT_YOURS: dict[int | str, dict[str, Any]] = {404: {"description": "not your task"}}
LEASE_GONE: dict[int | str, dict[str, Any]] = {**NOT_YOURS, 409: {"description": "the lease ran out"}}


def view(api: Api, lease: Lease, request: Request) -> TaskView:
    clip = lease.clip
    frames = None if clip is None else [
        TaskFrame(frame_index=f["frame_index"], frame_id=f["frame_id"], image_ref=f["image"],
                  image_url=str(request.url_for("task_frame_image", task_id=lease.task_id, index=f["frame_index"])))
        for f in clip["frames"]]
    cloud = point_cloud(lease.image)
    return TaskView(task_id=lease.task_id, frame_id=lease.frame_id, copy_number=lease.copy,
                    stratum=lease.stratum, image_ref=lease.image,
                    image_url=None if cloud else str(request.url_for("task_image", task_id=lease.task_id)),
                    points_url=str(request.url_for("task_points", task_id=lease.task_id)) if cloud else None,
                    lease_deadline=lease.lease_deadline, lease_seconds=api.config.lease_s,
                    video_id=None if clip is None else clip["video_id"], frames=frames)


@router.post("/claim", response_model=TaskView,
             responses={204: {"description": "no task is waiting for you"},
                        409: {"description": "you hold as many tasks as allowed"}})
def claim(who: Annotator, request: Request, api: ApiDep) -> Any:
    lease = api.queue.claim(who.name)
    if lease is None:
        return Response(status_code=204)
    metrics.CLAIMED.labels(api.person(who.name)).inc()
    return view(api, lease, request)


@router.get("")
def my_tasks(who: Annotator, request: Request, api: ApiDep) -> list[TaskView]:
    return [view(api, lease, request) for lease in api.queue.mine(who.name)]


@router.get("/{task_id:path}/frames/{index}/image", name="task_frame_image", response_class=Response,
            responses={200: {"content": {"image/png": {}}}, **NOT_YOURS})
def task_frame_image(task_id: TaskIdPath, index: Annotated[int, Path(ge=0)], who: Annotator,
                     api: ApiDep) -> Response:
    """Frame ``index`` (0-based) of a clip task."""
    clip = api.queue.held(who.name, task_id).clip
    frames = {} if clip is None else {f["frame_index"]: f["image"] for f in clip["frames"]}
    if index not in frames:
        raise invalid(["path", "index"], "not a frame of the task's clip" if clip else "the task is a frame's, "
                      "not a clip's")
    return _image(frames[index])


@router.get("/{task_id:path}/image", name="task_image", response_class=Response,
            responses={200: {"content": {"image/png": {}}}, **NOT_YOURS})
def task_image(task_id: TaskIdPath, who: Annotator, request: Request, api: ApiDep) -> Response:
    """The task's frame as PNG (a point-cloud frame: 422 naming its ``points.pcd``)."""
    ref = api.queue.held(who.name, task_id).image
    if point_cloud(ref):
        raise invalid(["path", "task_id"], "the task's frame is a point cloud, not an image: GET "
                      f"{request.url_for('task_points', task_id=task_id)} (binary PCD v0.7)")
    return _image(ref)


@router.get("/{task_id:path}/points.pcd", name="task_points", response_class=Response,
            responses={200: {"content": {PCD_MEDIA_TYPE: {}}, "description": "binary PCD v0.7: fields x y z "
                             "intensity, each a little-endian float32; metres"}, **NOT_YOURS})
def task_points(task_id: TaskIdPath, who: Annotator, request: Request, api: ApiDep) -> Response:
    """The task's point cloud as a binary PCD v0.7 file (an image frame: 422 naming its ``image``)."""
    lease = api.queue.held(who.name, task_id)
    if not point_cloud(lease.image):
        raise invalid(["path", "task_id"], "the task's frame is an image, not a point cloud: GET "
                      f"{request.url_for('task_image', task_id=task_id)}")
    name = lease.frame_id.replace('"', "")
    return Response(pcd_of(lease.image), media_type=PCD_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}.pcd"'})


def _image(ref: str) -> Response:
    return Response(png_of(ref), media_type="image/png")


@router.post("/{task_id:path}/heartbeat", responses=LEASE_GONE)
def heartbeat(task_id: TaskIdPath, who: Annotator, request: Request, api: ApiDep) -> TaskView:
    return view(api, api.queue.heartbeat(who.name, task_id), request)


@router.post("/{task_id:path}/submit", responses=LEASE_GONE)
def submit(task_id: TaskIdPath, body: Submission, who: Annotator, api: ApiDep) -> Submitted:
    row = api.queue.submit(who.name, task_id, [a.annotated() for a in body.annotations], body.tags,
                           body.annotated_frames())
    metrics.SUBMITTED.labels(api.person(who.name)).inc()
    return Submitted(task_id=task_id, annotator=who.name, submitted_at=row.submitted_at)


@router.post("/{task_id:path}/skip", status_code=204, response_class=Response, responses=LEASE_GONE)
def skip(task_id: TaskIdPath, body: Skip, who: Annotator, api: ApiDep) -> Response:
    api.queue.skip(who.name, task_id, body.reason)
    metrics.SKIPPED.labels(api.person(who.name)).inc()
    return Response(status_code=204)


@router.get("/{task_id:path}", responses=NOT_YOURS)
def my_task(task_id: TaskIdPath, who: Annotator, request: Request, api: ApiDep) -> TaskView:
    return view(api, api.queue.held(who.name, task_id), request)
