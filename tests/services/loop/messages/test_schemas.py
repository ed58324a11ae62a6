"""Message schemas: valid messages of every kind, and invalid ones refused with a reason naming the field."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from services.loop.messages import KINDS, InvalidMessage, ManualTask, Message, decode, encode
from services.loop.messages.geometry import Shape
from tests.services.loop.messages.samples import DELETE, SAMPLES, V1_SAMPLES, sample, v1_sample


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_valid_messages_decode_and_round_trip(kind: str) -> None:
    raw = orjson.dumps(SAMPLES[kind])
    message = decode(kind, raw)
    assert type(message) is KINDS[kind]
    assert orjson.loads(encode(message)) == SAMPLES[kind]
    assert decode(type(message), encode(message)) == message


def test_every_topic_of_the_contract_has_a_model() -> None:
    assert set(KINDS) == set(SAMPLES) == {
        "frames", "automation-results", "manual-queue", "deliveries", "manual-annotations", "comparisons",
        "agreement-stats", "recommendations", "policies", "dead-letters",
    }


def test_unknown_fields_are_ignored_and_not_passed_on() -> None:
    message = decode("frames", orjson.dumps(sample("frames", colour="blue", future={"x": 1})))
    assert "colour" not in orjson.loads(encode(message))


def test_stratum_defaults_to_all() -> None:
    message = decode("frames", orjson.dumps(sample("frames", stratum=DELETE)))
    assert orjson.loads(encode(message))["stratum"] == "all"


def test_integers_are_accepted_where_numbers_are_expected() -> None:
    message = decode("comparisons", orjson.dumps(sample("comparisons", time=17, mean_iou=1)))
    assert orjson.loads(encode(message))["time"] == 17.0


MACHINE_OUTPUT = ("geometries", "boxes", "category_ids", "scores", "tags", "tag_scores", "confidence",
                  "model_version", "objects", "accepted", "error", "inference_ms")


def test_a_manual_task_has_no_place_for_machine_output() -> None:
    assert not set(MACHINE_OUTPUT) & set(ManualTask.model_fields)
    leaked = sample("manual-queue", **{k: v for k, v in SAMPLES["automation-results"].items() if k in MACHINE_OUTPUT})
    task = decode(ManualTask, orjson.dumps(leaked))  # not refused: the output simply has nowhere to go
    assert not set(MACHINE_OUTPUT) & set(orjson.loads(encode(task)))
    assert orjson.loads(encode(task)) == SAMPLES["manual-queue"]


def _annotation_object(**changes: Any) -> dict[str, Any]:
    """The sample's object (in its version 1 form when ``bbox`` is changed)."""
    obj = dict((V1_SAMPLES if "bbox" in changes else SAMPLES)["manual-annotations"]["objects"][0])
    obj.update(changes)
    return obj


def _four_objects(bad: dict[str, Any]) -> list[dict[str, Any]]:
    return [_annotation_object(), _annotation_object(), _annotation_object(), bad]


BOX = {"type": "box2d", "xywh": [1, 2, 3, 4]}

