"""``shadowqa engine eval --pipeline --clip-spec``: each clip accepted or not at each step, with the reasons, and
the share of clips accepted per step, overall and per stratum; a broken tracker flips a clip to rejected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from analysis.sampling.strata import stratum_of
from services.cli.main import main
from services.datasets.driving.builtin_specs import BUILTIN
from services.engine.chain.clip_acceptance import load_clip_spec
from services.engine.chain.registry import register, unregister
from tests.services.engine.chain.test_evaluate import ShuffledTrack, TruthDetect, reference_doc

SMALL = "synthetic://driving-seq?seed=2027&clips=2&length=20"
EXAMPLE = BUILTIN["builtin:driving-clips"]
KINDS = {"clip-test-shuffled-track": ShuffledTrack, "clip-test-truth-detect": TruthDetect}
CLIP_SPEC = {"tracks": {"max_id_switches": 2, "min_idf1": 0.5}, "frames": "driving", "min_frames_accepted": 0.8}


@pytest.fixture(scope="module", autouse=True)
def kinds() -> Iterator[None]:
    for name, kind in KINDS.items():
        register(name)(kind)
    yield
    for name in KINDS:
        unregister(name)


def write(path: Path, doc: Any) -> Path:
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clip-acceptance")


def judged(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["engine", "eval", *argv, "--json", "--no-progress"]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def test_the_reference_chain_judged_per_clip_and_step_in_json(folder: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    pipeline, spec = write(folder / "driving.yaml", reference_doc()), write(folder / "clips.yaml", CLIP_SPEC)
    doc = judged(["--pipeline", str(pipeline), "--images", SMALL, "--clip-spec", str(spec),
                  "--out", str(folder / "run")], capsys)
    acc = doc["clip_acceptance"]
    assert acc["spec"]["tracks"] == CLIP_SPEC["tracks"] and acc["spec"]["min_frames_accepted"] == 0.8
    assert acc["spec"]["frames"]["min_height"] == 12 and acc["spec"]["frames"]["max_missed"] == 1
    assert [c["video_id"] for c in acc["clips"]] == [c["video_id"] for c in doc["clips"]] == [1, 2]
    for clip in acc["clips"]:
        assert clip["stratum"].startswith("weather=") and ",time_of_day=" in clip["stratum"]
        assert [s["name"] for s in clip["steps"]] == ["detect", "track", "post"]
        detect, *tracked = clip["steps"]
        assert detect["metrics"] is None and not detect["accepted"]
        assert detect["reasons"][0] == "no track ids to judge max_id_switches, min_idf1 on"
        for step in clip["steps"]:
            assert step["frames"] == 20 and 0 <= step["frames_accepted"] <= 20
            assert step["accepted"] == (not step["reasons"])
        for step in tracked:
            assert step["metrics"]["id_switches"] >= 0 and 0 <= step["metrics"]["idf1"] <= 1
    for name, share in acc["overall"].items():
        clips = [c for c in acc["clips"] if next(s for s in c["steps"] if s["name"] == name)["accepted"]]
        assert share == {"accepted": len(clips), "clips": 2, "share": len(clips) / 2}
    assert set(acc["strata"]) == {c["stratum"] for c in acc["clips"]}
    assert sum(s["post"]["clips"] for s in acc["strata"].values()) == 2


def test_the_text_report_and_a_finished_run(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = main(["engine", "eval", "--pipeline", str(folder / "driving.yaml"), "--snapshot", str(folder / "run"),
                 "--clip-spec", str(EXAMPLE)])
    text = capsys.readouterr().out
    assert code == 0 and "clip acceptance under max_id_switches 2, min_idf1 0.5" in text
    assert "clips accepted per step" in text and text.count("\nclip 1 (weather=") == 1
    without = judged(["--pipeline", str(folder / "driving.yaml"), "--snapshot", str(folder / "run")], capsys)
    assert "clip_acceptance" not in without  # no --clip-spec: today's report


def truth_chain(track_kind: str) -> dict[str, Any]:
    doc = reference_doc()
    doc["steps"][0] = {"name": "detect", "kind": "clip-test-truth-detect"}
    doc["steps"][1]["kind"] = track_kind
    return doc


def test_breaking_the_tracker_flips_a_clip_to_rejected(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(folder / "tracks-only.yaml", {"tracks": CLIP_SPEC["tracks"]})
    verdicts = {}
    for kind in ("track", "clip-test-shuffled-track"):
        pipeline = write(folder / f"{kind}.yaml", truth_chain(kind))
        doc = judged(["--pipeline", str(pipeline), "--images", SMALL, "--clip-spec", str(spec)], capsys)
        verdicts[kind] = {c["video_id"]: c["steps"][1] for c in doc["clip_acceptance"]["clips"]}
    good, broken = verdicts["track"], verdicts["clip-test-shuffled-track"]
    flipped = [video for video, v in good.items() if v["accepted"]]
    assert flipped and not any(v["accepted"] for v in broken.values())
    for video in flipped:
        assert any(r.startswith("ID switches") and r.endswith("> max_id_switches 2") for r in broken[video]["reasons"])
        assert broken[video]["metrics"]["id_switches"] > 5 * max(1, good[video]["metrics"]["id_switches"])


def test_the_example_names_the_driving_frame_spec() -> None:
    from services.datasets.driving.qa_spec import REFERENCE_SPEC

    spec = load_clip_spec(EXAMPLE)
    assert spec.frames == REFERENCE_SPEC and spec.min_frames_accepted == 0.8
    assert spec.tracks.to_dict() == {"max_id_switches": 2, "min_idf1": 0.5}


@pytest.mark.parametrize(("doc", "message"), [
    ({"tracks": {"min_idf1": 2}}, "tracks.min_idf1: must be <= 1.0"),
    ({"frames": "no-such-spec.yaml"}, "frames: "),
    ({"frame": {}}, "frame: unknown key"),
])
def test_a_bad_clip_spec_is_one_line_exit_2(doc: Any, message: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path / "clips.yaml", doc)
    code = main(["engine", "eval", "--pipeline", "p.yaml", "--images", SMALL, "--clip-spec", str(spec)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and f"{spec}: {message}" in err and "\n" not in err


def test_a_clip_spec_needs_a_pipeline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["engine", "eval", "--model", "builtin:digits", "--images", "x", "--clip-spec", "c.yaml"]) == 2
    assert "--clip-spec: only with --pipeline" in capsys.readouterr().err


@pytest.mark.parametrize(("tags", "keys", "name"), [
    ({"weather": "fog", "time_of_day": "night"}, ("weather", "time_of_day"), "weather=fog,time_of_day=night"),
    ({"weather": "rain"}, ("weather", "time_of_day"), "weather=rain,time_of_day="),
    ({"weather": "rain"}, ("time_of_day",), "time_of_day="),
    ({"weather": "rain"}, (), "all"),
])
def test_a_stratum_is_named_key_equals_value_per_stratum_key(tags: dict[str, str], keys: tuple[str, ...],
                                                              name: str) -> None:
    assert stratum_of(tags, keys) == name
