"""Point-cloud tasks through the API: the task view points at the cloud, served as binary PCD v0.7 (the frame's
points exactly); the image route names the PCD route; a submission of cuboids is stored and published as tagged
``cuboid3d`` geometry, and the simulated team answers with the in-process people's cuboids."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.datasets import driving3d
from services.db.engine import session_factory
from services.db.mappers import annotation_message, task_row
from services.engine.frame_refs import driving3d_ref, frame_truth
from services.io.pcd import parse_pcd
from services.loop.messages import ManualTask, decode, encode, task_id
from services.replay.annotators import HumanErrorModel
from services.tools.annotators import annotate_truth
from services.tools.api_annotators import submitted
from tests.services.api.helpers import T0, add, answers, manual_task, task, token

CUBOID = {"type": "cuboid3d", "centre": [15.3, -3.36, 0.77], "size": [3.92, 1.85, 1.54], "yaw": 0.04,
          "frame": "vehicle-iso8855"}


def cloud_task(index: int = 3, seed: int = 0) -> ManualTask:
    fid = f"driving3d-s{seed}-{index:06d}"
    return ManualTask.model_validate({
        "task_id": task_id(fid, 1), "frame_id": fid, "seq": index + 1, "image": driving3d_ref(seed, index),
        "copy": 1, "inclusion_prob": 1.0, "consensus_prob": 0.0, "policy_version": 0, "stratum": "all", "time": T0})


def _claim(client: TestClient, who: dict[str, str]) -> dict[str, Any]:
    r = client.post("/v1/tasks/claim", headers=who)
    assert r.status_code == 200, r.text
    view: dict[str, Any] = r.json()
    return view


def test_a_point_cloud_task_is_served_as_binary_pcd_of_the_frames_points(client: TestClient, engine: Engine) -> None:
    add(engine, [task_row(cloud_task())])
    who = token(engine, "ann", "annotator")
    view = _claim(client, who)
    assert view["image_url"] is None and view["points_url"].endswith("/v1/tasks/driving3d-s0-000003/1/points.pcd")
    r = client.get(view["points_url"], headers=who)
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    assert r.content.startswith(b"# .PCD v0.7") and b"\nDATA binary\n" in r.content
    assert 'filename="driving3d-s0-000003.pcd"' in r.headers["content-disposition"]
    assert np.array_equal(parse_pcd(r.content, "response"), driving3d.render_frame(0, 3).points)
    assert client.get(view["points_url"], headers=token(engine, "other", "annotator")).status_code == 404


def test_the_image_route_of_a_point_cloud_names_its_pcd_route_and_the_other_way_round(client: TestClient,
                                                                                      engine: Engine) -> None:
    add(engine, [task_row(cloud_task()), task_row(manual_task(1))])
    people = [token(engine, name, "annotator") for name in ("ann", "bob")]
    views = {v["task_id"]: (v, who) for who in people for v in [_claim(client, who)]}
    cloud, who = views["driving3d-s0-000003/1"]
    r = client.get(f"/v1/tasks/{cloud['task_id']}/image", headers=who)
    assert r.status_code == 422 and "point cloud, not an image" in r.text and cloud["points_url"] in r.text, r.text
    image, who = next(v for k, v in views.items() if not k.startswith("driving3d"))
    assert image["points_url"] is None and image["image_url"].endswith("/image")
    r = client.get(f"/v1/tasks/{image['task_id']}/points.pcd", headers=who)
    assert r.status_code == 422 and "an image, not a point cloud" in r.text, r.text


def test_a_submission_of_cuboids_is_stored_and_published_as_cuboid3d(client: TestClient, engine: Engine) -> None:
    tid = cloud_task().task_id
    add(engine, [task_row(cloud_task())])
    who = token(engine, "ann", "annotator")
    _claim(client, who)
    body = {"annotations": [{"geometry": CUBOID, "category_id": 1}], "tags": {"weather": "clear"}}
    assert client.post(f"/v1/tasks/{tid}/submit", headers=who, json=body).status_code == 200
    with session_factory(engine)() as s:
        (row,) = answers(s)
        message = annotation_message(row, task(s, tid))
    (obj,) = message.objects
    assert obj.geometry.kind == "cuboid3d" and obj.geometry.wire() == CUBOID
    assert decode(type(message), encode(message)) == message


def test_a_cuboid_that_is_not_one_is_refused_naming_the_field(client: TestClient, engine: Engine) -> None:
    add(engine, [task_row(cloud_task())])
    who = token(engine, "ann", "annotator")
    _claim(client, who)
    bad = {**CUBOID, "size": [3.9, -1.0, 1.5]}
    r = client.post(f"/v1/tasks/{cloud_task().task_id}/submit", headers=who,
                    json={"annotations": [{"geometry": bad, "category_id": 1}]})
    assert r.status_code == 422 and "size" in r.text, r.text


def test_the_simulated_team_submits_the_in_process_peoples_cuboids(client: TestClient, engine: Engine) -> None:
    tid = cloud_task().task_id
    add(engine, [task_row(cloud_task())])
    who = token(engine, "ann", "annotator")
    view = _claim(client, who)
    objects, tags = annotate_truth(frame_truth(view["image_ref"]), 3, 1, HumanErrorModel())
    assert objects and all(o.geometry.kind == "cuboid3d" for o in objects)
    body = {"annotations": [submitted(o) for o in objects], "tags": tags}
    assert client.post(f"/v1/tasks/{tid}/submit", headers=who, json=body).status_code == 200
    with session_factory(engine)() as s:
        (row,) = answers(s)
        assert annotation_message(row, task(s, tid)).objects == objects