INVALID: list[tuple[str, Any, str]] = [
    ("frames", b"{nope", "frames: not JSON (key must be a string at line 1 column 2)"),
    ("frames", b"\xff\xfe", "frames: not JSON (expected value at line 1 column 1)"),
    ("frames", b"[1, 2]", "frames: expected an object, got a list of 2"),
    ("frames", sample("frames", schema_version=2), "frames: schema_version 2 is not supported"),
    ("frames", sample("frames", schema_version="1"), "frames: schema_version: expected 1, got string '1'"),
    ("frames", sample("frames", schema_version=DELETE), "frames: missing required field 'schema_version'"),
    ("frames", sample("frames", seq=DELETE), "frames: missing required field 'seq'"),
    ("frames", sample("frames", seq="8"), "frames: seq: expected an integer, got string '8'"),
    ("frames", sample("frames", seq=8.0), "frames: seq: expected an integer, got number 8.0"),
    ("frames", sample("frames", seq=-1), "frames: seq: must be >= 0, got -1"),
    ("frames", sample("frames", seq=2**63), f"frames: seq: must be <= {2**63 - 1}, got {2**63}"),
    ("frames", sample("frames", frame_id=7), "frames: frame_id: expected a string, got number 7"),
    ("frames", sample("frames", frame_id=""), "frames: frame_id: is empty"),
    ("frames", sample("frames", time=True), "frames: time: expected a number, got boolean true"),
    ("frames", sample("frames", meta=[]), "frames: meta: expected an object, got a list of 0"),
    ("frames", b'{"schema_version": 1, "frame_id": "f", "seq": 1, "image": "x", "time": NaN, "meta": {}}',
     "frames: time: must be finite, got nan"),
    ("automation-results", v1_sample("automation-results", boxes=[[1, 2, 3, 4], [1, 2, -3, 4]]),
     "automation-results: boxes[1]: width is negative"),
    ("automation-results", v1_sample("automation-results", boxes=[[1, 2, 3, 4], [1, 2, 3, -0.5]]),
     "automation-results: boxes[1]: height is negative"),
    ("automation-results", v1_sample("automation-results", boxes=[[1, 2, 3], [1, 2, 3, 4]]),
     "automation-results: boxes[0]: expected [x, y, width, height], got 3 values"),
    ("automation-results", v1_sample("automation-results", boxes=[[1, 2, 3, 4, 5], [1, 2, 3, 4]]),
     "automation-results: boxes[0]: expected [x, y, width, height], got 5 values"),
    ("automation-results", v1_sample("automation-results", boxes=[[1, "a", 3, 4], [1, 2, 3, 4]]),
     "automation-results: boxes[0][1]: expected a number, got string 'a'"),
    ("automation-results", v1_sample("automation-results", boxes=[5, [1, 2, 3, 4]]),
     "automation-results: boxes[0]: expected a list, got number 5"),
    ("automation-results", v1_sample("automation-results", scores=[0.9]),
     "automation-results: scores: 1 values for 2 boxes"),
    ("automation-results", sample("automation-results", category_ids=[1, 2, 3]),
     "automation-results: category_ids: 3 values for 2 geometries"),
    ("automation-results", sample("automation-results", geometries=[BOX, {"type": "box2d", "xywh": [1, 2, -3, 4]}]),
     "automation-results: geometries[1]: xywh: width is negative"),
    ("automation-results", sample("automation-results", geometries=[BOX, {"type": "box2d", "xywh": [1, 2, 3]}]),
     "automation-results: geometries[1]: xywh: expected [x, y, width, height], got 3 values"),
    ("automation-results", sample("automation-results", geometries=[BOX, {"type": "box2d", "xywh": [1, "a", 3, 4]}]),
     "automation-results: geometries[1]: xywh[1]: expected a number, got string 'a'"),
    ("automation-results", sample("automation-results", geometries=[BOX, {"xywh": [1, 2, 3, 4]}]),
     "automation-results: geometries[1]: missing required field 'type'"),
    ("automation-results", sample("automation-results", geometries=[BOX, {"type": "lidar_blob", "xyz": [1]}]),
     "automation-results: geometries[1]: type: unknown geometry kind 'lidar_blob' (known: ['box2d', 'cuboid3d', "
     "'mask', 'polygon'])"),
    ("automation-results", sample("automation-results", geometries=[BOX, {"type": "cuboid3d", "centre": [1]}]),
     "automation-results: geometries[1]: centre: expected 3 numbers, got 1 value"),
    ("automation-results", sample("automation-results", geometries=[BOX, [1, 2, 3, 4]]),
     "automation-results: geometries[1]: expected an object, got a list of 4"),
    ("automation-results", sample("automation-results", geometries=DELETE),
     "automation-results: missing required field 'geometries'"),
    ("automation-results", sample("automation-results", schema_version=3),
     "automation-results: schema_version 3 is not supported"),
    ("automation-results", sample("automation-results", scores=[0.9, 1.5]),
     "automation-results: scores[1]: must be <= 1.0, got 1.5"),
    ("automation-results", sample("automation-results", confidence="high"),
     "automation-results: confidence: expected a number, got string 'high'"),
    ("automation-results", sample("automation-results", tags={"weather": 3}),
     "automation-results: tags.weather: expected a string, got number 3"),
    ("automation-results", sample("automation-results", error=DELETE),
     "automation-results: missing required field 'error'"),
    ("manual-queue", sample("manual-queue", copy=3), "manual-queue: copy: expected 1 or 2, got number 3"),
    ("manual-queue", sample("manual-queue", task_id="driving-s0-000007/1"),
     "manual-queue: task_id: expected 'driving-s0-000007/2' (<frame_id>/<copy>), got 'driving-s0-000007/1'"),
    ("manual-queue", sample("manual-queue", inclusion_prob=0), "manual-queue: inclusion_prob: must be > 0.0, got 0"),
    ("manual-queue", sample("manual-queue", policy_version=None),
     "manual-queue: policy_version: expected an integer, got null"),
    ("manual-annotations", sample("manual-annotations", objects=_four_objects(_annotation_object(bbox=[1, 2, -3, 4]))),
     "manual-annotations: objects[3].bbox: width is negative"),
    ("manual-annotations", sample("manual-annotations", objects=_four_objects({"geometry": BOX,
                                                                                "category_id": 1})),
     "manual-annotations: objects[3]: missing required field 'attributes'"),
    ("manual-annotations", sample("manual-annotations", objects=_four_objects({"category_id": 1, "attributes": {}})),
     "manual-annotations: objects[3]: missing required field 'geometry'"),
    ("manual-annotations", sample("manual-annotations", objects=_four_objects(
        _annotation_object(geometry={"type": "polygon", "parts": [[0, 0, 1, 1]]}))),
     "manual-annotations: objects[3].geometry: parts[0]: a polygon part needs an even count of at least 6 numbers "
     "(3 points), got 4"),
    ("manual-annotations", sample("manual-annotations", objects=[_annotation_object(category_id="car")]),
     "manual-annotations: objects[0].category_id: expected an integer, got string 'car'"),
    ("manual-annotations", sample("manual-annotations", objects=[_annotation_object(attributes={"occluded": [1]})]),
     "manual-annotations: objects[0].attributes.occluded: expected a string, number or boolean, got a list of 1"),
    ("manual-annotations", sample("manual-annotations", objects=[_annotation_object(bbox=[1, 2, 3, float("nan")])]),
     "manual-annotations: objects[0].bbox[3]: expected a number, got null"),
    ("manual-annotations", sample("manual-annotations", annotator=""), "manual-annotations: annotator: is empty"),
    ("comparisons", sample("comparisons", accepted=1), "comparisons: accepted: expected true or false, got number 1"),
    ("comparisons", sample("comparisons", kind="human"),
     "comparisons: kind: expected 'machine' or 'consensus', got string 'human'"),
    ("comparisons", sample("comparisons", fn=-2), "comparisons: fn: must be >= 0, got -2"),
    ("agreement-stats", sample("agreement-stats", decision="maybe"),
     "agreement-stats: decision: expected 'pass', 'fail' or 'inconclusive', got string 'maybe'"),
    ("agreement-stats", sample("agreement-stats", human_floor={"estimate": 0.9, "lower": 0.8, "upper": 0.95}),
     "agreement-stats: human_floor: missing required field 'n'"),
    ("recommendations", sample("recommendations", thresholds={"all": "high"}),
     "recommendations: thresholds.all: expected a number, got string 'high'"),
    ("recommendations", sample("recommendations", action="jump"),
     "recommendations: action: expected 'raise', 'hold', 'lower' or 'step_down', got string 'jump'"),
    ("policies", sample("policies", default=1.5), "policies: default: must be <= 1.0, got 1.5"),
    ("dead-letters", sample("dead-letters", encoding="base64", value="%%%"),
     "dead-letters: value: not valid base64"),
    ("dead-letters", sample("dead-letters", offset=-1), "dead-letters: offset: must be >= 0, got -1"),
]


