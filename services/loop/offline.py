"""Recomputing the comparator's and the aggregator's output offline from topic snapshots.

A snapshot folder holds ``<topic>.jsonl`` files written by ``shadowqa snapshot
export`` (one JSON value per line). From the four joined topics the comparator's
step is recomputed (the join is order-free and idempotent, so the order of lines
does not matter), then each (frame, kind) is counted once and folded per
stratum, as the aggregator does. When the folder also holds the online
``comparisons`` and ``agreement-stats``, they are checked against the recomputation.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from analysis.exceptions import InvalidInput
from services.loop.aggregate import StratumFold, fold_all
from services.loop.context import CompareContext
from services.loop.join import JOINED, Pending, absorb, compare_ready
from services.loop.messages import AgreementStats, ComparisonMessage, InvalidMessage, decode

TOLERANCE = 1e-9  # online and offline folds add the same terms in another order


@dataclass
class OfflineResult:
    comparisons: list[ComparisonMessage]
    stats: dict[str, AgreementStats]
    rejected: int = 0  # records that did not validate (online, they are dead letters)
    problems: list[str] = field(default_factory=list)  # differences from the online output, if it was given
    checked: list[str] = field(default_factory=list)  # which online outputs were checked

    @property
    def matches(self) -> bool:
        return not self.problems


def snapshot_lines(folder: Path, topic: str) -> Iterator[bytes]:
    path = folder / f"{topic}.jsonl"
    if not path.exists():
        return
    with path.open("rb") as f:
        for line in f:
            if line.strip():
                yield line.rstrip(b"\n")


def recompute_comparisons(folder: Path, ctx: CompareContext) -> tuple[list[ComparisonMessage], int]:
    """The comparator's output from the snapshots of the joined topics (and how many records were invalid)."""
    missing = [t for t in JOINED if not (folder / f"{t}.jsonl").exists()]
    if missing:
        raise InvalidInput(str(folder), "snapshot", f"missing {', '.join(t + '.jsonl' for t in missing)} "
                           "(export them with `shadowqa snapshot export --topic T --out DIR/T.jsonl`)")
    pending: dict[str, Pending] = {}
    rejected = 0
    for topic in JOINED:
        for raw in snapshot_lines(folder, topic):
            try:
                frame_id, update = absorb(topic, raw)
            except InvalidMessage:
                rejected += 1
                continue
            pending[frame_id] = update(pending.get(frame_id) or Pending(since=0.0))
    return compare_ready(pending, ctx), rejected


def count_once(comparisons: list[ComparisonMessage]) -> list[ComparisonMessage]:
    seen: set[tuple[str, str]] = set()
    out = []
    for c in comparisons:
        if (c.frame_id, c.kind) not in seen:
            seen.add((c.frame_id, c.kind))
            out.append(c)
    return out


def replay_snapshot(folder: Path, dataset: str, *, target: float, alpha: float) -> OfflineResult:
    ctx = CompareContext.for_dataset(dataset)
    comparisons, rejected = recompute_comparisons(folder, ctx)
    comparisons = count_once(comparisons)
    folds = fold_all(comparisons)
    stats = {s: f.stats(s, target=target, alpha=alpha, time=0.0) for s, f in sorted(folds.items())}
    result = OfflineResult(comparisons, stats, rejected)
    if (folder / "comparisons.jsonl").exists():
        result.checked.append("comparisons")
        result.problems += _check_comparisons(folder, comparisons)
    if (folder / "agreement-stats.jsonl").exists():
        result.checked.append("agreement-stats")
        result.problems += _check_stats(folder, folds, stats)
    return result


def _key(c: ComparisonMessage) -> tuple[Any, ...]:
    return (c.frame_id, c.kind, c.accepted, c.inclusion_prob, c.stratum, c.tp, c.fp, c.fn, c.mean_iou,
            c.model_version, c.policy_version)


def _check_comparisons(folder: Path, offline: list[ComparisonMessage]) -> list[str]:
    online = count_once([decode(ComparisonMessage, raw) for raw in snapshot_lines(folder, "comparisons")])
    a, b = {_key(c) for c in online}, {_key(c) for c in offline}
    problems = []
    if a - b:
        problems.append(f"{len(a - b)} online comparisons differ from or are missing in the recomputation, "
                        f"e.g. {sorted(a - b)[0]}")
    if b - a:
        problems.append(f"{len(b - a)} recomputed comparisons are missing online, e.g. {sorted(b - a)[0]}")
    return problems


def _check_stats(folder: Path, folds: dict[str, StratumFold], offline: dict[str, AgreementStats]) -> list[str]:
    latest: dict[str, AgreementStats] = {}
    for raw in snapshot_lines(folder, "agreement-stats"):
        s = decode(AgreementStats, raw)
        current = latest.get(s.stratum)
        if current is None or (s.n, s.time) >= (current.n, current.time):
            latest[s.stratum] = s
    problems = []
    for stratum in sorted(set(latest) | set(offline)):
        on, off = latest.get(stratum), offline.get(stratum)
        if on is None or off is None:
            problems.append(f"stratum {stratum}: only {'offline' if on is None else 'online'}")
            continue
        problems += [f"stratum {stratum}: {what}" for what in _differences(on, off)]
    return problems


def _differences(on: AgreementStats, off: AgreementStats) -> Iterator[str]:
    a, b = on.model_dump(), off.model_dump()
    for name in ("n", "decision", "model_version"):
        if a[name] != b[name]:
            yield f"{name} online {a[name]!r}, offline {b[name]!r}"
    for name in ("estimate", "lower", "upper"):
        if not _close(a[name], b[name]):
            yield f"{name} online {a[name]!r}, offline {b[name]!r}"
    if not _same_floor(a.get("human_floor"), b.get("human_floor")):
        yield f"human floor online {a.get('human_floor')!r}, offline {b.get('human_floor')!r}"


def _same_floor(fa: dict[str, Any] | None, fb: dict[str, Any] | None) -> bool:
    if fa is None or fb is None:
        return fa is fb
    return fa["n"] == fb["n"] and all(_close(fa[k], fb[k]) for k in ("estimate", "lower", "upper"))


def _close(x: float | None, y: float | None) -> bool:
    if x is None or y is None:
        return x is y
    return math.isclose(x, y, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def result_document(result: OfflineResult) -> dict[str, Any]:
    return {
        "comparisons": len(result.comparisons),
        "rejected_records": result.rejected,
        "stats": {s: orjson.loads(v.model_dump_json()) for s, v in result.stats.items()},
        "checked": result.checked,
        "matches_online": result.matches if result.checked else None,
        "problems": result.problems,
    }
