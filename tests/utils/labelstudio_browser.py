"""Label Studio 1.23.2's real labelling page, driven in Debian's headless Chromium with Playwright.

An :class:`AnnotatorPage` logs in as one account (a browser context of its own), opens a project's label stream
("Label All Tasks", which takes task locks like a person's click does), draws rectangles, picks choices, submits
and skips. Every step waits on what the page shows or on the server's answer, never for a fixed time.

Selectors were checked against 1.23.2: the editor's classes (``lsf-*``), the bottom bar's ``data-testid`` buttons,
and the stream's ``POST /api/dm/actions?id=next_task`` (200 with the task, 404 when the queue is empty).
Tasks are assumed to show one image (one ``<Image>`` tag).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, Response, ViewportSize, expect, sync_playwright

STEP_TIMEOUT_MS = 60_000  # per step; a busy machine renders the editor slowly
CHROMIUM_BINARY = Path("/usr/lib/chromium/chromium")  # Debian's real binary; /usr/bin/chromium is a shell wrapper
VIEWPORT: ViewportSize = {"width": 1400, "height": 1000}  # room for the image beside the editor's side panels
NO_MORE_TASKS = "No More Tasks Left in Queue"
SUBMIT = "[data-testid=bottombar-submit-button]"
SKIP = "[data-testid=bottombar-skip-button]"
REGION = ".lsf-outliner-item"
SELECTED_REGION = ".lsf-tree-treenode-selected .lsf-outliner-item"
TOAST = "[role=region][aria-label^=Notifications] li[data-state=open]"
_ANNOTATION_POST = re.compile(r"/api/tasks/(\d+)/annotations/?(\?|$)")
# true once the task's image is decoded, differs from the previous task's and kept its place for one poll: the
# editor zooms and shifts the image after it loads (a 640x480 image in a 1010x758 stage was shown 4 % larger)
_IMAGE_SETTLED = """previous => {
  const img = document.querySelector('.lsf-image img');
  if (!img || !document.querySelector('.konvajs-content') || !img.complete || !img.naturalWidth) return false;
  if (img.src === previous) return false;
  const r = img.getBoundingClientRect();
  const key = [img.src, r.x, r.y, r.width, r.height].join(' ');
  const settled = window.__shadowqaImage === key;
  window.__shadowqaImage = key;
  return settled && r.width > 0 && r.height > 0;
}"""


class LabelingPageError(AssertionError):
    """Raised when the labelling page does not reach the state a step expects (login refused, region off-screen)."""


@dataclass(frozen=True)
class ImageBox:
    """A rectangle in percent of the image's width and height, like Label Studio's rectangle results."""

    x: float
    y: float
    width: float
    height: float


def chromium_executable() -> str:
    """Debian's Chromium binary, or whatever ``chromium`` is on the PATH."""
    if CHROMIUM_BINARY.is_file():
        return str(CHROMIUM_BINARY)
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError("chromium is not installed; `make test` installs Debian's package "
                           "(scripts/system-packages.sh)")
    return found


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium under Playwright, closed afterwards; annotators each get a context of their own."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable(), headless=True)
        try:
            yield browser
        finally:
            browser.close()


