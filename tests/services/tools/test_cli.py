"""``shadowqa feed``, ``simulate annotators`` and ``snapshot export``: mistakes are one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cli.main import main

NOWHERE = "127.0.0.1:1"  # nothing listens on port 1


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse errors
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize(("args", "message"), [
    (["feed", "--source", "synthetic://city", "--bootstrap", NOWHERE], "unknown synthetic data set 'city'"),
    (["feed", "--source", "synthetic://driving?seed=1&n=3", "--bootstrap", NOWHERE], "no Kafka broker listens at"),
    (["feed", "--source", "synthetic://driving", "--rate", "-1"], "--rate: must be a finite number >= 0"),
    (["simulate", "annotators", "--stop-after", "3", "--idle-seconds", "2"], "not allowed with argument"),
    (["simulate", "annotators", "--error-model", "lazy"], "invalid choice: 'lazy'"),
    (["simulate", "annotators", "--bootstrap", NOWHERE, "--stop-after", "1"], "no Kafka broker listens at"),
    (["snapshot", "export", "--topic", "nope", "--out", "x.jsonl"], "invalid choice: 'nope'"),
    (["snapshot", "export", "--topic", "comparisons", "--out", "x.jsonl", "--bootstrap", NOWHERE],
     "no Kafka broker listens at"),
])
def test_mistakes_are_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, err = _run(capsys, *args)
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "x.jsonl").exists()