@pytest.mark.parametrize(("kind", "doc", "expected"), INVALID, ids=[r for _, _, r in INVALID])
def test_invalid_messages_are_refused_naming_the_field(kind: str, doc: Any, expected: str) -> None:
    raw = doc if isinstance(doc, bytes) else orjson.dumps(doc)
    with pytest.raises(InvalidMessage) as caught:
        decode(kind, raw)
    assert caught.value.reason == expected == str(caught.value)
    assert "\n" not in expected


def test_a_missing_value_is_a_tombstone() -> None:
    with pytest.raises(InvalidMessage, match=r"^frames: no value \(a tombstone\)$"):
        decode("frames", None)


def test_an_unknown_kind_is_named() -> None:
    with pytest.raises(InvalidMessage, match="unknown message kind 'frame'"):
        decode("frame", b"{}")


def test_models_are_immutable_values() -> None:
    message: Message = decode("frames", orjson.dumps(SAMPLES["frames"]))
    with pytest.raises(ValueError, match="frozen"):
        message.schema_version = 1


def test_messages_built_in_python_default_to_their_current_schema_version() -> None:
    from services.loop.messages import AutomationMessage, ManualTask

    doc = {k: v for k, v in SAMPLES["automation-results"].items() if k != "schema_version"}
    built = AutomationMessage(**doc)
    assert built.schema_version == 2 and built.geometries[0] == Shape("box2d", (10.0, 20.5, 30.0, 12.0))
    assert orjson.loads(encode(built)) == SAMPLES["automation-results"]
    task = ManualTask(**{k: v for k, v in SAMPLES["manual-queue"].items() if k != "schema_version"})
    assert task.schema_version == 1


