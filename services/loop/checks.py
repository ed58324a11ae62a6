"""Differences between the online output (topic snapshots) and the offline recomputation of it.

Statistics are sums, equal up to float rounding in any order; recommendations
depend on the order comparisons were counted in, which is the ``comparisons``
topic's (one partition) and its snapshot's (exported in offset order).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from services.loop.messages import AgreementStats, ComparisonMessage, RecommendationMessage, decode

TOLERANCE = 1e-9  # online and offline folds add the same terms, possibly in another order


def snapshot_lines(folder: Path, topic: str) -> Iterator[bytes]:
    path = folder / f"{topic}.jsonl"
    if not path.exists():
        return
    with path.open("rb") as f:
        for line in f:
            if line.strip():
                yield line.rstrip(b"\n")


def count_once(comparisons: list[ComparisonMessage]) -> list[ComparisonMessage]:
    """The aggregator's rule: the first comparison of each (frame, kind) counts, later ones are dropped."""
    seen: set[tuple[str, str]] = set()
    out = []
    for c in comparisons:
        if (c.frame_id, c.kind) not in seen:
            seen.add((c.frame_id, c.kind))
            out.append(c)
    return out


def comparison_key(c: ComparisonMessage) -> tuple[Any, ...]:
    return (c.frame_id, c.kind, c.accepted, c.inclusion_prob, c.stratum, c.tp, c.fp, c.fn, c.mean_iou,
            c.model_version, c.policy_version)


def check_comparisons(online: list[ComparisonMessage], offline: list[ComparisonMessage]) -> list[str]:
    a, b = {comparison_key(c) for c in online}, {comparison_key(c) for c in offline}
    problems = []
    if a - b:
        problems.append(f"{len(a - b)} online comparisons differ from or are missing in the recomputation, "
                        f"e.g. {sorted(a - b)[0]}")
    if b - a:
        problems.append(f"{len(b - a)} recomputed comparisons are missing online, e.g. {sorted(b - a)[0]}")
    return problems


def check_stats(folder: Path, offline: dict[str, AgreementStats]) -> list[str]:
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
        problems += [f"stratum {stratum}: {what}" for what in _stats_differences(on, off)]
    return problems


def check_recommendations(folder: Path, offline: list[RecommendationMessage]) -> list[str]:
    """Online and offline recommendations, one by one, on (policy version, thresholds, action, automation rate)."""
    online = [decode(RecommendationMessage, raw) for raw in snapshot_lines(folder, "recommendations")]
    problems = []
    if len(online) != len(offline):
        problems.append(f"{len(online)} recommendations online, {len(offline)} recomputed")
    for k, (on, off) in enumerate(zip(online, offline, strict=False)):
        problems += [f"recommendation {k}: {what}" for what in recommendation_differences(on, off)]
    return problems


def recommendation_differences(on: RecommendationMessage, off: RecommendationMessage) -> Iterator[str]:
    for name, same in (("policy_version", _equal), ("action", _equal), ("automation_rate", _close),
                       ("thresholds", _same_thresholds)):
        a, b = getattr(on, name), getattr(off, name)
        if not same(a, b):
            yield f"{name} online {a!r}, offline {b!r}"


def _equal(a: Any, b: Any) -> bool:
    return bool(a == b)


def _same_thresholds(a: dict[str, float | None], b: dict[str, float | None]) -> bool:
    return set(a) == set(b) and all(_close(a[k], b[k]) for k in a)


def _stats_differences(on: AgreementStats, off: AgreementStats) -> Iterator[str]:
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

