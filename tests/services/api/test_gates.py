"""``GET /v1/gates/...`` answers exactly what ``shadowqa gate --json`` prints on the same comparisons.

The comparisons go into the database (machine rows, with consensus rows between them that the gate must
ignore) and, in the same order, into the JSON Lines file the CLI reads; the whole documents must be equal.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.cli.main import main
from services.db.models import ComparisonRow
from tests.services.api.helpers import ADMIN, add, comparison

# stratum: (acceptance rate, the inclusion probabilities the router gave its frames)
STRATA = {"weather=clear": (0.97, (1.0, 0.5)), "weather=rain": (0.86, (0.5, 0.25)), "weather=fog": (0.5, (1.0, 0.25))}
MODELS = ("m@1", "m@2")
EXIT = {"pass": 0, "fail": 1, "inconclusive": 3}


def _comparisons() -> list[ComparisonRow]:
    """400 machine comparisons in three strata and two model versions, consensus comparisons in between."""
    rng = random.Random(7)
    rows = []
    for i in range(400):
        stratum = rng.choice(list(STRATA))
        rate, pis = STRATA[stratum]
        rows.append(comparison(i, accepted=rng.random() < rate, pi=rng.choice(pis), stratum=stratum,
                               model_version=MODELS[i % 2], confidence=None if i % 5 == 0 else rng.random()))
        if i % 3 == 0:  # a person-vs-person comparison: always disagreeing, so counting it would move the gate
            rows.append(comparison(i, accepted=False, pi=0.25, stratum=stratum, model_version=MODELS[i % 2],
                                   kind="consensus"))
    return rows


def _line(row: ComparisonRow) -> bytes:
    return orjson.dumps({"frame_id": row.frame_id, "accepted": row.accepted, "inclusion_prob": row.inclusion_prob,
                         "stratum": row.stratum, "confidence": row.confidence, "model_version": row.model_version,
                         "time": row.time})


@pytest.fixture
def comparisons_file(engine: Engine, tmp_path: Path) -> Path:
    rows = _comparisons()
    path = tmp_path / "comparisons.jsonl"
    path.write_bytes(b"\n".join(_line(r) for r in rows if r.kind == "machine") + b"\n")
    add(engine, rows)
    return path


def _cli(path: Path, capsys: pytest.CaptureFixture[bytes], stratum: str, query: dict[str, Any]) -> tuple[int, Any]:
    argv = ["gate", "--comparisons", str(path), "--json", "--target", str(query["target"]),
            "--alpha", str(query["alpha"]), "--max-weight", str(query["max_weight"])]
    if stratum != "*":
        argv += ["--stratum", stratum]
    if "model_version" in query:
        argv += ["--model-version", query["model_version"]]
    if query.get("every_stratum"):
        argv += ["--every-stratum"]
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr().out
    return code, orjson.loads(out) if code != 2 else None


def _api(client: TestClient, stratum: str, query: dict[str, Any]) -> Any:
    params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in query.items()}
    return client.get(f"/v1/gates/{quote(stratum, safe='')}?{urlencode(params)}", headers=ADMIN)


QUESTIONS = [
    (stratum, {"target": target, "alpha": alpha, "max_weight": 4.0, **({"model_version": m} if m else {})})
    for stratum, m, target, alpha in itertools.product(
        ["*", *STRATA, "weather=snow"], [None, *MODELS, "m@9"], [0.3, 0.6, 0.8, 0.95], [0.05, 0.2])
] + [("*", {"target": t, "alpha": 0.05, "max_weight": w, "every_stratum": True})
     for t, w in itertools.product([0.3, 0.45, 0.8], [4.0, 10.0])]


def test_every_gate_answer_equals_the_cli_on_the_same_comparisons(
        comparisons_file: Path, client: TestClient, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    decisions = []
    for stratum, query in QUESTIONS:
        code, printed = _cli(comparisons_file, capsysbinary, stratum, query)
        answer = _api(client, stratum, query)
        assert answer.status_code == 200, (stratum, query, answer.text)
        assert answer.json() == printed, (stratum, query)
        assert code == EXIT[printed["decision"]]
        decisions.append(printed["decision"])
    # the questions cover every answer, the pooled gate and the every-stratum rule (else equality proves little)
    assert set(decisions) == {"pass", "fail", "inconclusive"}
    every = [d for (_, q), d in zip(QUESTIONS, decisions, strict=True) if q.get("every_stratum")]
    assert set(every) == {"pass", "fail", "inconclusive"}


def test_consensus_comparisons_do_not_count(comparisons_file: Path, client: TestClient) -> None:
    answer = _api(client, "*", {"target": 0.5, "alpha": 0.05, "max_weight": 4.0}).json()
    assert answer["n"] == 400


def test_a_weight_bound_below_the_datas_weights_is_refused_by_both_naming_max_weight(
        comparisons_file: Path, client: TestClient, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    for stratum in ("*", "weather=rain", "weather=fog"):  # these hold frames sampled at π = 0.25: weight 4
        query = {"target": 0.8, "alpha": 0.05, "max_weight": 2.0}
        assert _cli(comparisons_file, capsysbinary, stratum, query)[0] == 2
        answer = _api(client, stratum, query)
        assert answer.status_code == 422
        assert [e["loc"] for e in answer.json()["detail"]] == [["query", "max_weight"]]
    query = {"target": 0.8, "alpha": 0.05, "max_weight": 2.0}  # clear weather: π >= 0.5, a bound of 2 holds
    code, printed = _cli(comparisons_file, capsysbinary, "weather=clear", query)
    assert code != 2 and _api(client, "weather=clear", query).json() == printed


def test_without_a_bound_named_the_api_and_the_cli_gate_with_the_same_default_one(
        comparisons_file: Path, client: TestClient, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    for stratum in ("*", "weather=rain"):  # weights up to 4 (π = 0.25): within the default bound 1/audit floor
        capsysbinary.readouterr()
        code = main(["gate", "--comparisons", str(comparisons_file), "--json", "--target", "0.6",
                     *([] if stratum == "*" else ["--stratum", stratum])])
        printed = orjson.loads(capsysbinary.readouterr().out)
        answer = client.get(f"/v1/gates/{quote(stratum, safe='')}?target=0.6", headers=ADMIN)
        assert code != 2 and answer.status_code == 200, answer.text
        assert answer.json() == printed and printed["max_weight"] == 4.0


def test_every_stratum_is_asked_of_the_pooled_path_only(comparisons_file: Path, client: TestClient) -> None:
    answer = _api(client, "weather=rain", {"target": 0.8, "every_stratum": True})
    assert answer.status_code == 422
    assert [e["loc"] for e in answer.json()["detail"]] == [["query", "every_stratum"]]


@pytest.mark.parametrize(("stratum", "target", "status"), [
    ("weather=clear", 0.6, 200), ("weather=fog", 0.8, 412), ("weather=snow", 0.8, 412)])
def test_flagger_gets_200_on_pass_and_412_otherwise_with_the_same_evidence(
        comparisons_file: Path, client: TestClient, stratum: str, target: float, status: int) -> None:
    hook = {"name": "podinfo", "namespace": "test", "phase": "Progressing",
            "metadata": {"target": str(target), "alpha": "0.05", "max_weight": "4", "model_version": "m@1"}}
    answer = client.post(f"/v1/gates/{quote(stratum, safe='')}/flagger", json=hook, headers=ADMIN)
    assert answer.status_code == status
    asked = _api(client, stratum, {"target": target, "alpha": 0.05, "max_weight": 4.0, "model_version": "m@1"})
    assert answer.json() == asked.json()
    assert (answer.json()["decision"] == "pass") == (status == 200)


@pytest.mark.parametrize(("metadata", "key"), [
    ({}, "target"), ({"target": "high"}, "target"), ({"target": "nan"}, "target"), ({"target": "1"}, "target"),
    ({"target": "0.9", "alpha": "2"}, "alpha"), ({"target": "0.9", "max_weight": "0.5"}, "max_weight"),
    ({"target": "0.9", "max_weight": "inf"}, "max_weight")])
def test_flagger_metadata_that_is_not_a_question_gets_422_naming_the_key(client: TestClient, metadata: dict[str, str],
                                                                         key: str) -> None:
    answer = client.post("/v1/gates/*/flagger", json={"metadata": metadata}, headers=ADMIN)
    assert answer.status_code == 422
    assert [e["loc"] for e in answer.json()["detail"]] == [["body", "metadata", key]]


def test_flagger_with_a_weight_bound_below_the_datas_weights_gets_422_naming_it(comparisons_file: Path,
                                                                               client: TestClient) -> None:
    hook = {"metadata": {"target": "0.8", "max_weight": "2"}}
    answer = client.post("/v1/gates/weather=rain/flagger", json=hook, headers=ADMIN)
    assert answer.status_code == 422
    assert [e["loc"] for e in answer.json()["detail"]] == [["body", "metadata", "max_weight"]]
