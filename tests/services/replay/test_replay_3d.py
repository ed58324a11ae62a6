"""The shadow loop over LiDAR sweeps (``shadowqa replay --dataset builtin:driving3d``): the 3D detector's cuboids
against simulated people's, judged by the 3D spec, with a gallery of the worst disagreements seen from above."""

from __future__ import annotations

import base64
import io
import json
import re
from typing import Any

import numpy as np
import pytest
from PIL import Image

from services.cli.main import main
from services.report.gallery import HUMAN, MACHINE

FRAMES, WINDOW = 60, 20


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("replay3d")
    code = main(["replay", "--dataset", "builtin:driving3d", "--frames", str(FRAMES), "--window", str(WINDOW),
                 "--seed", "4", "--strata", "weather", "--report", str(out), "--no-progress"])
    assert code == 0
    return json.loads((out / "summary.json").read_text()), (out / "report.html").read_text()


def test_the_summary_puts_the_estimate_beside_the_truth(replayed: tuple[dict[str, Any], str]) -> None:
    s, _ = replayed
    assert (s["dataset"], s["frames"]) == ("driving3d", FRAMES) and s["model_version"].startswith("driving3d-detector")
    est = s["estimated_population_acceptance"]
    assert est["n"] > 0 and est["lower"] <= est["estimate"] <= est["upper"]
    assert 0.0 < s["true_population_acceptance"] < 1.0
    assert sum(w["shipped"] + w["manual"] for w in s["windows"]) == FRAMES
    assert s["human_floor"]["true"] > 0.75  # two people agree on most sweeps under the 3D spec


def _tiles(html: str) -> list[Image.Image]:
    found = re.findall(r'<figure class="tile"><img src="data:image/png;base64,([^"]+)"', html)
    return [Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB") for data in found]


def test_the_gallery_shows_the_worst_sweeps_from_above_with_both_sides_cuboids(
        replayed: tuple[dict[str, Any], str]) -> None:
    _, html = replayed
    tiles = _tiles(html)
    assert tiles, "no gallery"
    for picture in tiles:
        pixels = np.asarray(picture).reshape(-1, 3)
        assert picture.size == (480, 480)
        assert (pixels == HUMAN).all(axis=1).sum() > 50 and (pixels == MACHINE).all(axis=1).sum() > 50  # both sides
        grey = (pixels[:, 0] == pixels[:, 1]) & (pixels[:, 1] == pixels[:, 2]) & (pixels[:, 0] > 40)
        assert grey.sum() > 1000  # the points
    assert "missed" in html and "Agreement per class and per stratum" in html and "Human floor" in html
