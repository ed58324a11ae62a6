"""``shadowqa recommend``: the readable report, the JSON contract, and one-line errors naming the place."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from services.cli.main import main

SHADOWQA = Path(sys.executable).with_name("shadowqa")


def _records(n: int = 20_000, seed: int = 0, pi: float = 1.0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    confidence = rng.beta(4, 1.5, n)
    accepted = rng.random(n) < confidence**1.5
    return [{"frame_id": f"f-{i}", "accepted": bool(a), "confidence": float(c), "inclusion_prob": pi,
             "time": float(i)} for i, (a, c) in enumerate(zip(accepted, confidence, strict=True))]


def _write(path: Path, records: list[Any]) -> Path:
    path.write_bytes(b"".join(r if isinstance(r, bytes) else orjson.dumps(r) + b"\n" for r in records))
    return path


@pytest.fixture(scope="module")
def comparisons(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("recommend") / "comparisons.jsonl", _records())


@pytest.fixture(scope="module")
def consensus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(1)
    pairs = [{"frame_id": f"c-{i}", "accepted": bool(rng.random() < 0.96), "inclusion_prob": 0.1} for i in range(800)]
    return _write(tmp_path_factory.mktemp("consensus") / "consensus.jsonl", pairs)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["recommend", *argv])
    except SystemExit as exc:  # argparse errors
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def test_readable_report(comparisons: Path, consensus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--comparisons", str(comparisons), "--target", "0.9", "--audit-floor", "1",
                         "--consensus", str(consensus))
    lines = out.splitlines()
    assert code == 0 and err == ""
    assert lines[0].startswith("recommendation: raise — automation ") and "target acceptance 0.9" in lines[0]
    assert lines[1].startswith("reason: raise: τ none → ")
    assert any(line.split()[:2] == ["τ", "n"] for line in lines)
    assert any(line.startswith("human-vs-human floor (consensus pairs):  0.9") for line in lines)
    assert any(line.startswith("machine agreement (all compared frames): ") for line in lines)
    assert "note:" not in out


def test_json_contract(comparisons: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--comparisons", str(comparisons), "--target", "0.9", "--alpha", "0.1",
                       "--audit-floor", "1", "--max-step", "1", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["schema_version"] == 1
    assert {"action", "reason", "automation_rate", "thresholds", "strata", "machine_agreement", "human_floor",
            "policy_version", "target", "alpha", "notes"} <= set(doc)
    assert doc["action"] == "raise" and doc["alpha"] == 0.1 and doc["human_floor"] is None
    evidence = doc["strata"]["all"]
    assert doc["thresholds"]["all"] == evidence["threshold"] == evidence["certified"]  # no max step here
    tested = evidence["tested"]
    assert all(t["passed"] for t in tested[:-1]) and not tested[-1]["passed"]
    assert tested[-2]["threshold"] == evidence["certified"] and tested[-2]["p_value"] <= 0.1
    assert 0.1 < doc["automation_rate"] < 0.3


def test_json_nothing_certified_is_null(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "few.jsonl", _records(n=50))
    code, out, _ = run(capsys, "--comparisons", str(path), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["action"] == "hold" and doc["thresholds"] == {"all": None}
    assert doc["automation_rate"] == 0.0 and doc["strata"]["all"]["certified"] is None
    assert doc["notes"] and "--audit-floor 1" in doc["notes"][0]  # every π is 1 but the floor says 0.02


def test_strata_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = [{**r, "stratum": "night" if i % 2 else "day"} for i, r in enumerate(_records())]
    code, out, _ = run(capsys, "--comparisons", str(_write(tmp_path / "s.jsonl", records)), "--target", "0.9",
                       "--audit-floor", "1", "--strata", "night", "--json")
    doc = json.loads(out)
    assert code == 0 and set(doc["thresholds"]) == {"night", "all"}
    assert {e["alpha"] for e in doc["strata"].values()} == {0.025}


@pytest.mark.parametrize(("content", "extra", "expected"), [
    ([b"not json\n"], (), "c.jsonl: line 1: not JSON"),
    ([{"accepted": True, "confidence": 0.5}, {"confidence": 0.5}], (), "c.jsonl: line 2: missing required field"),
    ([{"accepted": "yes"}], (), "c.jsonl: line 1: accepted: expected true or false"),
    ([{"accepted": True, "inclusion_prob": 0}], (), "c.jsonl: line 1: inclusion_prob: must be > 0"),
    ([{"accepted": True, "confidence": 0.9}, b"\n", {"frame_id": "f-7", "accepted": True}], (),
     "c.jsonl: record 2 (frame f-7): confidence is missing"),
    ([{"frame_id": "f-3", "accepted": True, "confidence": 0.9, "inclusion_prob": 0.01}], (),
     "c.jsonl: record 1 (frame f-3): inclusion_prob 0.01 is below the audit floor 0.02"),
    ([{"accepted": True, "confidence": 0.9}], ("--consensus", "missing.jsonl"), "missing.jsonl: no such file"),
])
def test_bad_input_exit_2_naming_the_place(content: list[Any], extra: tuple[str, ...], expected: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "c.jsonl", content)
    code, out, err = run(capsys, "--comparisons", "c.jsonl", *extra)
    assert code == 2 and out == "" and "\n" not in err.strip(), err
    assert err.startswith(f"shadowqa: error: {expected}"), err


def test_bad_consensus_line_names_the_consensus_file(comparisons: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    pairs = _write(tmp_path / "pairs.jsonl", [{"accepted": True}, {"accepted": 1}])
    code, _, err = run(capsys, "--comparisons", str(comparisons), "--consensus", str(pairs))
    assert code == 2 and err.startswith(f"shadowqa: error: {pairs}: line 2: accepted: expected true or false"), err


@pytest.mark.parametrize(("argv", "expected"), [
    (("--target", "1.5"), "argument --target: must be in (0, 1]"),
    (("--alpha", "1"), "argument --alpha: must be below 1"),
    (("--max-step", "0"), "argument --max-step: must be in (0, 1]"),
    ((), "the following arguments are required: --comparisons"),
])
def test_bad_options_exit_2(argv: tuple[str, ...], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.startswith("shadowqa recommend: error: ") and expected in err, err


@pytest.mark.slow
def test_console_script(comparisons: Path) -> None:
    proc = subprocess.run([str(SHADOWQA), "recommend", "--comparisons", str(comparisons), "--target", "0.9",
                           "--audit-floor", "1", "--json"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["action"] == "raise"
