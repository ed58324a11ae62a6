"""Label Studio's real labelling page in headless Chromium: annotators made through the signup form log in, label,
skip and share an overlap-2 task through the label stream, and the REST API holds what they did.

Starts a throwaway server (which installs Label Studio's venv and builds the template first if they are missing:
minutes, once), so the test never skips.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw

from services.infra.labelstudio import LabelStudioServer, throwaway
from tests.utils.labelstudio_accounts import Annotator, create_annotator
from tests.utils.labelstudio_browser import AnnotatorPage, ImageBox, chromium

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

LABEL_CONFIG = (
    '<View><Image name="image" value="$image"/>'
    '<RectangleLabels name="label" toName="image"><Label value="car"/><Label value="person"/></RectangleLabels>'
    '<Choices name="weather" toName="image" choice="single"><Choice value="clear"/><Choice value="rain"/></Choices>'
    '<Choices name="occluded" toName="image" perRegion="true" choice="single">'
    '<Choice value="true"/><Choice value="false"/></Choices></View>'
)
IMAGE_SIZE = (640, 480)  # shown zoomed ~4 % and shifted in the 1400x1000 window: the mapping must follow the image
CAR = ImageBox(x=20.0, y=25.0, width=30.0, height=40.0)
TOLERANCE = 2.0  # percent of the image's side


@contextlib.contextmanager
def png_server() -> Iterator[str]:
    """A PNG of :data:`IMAGE_SIZE` (a grey box where the car is drawn) at any path of a loopback URL, with CORS."""
    picture = Image.new("RGB", IMAGE_SIZE, (40, 90, 160))
    width, height = IMAGE_SIZE
    corners = (CAR.x * width / 100, CAR.y * height / 100,
               (CAR.x + CAR.width) * width / 100, (CAR.y + CAR.height) * height / 100)
    ImageDraw.Draw(picture).rectangle(corners, fill=(200, 200, 200))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    body = buffer.getvalue()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Access-Control-Allow-Origin", "*")  # the editor fetches the image with CORS
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/frames"
    finally:
        server.shutdown()
        server.server_close()


def _project(admin: httpx.Client, images: str) -> tuple[int, int, int]:
    """A project with two tasks, the first needing two annotations; (project, first task, second task)."""
    project = admin.post("/api/projects/", json={"title": "browser", "label_config": LABEL_CONFIG})
    project_id = int(project.raise_for_status().json()["id"])
    tasks = [{"image": f"{images}/f-{n}.png"} for n in (1, 2)]
    admin.post(f"/api/projects/{project_id}/import", json=tasks).raise_for_status()
    first, second = sorted(task["id"] for task in admin.get(f"/api/projects/{project_id}/tasks/").json())
    admin.patch(f"/api/tasks/{first}", json={"overlap": 2}).raise_for_status()
    return project_id, first, second


def _annotations(admin: httpx.Client, task: int) -> list[dict[str, Any]]:
    return list(admin.get(f"/api/tasks/{task}/annotations/").raise_for_status().json())


def _result(annotation: dict[str, Any], from_name: str) -> dict[str, Any]:
    [found] = [result for result in annotation["result"] if result["from_name"] == from_name]
    return dict(found)


def _assert_car_labelled(annotation: dict[str, Any], annotator: Annotator) -> None:
    box = _result(annotation, "label")
    assert box["value"]["rectanglelabels"] == ["car"]
    for side in ("x", "y", "width", "height"):
        assert box["value"][side] == pytest.approx(getattr(CAR, side), abs=TOLERANCE), side
    assert (box["original_width"], box["original_height"]) == IMAGE_SIZE
    assert _result(annotation, "weather")["value"]["choices"] == ["clear"]
    occluded = _result(annotation, "occluded")
    assert occluded["id"] == box["id"] and occluded["value"]["choices"] == ["true"]
    assert annotation["completed_by"] == annotator.user_id and not annotation["was_cancelled"]


def _label_car(page: AnnotatorPage) -> None:
    page.draw_rectangle("car", CAR)
    page.select_region()
    page.choose("true")
    page.choose("clear")


def test_annotators_label_skip_and_share_the_overlap_task() -> None:
    with throwaway() as server, png_server() as images, _admin(server) as admin, chromium() as browser:
        project, first, second = _project(admin, images)
        a, b = (create_annotator(server.url, server.token, email=f"{name}@example.com",
                                 password=f"{name}-labels-boxes") for name in ("anna", "ben"))
        anna = AnnotatorPage.login(browser, server.url, a.email, a.password)
        assert anna.open_stream(project) == first
        _label_car(anna)
        assert anna.submit() == second
        assert anna.skip() is None and anna.no_more_tasks()
        assert admin.get(f"/api/tasks/{first}").json()["is_labeled"] is False  # still wants a second annotation

        [by_anna] = _annotations(admin, first)
        _assert_car_labelled(by_anna, a)
        [skipped] = admin.get(f"/api/tasks/{second}").json()["annotations"]  # the list API hides cancelled ones
        assert skipped["was_cancelled"] is True and skipped["completed_by"]["id"] == a.user_id
        assert _annotations(admin, second) == []

        ben = AnnotatorPage.login(browser, server.url, b.email, b.password)
        assert ben.open_stream(project) == first  # the consensus copy
        ben.draw_rectangle("person", ImageBox(x=55.0, y=10.0, width=20.0, height=50.0))
        assert ben.submit() == second  # anna's skip went back to the queue for others
        assert anna.open_stream(project) is None
        assert {annotation["completed_by"] for annotation in _annotations(admin, first)} == {a.user_id, b.user_id}


@contextlib.contextmanager
def _admin(server: LabelStudioServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Token {server.token}"}, timeout=60) as client:
        yield client
