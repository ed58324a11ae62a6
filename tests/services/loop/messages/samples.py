"""One valid message of every kind, as the JSON documents a producer would send.

``SAMPLES`` are the current schema (version 2 for the messages that carry
tagged geometry); ``V1_SAMPLES`` are those messages as version 1 wrote them
(``boxes`` / ``bbox``), as recorded topics and stored rows still hold them.
"""

from __future__ import annotations

import copy
from typing import Any

T = 1_760_000_000.25

SAMPLES: dict[str, dict[str, Any]] = {
    "frames": {"schema_version": 1, "frame_id": "driving-s0-000007", "seq": 8, "image": "synthetic://driving?seed=0#7",
               "stratum": "all", "time": T, "meta": {"source": "synthetic://driving?seed=0&n=10"}},
    "automation-results": {
        "schema_version": 2, "frame_id": "driving-s0-000007", "seq": 8, "image": "synthetic://driving?seed=0#7",
        "stratum": "weather=rain", "time": T, "model_version": "driving-detector@149ada442bd0", "confidence": 0.81,
        "geometries": [{"type": "box2d", "xywh": [10.0, 20.5, 30.0, 12.0]}, {"type": "box2d", "xywh": [0, 0, 5, 5]}],
        "category_ids": [1, 2], "scores": [0.9, 0.4],
        "tags": {"weather": "rain"}, "tag_scores": {"weather": 0.93}, "inference_ms": 4.5, "error": None,
    },
    "manual-queue": {
        "schema_version": 1, "task_id": "driving-s0-000007/2", "frame_id": "driving-s0-000007", "seq": 8,
        "image": "synthetic://driving?seed=0#7", "copy": 2, "inclusion_prob": 0.25, "consensus_prob": 0.1,
        "policy_version": 3, "copies": 2, "stratum": "all", "time": T,
    },
    "deliveries": {
        "schema_version": 2, "frame_id": "driving-s0-000007", "seq": 8, "model_version": "m@1", "policy_version": 3,
        "inclusion_prob": 0.25, "time": T, "geometries": [{"type": "box2d", "xywh": [1, 2, 3, 4]}],
        "category_ids": [4], "scores": [0.7], "tags": {},
    },
    "manual-annotations": {
        "schema_version": 2, "task_id": "driving-s0-000007/1", "frame_id": "driving-s0-000007", "seq": 8, "copy": 1,
        "annotator": "sim-2", "inclusion_prob": 1.0, "consensus_prob": 0.0, "policy_version": 0, "copies": 1,
        "stratum": "all",
        "objects": [{"geometry": {"type": "box2d", "xywh": [10.0, 20.0, 30.0, 12.0]}, "category_id": 1,
                     "attributes": {"occluded": False, "visibility": 0.8, "truncated": 0, "colour": "red"}}],
        "tags": {"weather": "rain", "time_of_day": "day"}, "time": T,
    },
    "comparisons": {
        "schema_version": 1, "frame_id": "driving-s0-000007", "kind": "machine", "accepted": True,
        "inclusion_prob": 0.25, "stratum": "all", "confidence": 0.81, "model_version": "m@1", "time": T,
        "tp": 3, "fp": 0, "fn": 1, "mean_iou": 0.77, "policy_version": 0,
    },
    "agreement-stats": {
        "schema_version": 1, "stratum": "all", "model_version": "m@1", "n": 120, "estimate": 0.9, "lower": 0.8,
        "upper": 0.95, "decision": "inconclusive", "target": 0.85, "alpha": 0.05,
        "human_floor": {"estimate": 0.93, "lower": 0.85, "upper": 0.97, "n": 40}, "time": T,
    },
    "recommendations": {
        "schema_version": 1, "stratum": "all", "thresholds": {"all": 0.9, "weather=fog": None},
        "automation_rate": 0.2, "action": "raise", "reason": "certified", "policy_version": 4, "time": T,
    },
    "policies": {
        "schema_version": 1, "version": 4, "default": None, "thresholds": {"all": 0.9}, "applied_by": "recommender",
        "reason": "certified", "time": T, "pinned": {"weather=rain": "ops-lead"},
        "evidence": {"all": {"n": 120, "acceptance": 0.91}, "weather=rain": {"n": 0, "acceptance": None}},
    },
    "dead-letters": {
        "schema_version": 1, "reason": "frames: missing required field 'seq'", "stage": "automation-worker",
        "source_topic": "frames", "partition": 2, "offset": 41, "key": "f-1", "value": "{}", "encoding": "utf-8",
        "time": T,
    },
}


def _v1(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` as schema version 1 wrote it: boxes instead of tagged box2d geometries."""
    doc = copy.deepcopy(doc)
    doc["schema_version"] = 1
    if "geometries" in doc:
        doc["boxes"] = [g["xywh"] for g in doc.pop("geometries")]
    for obj in doc.get("objects", []):
        obj["bbox"] = obj.pop("geometry")["xywh"]
    return doc


V1_SAMPLES: dict[str, dict[str, Any]] = {
    kind: _v1(SAMPLES[kind]) for kind in ("automation-results", "deliveries", "manual-annotations")
}


def sample(kind: str, /, **changes: Any) -> dict[str, Any]:
    """A deep copy of the valid ``kind`` message with top-level fields changed (``DELETE`` removes one)."""
    return _changed(SAMPLES[kind], changes)


def v1_sample(kind: str, /, **changes: Any) -> dict[str, Any]:
    """As :func:`sample`, of the version 1 form of a message that now carries tagged geometry."""
    return _changed(V1_SAMPLES[kind], changes)


def _changed(original: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(original)
    for key, value in changes.items():
        if value is DELETE:
            del doc[key]
        else:
            doc[key] = value
    return doc


DELETE = object()
