"""Comparisons files (JSON Lines): one compared frame per line, errors named by line number.

    {"frame_id": "f-17", "accepted": true, "inclusion_prob": 0.1, "stratum": "weather=rain",
     "confidence": 0.93, "model_version": "driving-detector@149ada442bd0", "time": 3600.0}

``accepted`` is required; ``inclusion_prob`` defaults to 1, ``stratum`` to "all".
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from analysis.annotations import checks
from analysis.exceptions import InvalidInput
from analysis.observations import Observation
from analysis.policy.automation import ALL
from services.io.files import read_bytes


def read_comparisons(path: str | Path) -> list[Observation]:
    """Every observation of the file, in order; the first bad line raises InvalidInput."""
    return list(iter_comparisons(path))


def iter_comparisons(path: str | Path) -> Iterator[Observation]:
    source = str(path)
    for number, line in enumerate(read_bytes(path).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(source, where, f"not JSON ({exc.msg})") from None
        yield parse_observation(doc, source, where)


def parse_observation(doc: Any, source: str, where: str) -> Observation:
    rec = checks.as_record(doc, source, where)
    accepted = rec.get("accepted", _MISSING)
    if accepted is _MISSING:
        raise InvalidInput(source, where, "missing required field 'accepted'")
    if not isinstance(accepted, bool):
        raise InvalidInput(source, f"{where}: accepted", f"expected true or false, got {checks.describe(accepted)}")
    frame_id = rec.get("frame_id", "")
    if not isinstance(frame_id, str | int) or isinstance(frame_id, bool):
        problem = f"expected a string or integer, got {checks.describe(frame_id)}"
        raise InvalidInput(source, f"{where}: frame_id", problem)
    return Observation(
        frame_id=str(frame_id), accepted=accepted,
        inclusion_prob=checks.number(rec.get("inclusion_prob", 1.0), source, f"{where}: inclusion_prob",
                                     above=0.0, maximum=1.0),
        stratum=checks.text(rec.get("stratum", ALL), source, f"{where}: stratum"),
        confidence=_optional_number(rec, "confidence", source, where),
        model_version=checks.text(rec.get("model_version", ""), source, f"{where}: model_version"),
        time=_optional_number(rec, "time", source, where),
    )


def _optional_number(rec: Any, key: str, source: str, where: str) -> float:
    value = rec.get(key)
    return math.nan if value is None else checks.number(value, source, f"{where}: {key}")


_MISSING = object()