class AnnotatorPage:
    """One annotator's labelling session in ``browser``; :attr:`task_id` is the task the editor shows, if any."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url.rstrip("/")
        self.task_id: int | None = None

    @classmethod
    def login(cls, browser: Browser, url: str, email: str, password: str) -> AnnotatorPage:
        """Log in through the login form in a fresh browser context (its own cookies)."""
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(STEP_TIMEOUT_MS)
        session = cls(context.new_page(), url)
        page = session.page
        page.goto(f"{session.url}/user/login/")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        with page.expect_navigation(wait_until="commit"):  # the redirect; the page it loads is not needed
            page.get_by_role("button", name="Log In").click()
        if "/user/login" in page.url:
            raise LabelingPageError(f"Label Studio refused the login of {email}")
        return session

    def close(self) -> None:
        """Close this annotator's browser context (the server keeps its task lock until it expires)."""
        self.page.context.close()

    def open_stream(self, project_id: int) -> int | None:
        """Click the project's "Label All Tasks"; the task the stream opened, or None when none is left."""
        self.page.goto(f"{self.url}/projects/{project_id}/data", wait_until="domcontentloaded")
        return self._advance(lambda: self.page.get_by_role("button", name="Label All Tasks").click())

    def no_more_tasks(self) -> bool:
        """Whether the page says the queue is empty for this annotator."""
        return self.page.get_by_text(NO_MORE_TASKS, exact=True).is_visible()

    def draw_rectangle(self, label: str, box: ImageBox) -> None:
        """Pick ``label`` and drag a rectangle over ``box`` of the image; returns once the region is listed."""
        self._unselect_regions()
        self._pick_label(label)
        start, end = self._on_screen(box.x, box.y), self._on_screen(box.x + box.width, box.y + box.height)
        regions = self.page.locator(REGION)
        count = regions.count()
        mouse = self.page.mouse
        mouse.move(*start)
        mouse.down()
        mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=5)
        mouse.move(*end, steps=5)
        mouse.up()
        expect(regions).to_have_count(count + 1)
        expect(regions.last).to_contain_text(label)

    def select_region(self, index: int = -1) -> None:
        """Select the ``index``-th listed region (the newest by default), which shows its per-region controls."""
        regions = self.page.locator(REGION)
        count = regions.count()
        if not -count <= index < count:
            raise LabelingPageError(f"no region {index} among the {count} listed")
        self._unselect_regions()  # a click on a selected region would unselect it
        regions.nth(index % count).click()
        expect(self.page.locator(SELECTED_REGION)).to_have_count(1)

    def choose(self, value: str) -> None:
        """Tick the shown choice ``value`` (per-region choices show only while their region is selected)."""
        shown = ".lsf-choices:not(.lsf-choices_hidden) label.lsf-choice__checkbox"
        option = self.page.locator(f"{shown}:has(input[name={json.dumps(value)}])")
        if option.count() != 1:
            raise LabelingPageError(f"{option.count()} shown choices named {value!r}; select the region first, "
                                    "or the value is ambiguous across choice groups")
        if not option.locator("input").is_checked():
            option.click()  # a click on a ticked choice would untick it
        expect(option.locator("input")).to_be_checked()

    def submit(self) -> int | None:
        """Submit the open task; the next task the stream opened, or None when none is left."""
        return self._save(SUBMIT, cancelled=False)

    def skip(self) -> int | None:
        """Skip the open task (the server stores a cancelled annotation); the next task, or None."""
        return self._save(SKIP, cancelled=True)

    def _save(self, button: str, *, cancelled: bool) -> int | None:
        if self.task_id is None:
            raise LabelingPageError("no task is open")
        task = self.task_id
        self._dismiss_toasts()
        with self.page.expect_response(lambda r: _is_annotation_post(r, task)) as saved:
            following = self._advance(lambda: self.page.locator(button).click())
        body: dict[str, Any] = saved.value.json()
        if saved.value.status != 201 or bool(body.get("was_cancelled")) is not cancelled:
            raise LabelingPageError(f"saving task {task} answered {saved.value.status}: {str(body)[:300]}")
        return following

    def _advance(self, action: Callable[[], None]) -> int | None:
        """Run ``action``, which makes the stream fetch a task; wait until that task (or the end) is shown."""
        previous = self._image_src()
        with self.page.expect_response(_is_next_task) as fetched:
            action()
        response = fetched.value
        if response.status == 404:
            self.task_id = None
            expect(self.page.get_by_text(NO_MORE_TASKS, exact=True)).to_be_visible()
            return None
        if response.status != 200:
            raise LabelingPageError(f"the stream's next task answered {response.status}: {response.text()[:300]}")
        self.task_id = int(response.json()["id"])
        shown = self.page.locator(".lsf-current-task__task-id")  # its text: "<id>", then "<n> of <total>" below
        expect(shown).to_contain_text(re.compile(rf"^{self.task_id}(\s|$)"), use_inner_text=True)
        self.page.wait_for_function(_IMAGE_SETTLED, arg=previous, polling=100)
        return self.task_id

    def _image_src(self) -> str | None:
        image = self.page.locator(".lsf-image img")
        return image.get_attribute("src") if image.count() == 1 else None

    def _dismiss_toasts(self) -> None:
        """Close the last save's toast: it covers the bottom bar's buttons for about 4 s."""
        toasts = self.page.locator(TOAST)
        # a script click: a toast that closes by itself meanwhile would leave a real click waiting
        toasts.locator("button").evaluate_all("buttons => buttons.forEach(button => button.click())")
        expect(toasts).to_have_count(0)

    def _unselect_regions(self) -> None:
        selected = self.page.locator(SELECTED_REGION)
        if selected.count():
            self.page.keyboard.press("Escape")
            expect(selected).to_have_count(0)

    def _pick_label(self, label: str) -> None:
        text = self.page.locator(".lsf-label__text", has_text=re.compile(rf"^{re.escape(label)}$"))
        button = self.page.locator(".lsf-labels .lsf-label", has=text)
        if button.count() != 1:
            raise LabelingPageError(f"{button.count()} labels named {label!r} on the page")
        if "lsf-label_selected" not in (button.get_attribute("class") or "").split():
            button.click()  # a click on a selected label would unselect it
        expect(button).to_have_class(re.compile(r"\blsf-label_selected\b"))

    def _on_screen(self, x_percent: float, y_percent: float) -> tuple[float, float]:
        """The page point of an image point, through the image's shown box; it must lie on the drawing stage."""
        image = self.page.locator(".lsf-image img").bounding_box()
        stage = self.page.locator(".konvajs-content").bounding_box()
        if image is None or stage is None:
            raise LabelingPageError("the task's image is not shown")
        x = image["x"] + image["width"] * x_percent / 100
        y = image["y"] + image["height"] * y_percent / 100
        inside_x = stage["x"] <= x <= stage["x"] + stage["width"]
        if not (inside_x and stage["y"] <= y <= stage["y"] + stage["height"]):
            raise LabelingPageError(f"image point ({x_percent} %, {y_percent} %) is outside the visible stage")
        return x, y


def _is_next_task(response: Response) -> bool:
    return response.request.method == "POST" and "/api/dm/actions" in response.url and "id=next_task" in response.url


def _is_annotation_post(response: Response, task_id: int) -> bool:
    found = _ANNOTATION_POST.search(response.url)
    return response.request.method == "POST" and found is not None and int(found.group(1)) == task_id
