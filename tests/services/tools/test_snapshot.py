"""Snapshot files: deterministic order, one JSON value a line, and comparisons files the gate reads."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
import pytest

from services.cli.main import main
from services.loop.messages import ComparisonMessage, encode
from services.tools.kafka import Record
from services.tools.snapshot import entries, lines, write_lines
from tests.services.loop.messages.samples import sample


def _rec(partition: int, offset: int, key: str | None, value: bytes | None, ts: int = 0) -> Record:
    return Record("t-x", partition, offset, ts, None if key is None else key.encode(), value)


def _value(time: float, n: int) -> bytes:
    return orjson.dumps({"time": time, "n": n})


def test_lines_follow_time_then_key_then_offset_whatever_the_partitioning() -> None:
    four = [_rec(0, 0, "b", _value(2.0, 1)), _rec(0, 1, "b", _value(2.0, 2)), _rec(3, 0, "a", _value(2.0, 3)),
            _rec(1, 0, "c", _value(1.0, 4)), _rec(2, 0, "a", _value(3.0, 5))]
    one = [_rec(0, i, r.key.decode() if r.key else None, r.value) for i, r in enumerate(
        [four[3], four[2], four[0], four[4], four[1]])]
    for records in (four, one, list(reversed(four))):
        assert [orjson.loads(line)["n"] for line in lines(entries(records))] == [4, 3, 1, 2, 5]


def test_values_without_time_use_the_record_timestamp() -> None:
    records = [_rec(0, 0, "a", b'{"n": 1}', ts=5000), _rec(1, 0, "b", _value(4.0, 2))]
    assert [orjson.loads(line)["n"] for line in lines(entries(records))] == [2, 1]


def test_offset_order_is_partition_then_offset() -> None:
    records = [_rec(1, 0, "a", _value(1.0, 1)), _rec(0, 1, "b", _value(2.0, 2)), _rec(0, 0, "c", _value(3.0, 3))]
    assert [orjson.loads(line)["n"] for line in lines(entries(records, "offset"))] == [3, 2, 1]


def test_metadata_wraps_each_value_and_keeps_what_is_not_json() -> None:
    records = [_rec(0, 0, "a", b'{"time": 1}'), _rec(0, 1, "b", b"plain text"), _rec(0, 2, None, b"\xff\x00"),
               _rec(0, 3, "d", None)]
    wrapped = [orjson.loads(line) for line in lines(entries(records, "offset"), with_metadata=True)]
    assert wrapped == [
        {"topic": "t-x", "partition": 0, "offset": 0, "key": "a", "value": {"time": 1}},
        {"topic": "t-x", "partition": 0, "offset": 1, "key": "b", "value": "plain text", "encoding": "utf-8"},
        {"topic": "t-x", "partition": 0, "offset": 2, "key": None, "value": base64.b64encode(b"\xff\x00").decode(),
         "encoding": "base64"},
        {"topic": "t-x", "partition": 0, "offset": 3, "key": "d", "value": None},
    ]
    plain = [orjson.loads(line) for line in lines(entries(records, "offset"))]
    assert plain == [{"time": 1}, "plain text", base64.b64encode(b"\xff\x00").decode()]  # tombstone skipped


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    def broken() -> object:
        yield b"{}\n"
        raise RuntimeError("broker went away")

    out = tmp_path / "x.jsonl"
    with pytest.raises(RuntimeError):
        write_lines(out, broken())  # type: ignore[arg-type]
    assert not out.exists()


def _comparisons() -> list[Record]:
    records = []
    for i in range(40):
        kind = "consensus" if i % 5 == 0 else "machine"
        doc = sample("comparisons", frame_id=f"f-{i}", kind=kind, accepted=i % 7 != 0, time=100.0 + i,
                     inclusion_prob=0.5 if i % 2 else 1.0)
        records.append(_rec(i % 4, i // 4, f"f-{i}", encode(ComparisonMessage.model_validate(doc))))
    return records


@pytest.mark.parametrize("command", [["gate", "--target", "0.5", "--max-weight", "2", "--json"],
                                     ["recommend", "--target", "0.5", "--audit-floor", "0.5", "--json"]])
def test_a_comparisons_snapshot_is_a_file_the_gate_and_recommender_read(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    machine, consensus = tmp_path / "machine.jsonl", tmp_path / "consensus.jsonl"
    assert write_lines(machine, lines(entries(_comparisons()), kind="machine")) == 32
    assert write_lines(consensus, lines(entries(_comparisons()), kind="consensus")) == 8
    extra = ["--consensus", str(consensus)] if command[0] == "recommend" else []
    code = main([*command, "--comparisons", str(machine), *extra])
    out = capsys.readouterr()
    assert code in (0, 1, 3) and out.err == "", out.err
    doc = orjson.loads(out.out)
    assert doc["schema_version"] == 1
    if command[0] == "gate":
        assert doc["n"] == 32
