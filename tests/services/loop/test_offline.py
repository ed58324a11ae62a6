"""Replaying a snapshot folder offline: recomputed comparisons and stats, checked against the online output."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from analysis.exceptions import InvalidInput
from services.loop.aggregate import fold_all
from services.loop.config import LoopConfig
from services.loop.join import JOINED
from services.loop.messages import AgreementStats, ComparisonMessage, RecommendationMessage, encode
from services.loop.offline import OfflineResult, replay_snapshot, result_document
from tests.services.loop.records import FrameCase, Record

FRAMES = [
    FrameCase("drv-000001", 1),
    FrameCase("drv-000002", 2, copies=1, machine_agrees=False, inclusion_prob=0.25),
    FrameCase("drv-000003", 3, shipped=True, inclusion_prob=0.0),
    FrameCase("drv-000004", 4, failed=True, copies=1, inclusion_prob=1.0),
    FrameCase("drv-000005", 5, people_agree=False, inclusion_prob=1.0, consensus_prob=0.5),
    FrameCase("drv-000006", 6, copies=1, inclusion_prob=1.0),
    FrameCase("drv-000007", 7, copies=1, stratum="weather=rain", machine_agrees=False),
    FrameCase("drv-000008", 8, copies=2, stratum="weather=rain", inclusion_prob=1.0),
]
EXPECTED = [  # (frame, kind, accepted, stratum)
    ("drv-000001", "consensus", True, "all"), ("drv-000001", "machine", True, "all"),
    ("drv-000002", "machine", False, "all"),
    ("drv-000005", "consensus", False, "all"), ("drv-000005", "machine", True, "all"),
    ("drv-000006", "machine", True, "all"),
    ("drv-000007", "machine", False, "weather=rain"),
    ("drv-000008", "consensus", True, "weather=rain"), ("drv-000008", "machine", True, "weather=rain"),
]


def write(folder: Path, topic: str, lines: list[bytes]) -> None:
    (folder / f"{topic}.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))


def append(folder: Path, topic: str, lines: list[bytes]) -> None:
    with (folder / f"{topic}.jsonl").open("ab") as f:
        f.writelines(line + b"\n" for line in lines)


DEFAULT = LoopConfig()


def replay(folder: Path, config: LoopConfig = DEFAULT) -> OfflineResult:
    return replay_snapshot(folder, config)


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    """The joined topics of FRAMES, each file in the order of its records (an empty line included)."""
    records: list[Record] = [r for case in FRAMES for r in case.records()]
    for topic in JOINED:
        write(tmp_path, topic, [raw for t, raw in records if t == topic])
    append(tmp_path, "manual-queue", [b""])
    return tmp_path


def write_online(folder: Path, result: OfflineResult) -> None:
    """What the online agents would have published: the same comparisons, stats and recommendations (at other
    times)."""
    write(folder, "comparisons", [encode(c) for c in result.comparisons])
    write(folder, "agreement-stats", [encode(s.model_copy(update={"time": 1e9})) for s in result.stats.values()])
    write(folder, "recommendations", [encode(r.model_copy(update={"time": 1e9})) for r in result.recommendations])


def with_comparisons(folder: Path, change: dict[str, object], frame_id: str, kind: str) -> None:
    lines = []
    for raw in (folder / "comparisons.jsonl").read_bytes().splitlines():
        c = ComparisonMessage.model_validate_json(raw)
        lines.append(encode(c.model_copy(update=change)) if (c.frame_id, c.kind) == (frame_id, kind) else raw)
    write(folder, "comparisons", lines)


def with_stat(folder: Path, stratum: str, change: dict[str, object]) -> None:
    lines = []
    for raw in (folder / "agreement-stats.jsonl").read_bytes().splitlines():
        s = AgreementStats.model_validate_json(raw)
        lines.append(encode(s.model_copy(update=change)) if s.stratum == stratum else raw)
    write(folder, "agreement-stats", lines)


def test_comparisons_are_recomputed_from_the_joined_topics(snapshot: Path) -> None:
    result = replay(snapshot)
    assert sorted((c.frame_id, c.kind, c.accepted, c.stratum) for c in result.comparisons) == EXPECTED
    assert (result.rejected, result.checked, result.problems) == (0, [], [])
    assert sorted(result.stats) == ["all", "weather=rain"]
    assert (result.stats["all"].n, result.stats["weather=rain"].n) == (4, 2)
    assert result.stats["all"].estimate == 0.5  # Hájek: accepted 1/π of 2 + 1 + 1 out of 2 + 4 + 1 + 1
    assert result.stats["all"].human_floor is not None and result.stats["all"].human_floor.n == 2
    folds = fold_all(result.comparisons)
    for stratum, s in result.stats.items():
        assert s == folds[stratum].stats(stratum, target=0.85, alpha=0.05, time=0.0)


def test_the_order_of_lines_does_not_matter(snapshot: Path) -> None:
    before = {encode(c) for c in replay(snapshot).comparisons}
    for topic in JOINED:
        path = snapshot / f"{topic}.jsonl"
        path.write_bytes(b"\n".join(reversed(path.read_bytes().splitlines())) + b"\n")
    assert {encode(c) for c in replay(snapshot).comparisons} == before


def test_replayed_records_are_counted_once(snapshot: Path) -> None:
    before = replay(snapshot)
    for topic in JOINED:
        append(snapshot, topic, (snapshot / f"{topic}.jsonl").read_bytes().splitlines())
    again = replay(snapshot)
    assert [encode(c) for c in again.comparisons] == [encode(c) for c in before.comparisons]
    assert again.stats == before.stats


def test_an_online_output_equal_to_the_recomputation_matches(snapshot: Path) -> None:
    write_online(snapshot, replay(snapshot))
    result = replay(snapshot)
    assert result.problems == []
    assert result.checked == ["comparisons", "agreement-stats", "recommendations"]
    assert result.matches
    assert result_document(result)["matches_online"] is True


def test_earlier_stats_and_duplicate_comparisons_online_still_match(snapshot: Path) -> None:
    """The stats topic holds every update (the latest per stratum counts); comparisons may come twice."""
    first = replay(snapshot)
    write_online(snapshot, first)
    early = fold_all(first.comparisons[:3])
    append(snapshot, "agreement-stats", [encode(f.stats(s, target=0.85, alpha=0.05, time=2e9))
                                         for s, f in early.items()])
    append(snapshot, "comparisons", [encode(first.comparisons[0])])
    assert replay(snapshot).problems == []


def test_a_flipped_online_comparison_is_named(snapshot: Path) -> None:
    """The comparator's check names the comparison; the folds, fed the recorded comparisons as the aggregator was,
    then differ from the stats published before the flip too (stratum all: the decision, the estimate and its
    interval)."""
    write_online(snapshot, replay(snapshot))
    with_comparisons(snapshot, {"accepted": False}, "drv-000006", "machine")
    problems = replay(snapshot).problems
    assert problems[0].startswith("1 online comparisons differ from or are missing in the recomputation")
    assert problems[1].startswith("1 recomputed comparisons are missing online")
    assert all("'drv-000006', 'machine'" in p for p in problems[:2])
    assert "False" in problems[0] and "True" in problems[1]
    assert [p.split(" online")[0] for p in problems[2:]] == [
        "stratum all: decision", "stratum all: estimate", "stratum all: lower", "stratum all: upper"]


def test_a_missing_online_comparison_is_named(snapshot: Path) -> None:
    write_online(snapshot, replay(snapshot))
    lines = (snapshot / "comparisons.jsonl").read_bytes().splitlines()
    write(snapshot, "comparisons", [raw for raw in lines if b'"drv-000008","kind":"consensus"' not in raw])
    assert len((snapshot / "comparisons.jsonl").read_bytes().splitlines()) == len(lines) - 1
    problems = replay(snapshot).problems
    assert problems[0].startswith("1 recomputed comparisons are missing online, e.g. ('drv-000008', 'consensus'")
    assert [p.split(" online")[0] for p in problems[1:]] == ["stratum weather=rain: human floor"]


@pytest.mark.parametrize(("stratum", "change", "problem"), [
    ("all", {"n": 5}, "stratum all: n online 5, offline 4"),
    ("weather=rain", {"n": 1}, "stratum weather=rain: n online 1, offline 2"),
    ("all", {"decision": "pass"}, "stratum all: decision online 'pass', offline 'inconclusive'"),
    ("all", {"model_version": "other@2"}, "stratum all: model_version online 'other@2', offline "),
    ("all", {"estimate": 0.6}, "stratum all: estimate online 0.6, offline 0.5"),
    ("weather=rain", {"upper": 0.999}, "stratum weather=rain: upper online 0.999, offline "),
    ("all", {"human_floor": None}, "stratum all: human floor online None, offline {"),
])
def test_a_tampered_online_stat_is_named(snapshot: Path, stratum: str, change: dict[str, object],
                                         problem: str) -> None:
    write_online(snapshot, replay(snapshot))
    with_stat(snapshot, stratum, change)
    problems = replay(snapshot).problems
    assert len(problems) == 1
    assert problems[0].startswith(problem)


def test_a_difference_within_the_tolerance_is_no_problem(snapshot: Path) -> None:
    result = replay(snapshot)
    write_online(snapshot, result)
    estimate = result.stats["all"].estimate
    assert estimate is not None
    with_stat(snapshot, "all", {"estimate": estimate * (1 + 1e-12)})
    assert replay(snapshot).problems == []
    with_stat(snapshot, "all", {"estimate": estimate * (1 + 1e-6)})
    assert len(replay(snapshot).problems) == 1


def test_a_stratum_on_one_side_only_is_named(snapshot: Path) -> None:
    result = replay(snapshot)
    write_online(snapshot, result)
    append(snapshot, "agreement-stats", [encode(result.stats["all"].model_copy(update={"stratum": "weather=fog"}))])
    assert replay(snapshot).problems == ["stratum weather=fog: only online"]
    write(snapshot, "agreement-stats", [encode(result.stats["all"])])
    assert replay(snapshot).problems == ["stratum weather=rain: only offline"]


def test_invalid_lines_are_counted_and_skipped(snapshot: Path) -> None:
    before = replay(snapshot)
    append(snapshot, "manual-annotations", [b"{not json", orjson.dumps({"schema_version": 1, "frame_id": "x"})])
    append(snapshot, "automation-results", [b'{"schema_version": 2}'])
    append(snapshot, "deliveries", [b"[]"])
    result = replay(snapshot)
    assert result.rejected == 4
    assert [encode(c) for c in result.comparisons] == [encode(c) for c in before.comparisons]
    assert result_document(result)["rejected_records"] == 4


@pytest.mark.parametrize("topic", JOINED)
def test_a_missing_joined_file_is_named(snapshot: Path, topic: str) -> None:
    (snapshot / f"{topic}.jsonl").unlink()
    with pytest.raises(InvalidInput, match=rf"missing {topic}\.jsonl \(export them"):
        replay(snapshot)


def test_every_missing_joined_file_is_named(tmp_path: Path) -> None:
    write(tmp_path, "manual-queue", [])
    with pytest.raises(InvalidInput) as caught:
        replay(tmp_path)
    assert "missing automation-results.jsonl, deliveries.jsonl, manual-annotations.jsonl " in str(caught.value)


def test_the_result_document(snapshot: Path) -> None:
    doc = result_document(replay(snapshot))
    assert (doc["comparisons"], doc["rejected_records"], doc["checked"], doc["problems"]) == (9, 0, [], [])
    assert doc["matches_online"] is None  # nothing to check against
    assert doc["stats"]["weather=rain"]["n"] == 2


WINDOW2 = LoopConfig(window=2)  # 6 machine comparisons: three recommender steps


def test_recommendations_follow_the_recorded_order_and_are_checked(snapshot: Path) -> None:
    first = replay(snapshot, WINDOW2)
    assert len(first.recommendations) == 3 and [r.policy_version for r in first.recommendations] == [0, 0, 0]
    write_online(snapshot, first)
    result = replay(snapshot, WINDOW2)
    assert "recommendations" in result.checked and result.problems == []
    lines = (snapshot / "recommendations.jsonl").read_bytes().splitlines()
    write(snapshot, "recommendations", lines[:2])
    assert replay(snapshot, WINDOW2).problems == ["2 recommendations online, 3 recomputed"]


@pytest.mark.parametrize(("change", "problem"), [
    ({"policy_version": 7}, "recommendation 1: policy_version online 7, offline 0"),
    ({"action": "raise"}, "recommendation 1: action online 'raise', offline 'hold'"),
    ({"automation_rate": 0.5}, "recommendation 1: automation_rate online 0.5, offline 0.0"),
    ({"thresholds": {"all": 0.9}}, "recommendation 1: thresholds online {'all': 0.9}, offline {'all': None}"),
])
def test_a_tampered_online_recommendation_is_named(snapshot: Path, change: dict[str, object], problem: str) -> None:
    write_online(snapshot, replay(snapshot, WINDOW2))
    lines = (snapshot / "recommendations.jsonl").read_bytes().splitlines()
    tampered = RecommendationMessage.model_validate_json(lines[1]).model_copy(update=change)
    write(snapshot, "recommendations", [lines[0], encode(tampered), lines[2]])
    assert replay(snapshot, WINDOW2).problems == [problem]

