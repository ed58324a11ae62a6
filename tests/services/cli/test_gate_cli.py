"""``shadowqa gate`` as a rollout controller runs it: JSON, trace, exit status, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from services.api.evidence import POOLED, GateQuery
from services.api.state import ApiConfig
from services.cli.main import build_parser, main
from services.loop.config import LoopConfig

SHADOWQA = Path(sys.executable).with_name("shadowqa")
UNWEIGHTED = ("--max-weight", "1")  # every frame annotated (π = 1): the sharpest bound, which the numbers below assume


def _write(path: Path, records: list[dict[str, Any]], raw: dict[int, str] | None = None) -> str:
    """One JSON object a line; ``raw`` replaces or inserts literal lines by 1-based line number."""
    lines = [json.dumps(r) for r in records]
    for number, text in sorted((raw or {}).items()):
        lines.insert(number - 1, text)
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _frames(accepted: int, rejected: int, **fields: Any) -> list[dict[str, Any]]:
    """``accepted`` then ``rejected`` frames, interleaved evenly so no run of either is long."""
    total = accepted + rejected
    out = []
    for i in range(total):
        ok = (i * rejected) // total == ((i + 1) * rejected) // total
        out.append({"frame_id": f"f-{i}", "accepted": ok, **fields})
    return out


def _gate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["gate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("accepted", "rejected", "target", "decision", "code"),
    [
        (400, 0, 0.95, "pass", 0),
        (240, 60, 0.95, "fail", 1),
        (30, 0, 0.95, "inconclusive", 3),
    ],
)
def test_json_and_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], accepted: int, rejected: int, target: float, decision: str,
    code: int,
) -> None:
    path = _write(tmp_path / "c.jsonl", _frames(accepted, rejected))
    status, out, err = _gate(capsys, "--comparisons", path, "--target", str(target), "--json", *UNWEIGHTED)
    doc = json.loads(out)
    assert (status, err) == (code, "")
    assert doc["decision"] == decision and doc["n"] == accepted + rejected
    assert doc["estimate"] == pytest.approx(accepted / (accepted + rejected))
    assert set(doc) >= {"decision", "estimate", "lower", "upper", "n", "reason", "method", "alpha", "target",
                        "failing_strata"}
    assert (doc["lower"] >= target) == (decision == "pass") and (doc["upper"] <= target) == (decision == "fail")
    assert doc["method"] == "betting" and doc["alpha"] == 0.05 and doc["failing_strata"] == []


def test_text_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "c.jsonl", _frames(400, 0))
    status, out, _ = _gate(capsys, "--comparisons", path, "--target", "0.95", *UNWEIGHTED)
    assert status == 0 and out.startswith("PASS: acceptance 1.000 over 400 frames is above the target 0.95")


def test_trace_has_one_line_per_frame(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "c.jsonl", _frames(300, 0), raw={3: "", 10: "   "})
    status, out, _ = _gate(capsys, "--comparisons", path, "--target", "0.95", "--trace", *UNWEIGHTED)
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 300 and status == 0
    assert [r["line"] for r in rows[:4]] == [1, 2, 4, 5]  # blank lines 3 and 10 hold no frame
    assert [r["n"] for r in rows] == list(range(1, 301))
    first_pass = next(r["n"] for r in rows if r["decision"] == "pass")
    assert first_pass == 116  # 116 accepted frames in a row prove 0.95 (tests/analysis/gate)
    assert all(r["decision"] == "inconclusive" for r in rows[:115])
    _, summary, _ = _gate(capsys, "--comparisons", path, "--target", "0.95", "--json", *UNWEIGHTED)
    assert {k: rows[-1][k] for k in ("decision", "lower", "upper")} == {
        k: json.loads(summary)[k] for k in ("decision", "lower", "upper")}


def test_strata(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clear, rain = _frames(2000, 4, stratum="weather=clear"), _frames(240, 60, stratum="weather=rain")
    records = [r for _, r in sorted([((i + 0.5) / len(clear), r) for i, r in enumerate(clear)]
                                    + [((i + 0.5) / len(rain), r) for i, r in enumerate(rain)], key=lambda p: p[0])]
    path = _write(tmp_path / "c.jsonl", records)
    status, out, _ = _gate(capsys, "--comparisons", path, "--target", "0.95", "--json")
    doc = json.loads(out)
    assert (status, doc["decision"], doc["failing_strata"]) == (0, "pass", ["weather=rain"])
    status, out, _ = _gate(capsys, "--comparisons", path, "--target", "0.95", "--json", "--every-stratum")
    assert (status, json.loads(out)["decision"]) == (1, "fail")
    status, out, _ = _gate(capsys, "--comparisons", path, "--target", "0.95", "--json", "--stratum", "weather=rain")
    doc = json.loads(out)
    assert (status, doc["decision"], doc["n"], doc["stratum"]) == (1, "fail", 300, "weather=rain")
    status, out, _ = _gate(capsys, "--comparisons", path, "--target", "0.95", "--json", "--stratum", "fog")
    assert (status, json.loads(out)["n"], json.loads(out)["estimate"]) == (3, 0, None)
    status, out, _ = _gate(capsys, "--comparisons", path, "--target", "0.95", "--trace", "--stratum", "weather=rain")
    lines = [json.loads(line)["line"] for line in out.splitlines()]
    assert status == 1 and len(lines) == 300 and lines[0] == 1 + [r["stratum"] for r in records].index("weather=rain")


def test_one_model_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = _frames(300, 0, model_version="v1"), _frames(240, 60, model_version="v2")
    path = _write(tmp_path / "c.jsonl", [r for pair in zip(good, bad, strict=True) for r in pair])
    status, out, _ = _gate(capsys, "--comparisons", path, "--target", "0.95", "--json", "--model-version", "v1",
                           *UNWEIGHTED)
    doc = json.loads(out)
    assert (status, doc["decision"], doc["n"], doc["model_version"]) == (0, "pass", 300, "v1")
    status, out, _ = _gate(capsys, "--comparisons", path, "--target", "0.95", "--trace", "--model-version", "v2",
                           *UNWEIGHTED)
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 1 and [r["line"] for r in rows[:3]] == [2, 4, 6] and rows[-1]["decision"] == "fail"
    assert [r["frame_id"] for r in rows[:2]] == ["f-0", "f-1"]


def test_weights_need_the_sampling_floor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "c.jsonl", _frames(200, 0) + _frames(600, 0, inclusion_prob=0.1))
    status, _, err = _gate(capsys, "--comparisons", path, "--target", "0.95")
    assert status == 2 and err.strip() == (
        f"shadowqa: error: {path}: line 201: inclusion_prob: 0.1 is below 1/--max-weight = 0.25; "
        "set --max-weight to 1/(the smallest inclusion probability the router uses)")
    status, out, _ = _gate(capsys, "--comparisons", path, "--target", "0.95", "--max-weight", "10", "--json")
    doc = json.loads(out)
    assert doc["max_weight"] == 10.0 and doc["estimate"] == 1.0 and status == EXIT_OF[doc["decision"]]


def test_weights_of_the_default_audit_floor_need_no_bound_named(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                ) -> None:
    records = [r for pair in zip(_frames(300, 0, inclusion_prob=0.25), _frames(300, 0, inclusion_prob=0.5),
                                 strict=True) for r in pair]
    path = _write(tmp_path / "c.jsonl", records)  # weights 4 and 2, as the default router gives them
    status, out, err = _gate(capsys, "--comparisons", path, "--target", "0.5", "--json")
    doc = json.loads(out)
    assert (status, err, doc["decision"], doc["max_weight"]) == (0, "", "pass", 4.0)


def test_the_gate_and_the_api_default_to_the_weight_bound_of_the_loops_audit_floor() -> None:
    parser = build_parser()
    gate = parser.parse_args(["gate", "--comparisons", "c.jsonl", "--target", "0.9"]).max_weight
    serve = parser.parse_args(["api", "serve"]).max_weight
    defaults = {gate, serve, ApiConfig().max_weight, GateQuery(POOLED, 0.9).max_weight, LoopConfig().max_weight}
    assert defaults == {1.0 / LoopConfig().audit_floor} == {4.0}


EXIT_OF = {"pass": 0, "fail": 1, "inconclusive": 3}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({2: "{not json"}, "line 2: not JSON"),
        ({3: '{"frame_id": "x", "inclusion_prob": 0.5}'}, "line 3: missing required field 'accepted'"),
        ({2: '{"accepted": true, "inclusion_prob": 0}'}, "line 2: inclusion_prob"),
        ({4: '{"accepted": true, "inclusion_prob": -0.5}'}, "line 4: inclusion_prob"),
        ({2: '{"accepted": true, "inclusion_prob": 1.5}'}, "line 2: inclusion_prob"),
        ({5: '{"accepted": "yes"}'}, "line 5: accepted"),
    ],
)
def test_bad_lines_exit_2_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], raw: dict[int, str], message: str
) -> None:
    path = _write(tmp_path / "c.jsonl", _frames(10, 0), raw=raw)
    status, out, err = _gate(capsys, "--comparisons", path, "--target", "0.9", "--json")
    assert (status, out) == (2, "")
    assert err.startswith(f"shadowqa: error: {path}: {message}") and err.count("\n") == 1


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _gate(capsys, "--comparisons", str(tmp_path / "nope.jsonl"), "--target", "0.9")
    assert status == 2 and "no such file" in err


@pytest.mark.parametrize(
    "args",
    [
        ["--target", "0"], ["--target", "1"], ["--target", "1.5"], ["--target", "x"],
        ["--target", "0.9", "--alpha", "0"], ["--target", "0.9", "--alpha", "1"],
        ["--target", "0.9", "--max-weight", "0.5"], [], ["--target", "0.9", "--stratum", "a", "--every-stratum"],
    ],
)
def test_bad_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    path = _write(tmp_path / "c.jsonl", _frames(10, 0))
    with pytest.raises(SystemExit) as exit_:
        main(["gate", "--comparisons", path, *args])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.startswith("shadowqa gate: error: ") and err.count("\n") == 1


@pytest.mark.slow
def test_the_installed_command(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.jsonl", _frames(240, 60))
    done = subprocess.run([str(SHADOWQA), "gate", "--comparisons", path, "--target", "0.95", "--json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and done.stderr == ""
    assert json.loads(done.stdout)["decision"] == "fail"
