"""One report for every run: a short streaming run (``shadowqa pipeline run``), a replay and a replay of the
streaming run's snapshots (``replay --from-snapshot --report``) are opened in headless Chromium: the same
sections in the same order, every image loads, every figure has a picture and a caption.

With ``SHADOWQA_SCREENSHOTS=DIR`` set (``make screenshots``), the pages are also written to DIR as JPEG
screenshots (README links the committed ones in docs/img/).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.cli.main import main
from services.report.build import section_titles
from tests.utils.browser import chromium, evaluate_in_page, screenshot

pytestmark = pytest.mark.slow

SHADOWQA = Path(sys.executable).with_name("shadowqa")
FRAMES, WINDOW, TARGET = 400, 50, 0.6  # target 0.6: the confident part of the stream ships within a few windows
HANG_GUARD_S = 900  # only against a hang of the test itself; the run decides when to give up
PAGE = """(() => ({
  sections: Array.from(document.querySelectorAll('h2')).map(h => h.textContent),
  images: Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight]),
  figures: Array.from(document.querySelectorAll('figure')).map(f =>
      [f.querySelectorAll('img').length, (f.querySelector('figcaption') || {textContent: ''}).textContent.length]),
}))()"""


@pytest.fixture(scope="module")
def reports(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    env = {k: v for k, v in os.environ.items() if k != "SHADOWQA_DATABASE_URL"}  # the run's own SQLite file
    done = subprocess.run(
        [str(SHADOWQA), "pipeline", "run", "--frames", str(FRAMES), "--window", str(WINDOW), "--target", str(TARGET),
         "--report", str(out / "streaming"), "--lease-seconds", "2"],
        env=env, capture_output=True, text=True, timeout=HANG_GUARD_S, check=False)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    (out / "streaming" / "output.txt").write_text(done.stdout + done.stderr)
    assert main(["replay", "--dataset", "driving", "--frames", "600", "--window", "60", "--target", str(TARGET),
                 "--report", str(out / "replay"), "--no-progress"]) == 0
    assert main(["replay", "--from-snapshot", str(out / "streaming" / "snapshot"), "--window", str(WINDOW),
                 "--target", str(TARGET), "--report", str(out / "snapshot")]) == 0
    return {kind: out / kind / "report.html" for kind in ("streaming", "replay", "snapshot")}


def test_every_run_has_the_same_report_and_every_figure_loads(reports: dict[str, Path]) -> None:
    pages = {}
    with chromium() as port:
        for kind, page in reports.items():
            pages[kind] = evaluate_in_page(port, page, PAGE)
            if os.environ.get("SHADOWQA_SCREENSHOTS"):
                screenshot(port, page, Path(os.environ["SHADOWQA_SCREENSHOTS"]) / f"report-{kind}.jpg")
    expected = list(section_titles("frames"))
    for kind, page in pages.items():
        assert page["sections"] == expected, (kind, page["sections"])
        assert page["images"] and all(done and w > 100 and h > 100 for done, w, h in page["images"]), (kind, page)
        assert all(images == 1 and caption > 20 for images, caption in page["figures"]), (kind, page["figures"])
        assert len(page["figures"]) >= 5, (kind, page["figures"])  # the plots and at least one gallery picture
    gallery = {kind: _gallery(page.read_text()) for kind, page in reports.items()}
    assert all(n > 0 for n in gallery.values()), gallery


def test_the_streaming_report_says_where_its_numbers_come_from(reports: dict[str, Path]) -> None:
    html = reports["streaming"].read_text()
    for words in ("topic comparisons", "Dead letters", "waiting at each stage", "comparisons #1–50",
                  "audited shipped acceptance", "question: do the machine", "question: may the frames above τ"):
        assert words in html, words
    assert "in-process replay" in reports["replay"].read_text()


def test_without_a_terminal_the_run_prints_plain_status_lines(reports: dict[str, Path]) -> None:
    """Output on pipes (CI, a log file): periodic plain lines, no carriage return or escape code, then the summary."""
    output = (reports["streaming"].parent / "output.txt").read_text()
    assert "\r" not in output and "\x1b" not in output
    status = [line for line in output.splitlines() if line.startswith("frames in ")]
    assert len(status) >= 2  # a status while it ran, then the tally that opens the summary
    for start in ("machine acceptance over all frames: ", "recommendation: ",
                  "offline replay of the snapshots: equal to the online ", "finished in "):
        assert any(line.startswith(start) for line in output.splitlines()), start


def _gallery(html: str) -> int:
    return html.count('<figure class="tile">')
