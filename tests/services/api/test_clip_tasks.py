"""Clip tasks through the API: the task view lists the clip's frames with their image URLs; a submission carries the
person's objects frame by frame with track ids, checked against the clip, stored, and published as the clip's
annotation (``ManualAnnotation.clip_frames``)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.db.engine import session_factory
from services.db.mappers import annotation_message, task_message
from services.engine.frame_refs import sequence_ref
from services.engine.sources import open_source
from services.loop.messages import ManualTask, decode, encode, task_id
from services.replay.clip_people import clip_people
from services.tools.clip_answers import clip_submission
from tests.services.api.helpers import COCO_BODY, T0, add_tasks, answers, manual_task, task, token

LENGTH = 4
BOX = {"bbox": [10.0, 20.0, 30.0, 12.0], "category_id": 1}


def clip_task(video: int = 2, copy: int = 1) -> ManualTask:
    """Copy ``copy`` of the task of clip ``video`` of seed 0's clips of LENGTH frames (real frame references)."""
    clip = video - 1
    indices = [clip * LENGTH + k for k in range(LENGTH)]
    frames = [{"frame_id": f"driving-seq-s0-{i:06d}", "image": sequence_ref(0, LENGTH, i), "frame_index": k}
              for k, i in enumerate(indices)]
    fid = f"clip-{video}"
    return ManualTask.model_validate({
        "task_id": task_id(fid, copy), "frame_id": fid, "seq": video, "image": frames[0]["image"], "copy": copy,
        "inclusion_prob": 1.0, "consensus_prob": 0.0, "policy_version": 0, "copies": 1, "stratum": "all",
        "time": T0, "clip": {"video_id": video, "frames": frames}})


def _claim(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    r = client.post("/v1/tasks/claim", headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _answer(*frames: tuple[int, list[int]]) -> dict[str, Any]:
    clip_frames = [{"frame_index": k, "annotations": [{**BOX, "track_id": t} for t in tracks]} for k, tracks in frames]
    return {"annotations": [], "clip_frames": clip_frames, "tags": {"weather": "rain"}}


def test_a_clip_task_lists_its_frames_with_image_urls_that_serve_them(client: TestClient, engine: Engine) -> None:
    add_tasks(engine, [clip_task()])
    who = token(engine, "ann", "annotator")
    view = _claim(client, who)
    assert (view["task_id"], view["frame_id"], view["video_id"]) == ("clip-2/1", "clip-2", 2)
    assert [f["frame_index"] for f in view["frames"]] == list(range(LENGTH))
    assert [f["image_ref"] for f in view["frames"]] == [sequence_ref(0, LENGTH, LENGTH + k) for k in range(LENGTH)]
    assert view["frames"][0]["frame_id"] == "driving-seq-s0-000004"
    for f in view["frames"][:2]:
        assert f["image_url"].endswith(f"/v1/tasks/clip-2/1/frames/{f['frame_index']}/image")
        r = client.get(f["image_url"], headers=who)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert client.get("/v1/tasks/clip-2/1/frames/9/image", headers=who).status_code == 422
    assert client.get(view["frames"][0]["image_url"], headers=token(engine, "other", "annotator")).status_code == 404


def test_a_frame_task_has_no_frames(client: TestClient, engine: Engine) -> None:
    add_tasks(engine, [manual_task(1)])
    view = _claim(client, token(engine, "ann", "annotator"))
    assert view["frames"] is None and view["video_id"] is None


def test_a_clip_answer_is_stored_and_published_with_its_track_ids(client: TestClient, engine: Engine) -> None:
    (tid,) = add_tasks(engine, [clip_task()])
    who = token(engine, "ann", "annotator")
    _claim(client, who)
    r = client.post(f"/v1/tasks/{tid}/submit", headers=who, json=_answer((0, [7, 8]), (1, [7]), (3, [])))
    assert r.status_code == 200, r.text
    with session_factory(engine)() as s:
        (row,) = answers(s)
        message = annotation_message(row, task(s, tid))
        assert task_message(task(s, tid)) == clip_task()
    assert message.objects == [] and message.clip_frames is not None
    assert [(f.frame_index, [o.track_id for o in f.objects]) for f in message.clip_frames] == [
        (0, [7, 8]), (1, [7]), (3, [])]
    assert decode(type(message), encode(message)) == message


@pytest.mark.parametrize(("body", "says"), [
    (_answer((LENGTH, [1])), "frame_index 4 outside the clip's 4 frames"),
    (_answer((1, [1]), (1, [2])), "each frame_index at most once"),
    (COCO_BODY, "a clip's task takes clip_frames"),
], ids=["index-outside-the-clip", "index-twice", "a-frame-answer"])
def test_a_clip_answer_that_does_not_fit_the_clip_is_refused(client: TestClient, engine: Engine,
                                                             body: dict[str, Any], says: str) -> None:
    (tid,) = add_tasks(engine, [clip_task()])
    who = token(engine, "ann", "annotator")
    _claim(client, who)
    r = client.post(f"/v1/tasks/{tid}/submit", headers=who, json=body)
    assert r.status_code == 422 and says in r.json()["detail"], r.text
    with session_factory(engine)() as s:
        assert answers(s) == []


@pytest.mark.parametrize(("body", "field"), [
    ({"annotations": [], "clip_frames": [{"frame_index": 0, "annotations": [BOX]}]}, "track_id"),
    ({"annotations": [], "clip_frames": [{"frame_index": 0, "annotations": [{**BOX, "track_id": -1}]}]}, "track_id"),
    ({"annotations": [], "clip_frames": [{"frame_index": -1, "annotations": []}]}, "frame_index"),
    ({**_answer((0, [1])), "annotations": [BOX]}, "not both"),
], ids=["no-track-id", "negative-track-id", "negative-index", "frames-and-objects"])
def test_a_clip_answer_without_track_ids_is_refused_at_the_door(client: TestClient, engine: Engine,
                                                                body: dict[str, Any], field: str) -> None:
    (tid,) = add_tasks(engine, [clip_task()])
    who = token(engine, "ann", "annotator")
    _claim(client, who)
    r = client.post(f"/v1/tasks/{tid}/submit", headers=who, json=body)
    assert r.status_code == 422 and field in r.text, r.text


def test_a_frame_task_refuses_clip_frames(client: TestClient, engine: Engine) -> None:
    (tid,) = add_tasks(engine, [manual_task(1)])
    who = token(engine, "ann", "annotator")
    _claim(client, who)
    r = client.post(f"/v1/tasks/{tid}/submit", headers=who, json=_answer((0, [1])))
    assert r.status_code == 422 and "a frame's task takes annotations" in r.json()["detail"], r.text


def test_the_simulated_team_answers_a_clip_task_as_the_in_process_people_do(client: TestClient,
                                                                            engine: Engine) -> None:
    (tid,) = add_tasks(engine, [clip_task(video=2)])
    who = token(engine, "ann", "annotator")
    body = clip_submission(_claim(client, who), seed=3)
    truth = open_source(f"synthetic://driving-seq?seed=0&clips=2&length={LENGTH}").ground_truth()
    assert truth is not None
    expected = clip_people(truth, seed=3)(clip_task(video=2))
    assert expected.clip_frames is not None and any(f.objects for f in expected.clip_frames)
    assert client.post(f"/v1/tasks/{tid}/submit", headers=who, json=body).status_code == 200
    with session_factory(engine)() as s:
        (row,) = answers(s)
        answer = annotation_message(row, task(s, tid))
    assert answer.clip_frames == expected.clip_frames and answer.tags == expected.tags