@pytest.mark.parametrize("kind", sorted(V1_SAMPLES))
def test_version_1_messages_are_read_as_their_version_2_equivalent(kind: str) -> None:
    """Recorded topics and stored rows hold version 1: boxes read as box2d geometries, re-encoded as version 2."""
    old = decode(kind, orjson.dumps(V1_SAMPLES[kind]))
    assert old == decode(kind, orjson.dumps(SAMPLES[kind]))
    assert orjson.loads(encode(old)) == SAMPLES[kind]


def test_version_1_wins_nothing_over_a_given_geometry_and_is_not_written() -> None:
    both = sample("automation-results", boxes=[[0, 0, 1, 1], [0, 0, 1, 1]])
    message = decode("automation-results", orjson.dumps(both))
    assert message.geometries[0].value == (10.0, 20.5, 30.0, 12.0) and "boxes" not in orjson.loads(encode(message))


@pytest.mark.parametrize("geometry", [
    {"type": "mask", "size": [2, 3], "counts": "123"},
    {"type": "polygon", "parts": [[0.0, 0.0, 4.0, 0.0, 4.0, 2.0]]},
])
def test_every_registered_kind_travels(geometry: dict[str, Any]) -> None:
    doc = sample("manual-annotations", objects=[_annotation_object(geometry=geometry)])
    message = decode("manual-annotations", orjson.dumps(doc))
    assert message.objects[0].geometry.kind == geometry["type"]
    assert orjson.loads(encode(message))["objects"][0]["geometry"] == geometry


def test_copy_is_copy_on_the_wire() -> None:
    task = ManualTask(**{k: v for k, v in SAMPLES["manual-queue"].items() if k != "schema_version"})
    assert task.copy_ == 2 and orjson.loads(encode(task))["copy"] == 2
