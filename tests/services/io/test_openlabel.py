"""OpenLABEL 1.0: the ASAM examples read (checked against VCD, Vicomtech's toolkit), documents and
annotations round-trip losslessly, VCD reads what we write and we read what VCD writes."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from vcd import core, types, utils

from analysis.annotations.model import Annotations
from analysis.exceptions import InvalidInput
from services.io.openlabel import (
    Element,
    ElementData,
    Frame,
    OpenLabel,
    Shape,
    Value,
    from_annotations,
    read_openlabel,
    to_annotations,
    write_openlabel,
)
from services.io.openlabel.shapes import euler_quaternion
from tests.utils.realdata import realdata

BBOX, CUBOIDS = "openlabel/openlabel100_test_bbox_simple.json", "openlabel/openlabel100_test_cuboids.json"
ASAM_BOXES = [  # name, type, [cx, cy, w, h] as printed in ASAM OpenLABEL 1.0 §7.12.1
    ("car1", "Car", [436.0, 303.5, 52, 47]), ("car2", "Car", [153.0, 297.0, 96, 34]),
    ("car3", "Car", [229.5, 301.0, 63, 42]), ("bus1", "Bus", [496.0, 289.5, 56, 47]),
    ("zebracross1", "ZebraCross", [553.0, 385.5, 524, 55]), ("semaphore1", "Semaphore", [186.0, 120.0, 38, 81]),
    ("semaphore2", "Semaphore", [901.0, 176.5, 32, 63]),
]


def _read(relative: str) -> tuple[dict[str, Any], OpenLabel]:
    path = realdata(relative)
    raw = json.loads(path.read_text(encoding="utf-8"))
    return raw, read_openlabel(raw, str(path))


def _vcd(path: Path) -> core.OpenLABEL:
    vcd = core.OpenLABEL()
    vcd.load_from_file(str(path), validation=True)
    return vcd


def test_the_asam_bbox_example_reads_as_its_seven_boxes() -> None:
    _, doc = _read(BBOX)
    assert [(e.name, e.type, list(e.data.shapes[0].val)) for e in doc.objects.values()] == ASAM_BOXES
    ann = to_annotations(doc, "bbox")
    assert ann.images.ids.tolist() == [0] and ann.categories.names == ("Bus", "Car", "Semaphore", "ZebraCross")
    boxes = [[cx - w / 2, cy - h / 2, w, h] for _, _, (cx, cy, w, h) in ASAM_BOXES]
    assert ann.objects.boxes.tolist() == boxes and ann.objects.track_id.tolist() == list(range(7))
    assert [ann.categories.names[c] for c in ann.objects.category] == [t for _, t, _ in ASAM_BOXES]
    vcd = _vcd(realdata(BBOX))  # VCD reports the same objects and values
    for uid, (name, kind, val) in zip(vcd.get_objects(), ASAM_BOXES, strict=True):
        assert (vcd.get_object(uid)["name"], vcd.get_object(uid)["type"]) == (name, kind)
        assert vcd.get_object_data(uid, "shape")["val"] == val


def test_the_cuboid_example_keeps_the_pitch_and_matches_on_the_heading() -> None:
    _, doc = _read(CUBOIDS)
    assert list(doc.coordinate_systems) == ["vehicle-iso8855"] and len(doc.objects) == 2
    ann = to_annotations(doc, "cuboids")
    assert list(ann.objects.geometry) == ["cuboid3d"] and len(ann.objects) == 2
    block = ann.objects.geometry["cuboid3d"]
    assert block["box"].tolist() == [[0, 20, -0.85, 1.5, 4.5, 1.7, 0], [0, 10, -0.85, 1.5, 4.5, 1.7, 0]]
    assert block["frame"].tolist() == ["vehicle-iso8855"] * 2
    w, x, y, z = block["quaternion"][0]
    vcd = _vcd(realdata(CUBOIDS))
    car1 = vcd.get_object_data("0", "box3D")["val"]
    rx, ry, rz = car1[3:6]
    np.testing.assert_allclose(utils.q2R(x, y, z, w), utils.euler2R([rz, ry, rx]), rtol=0, atol=1e-15)
    assert vcd.get_object_data("1", "box3D")["traslation"] == [0.0, 10.0, -0.85]
    assert np.isnan(block["quaternion"][1]).all()  # VCD 4's identity quaternion: upright


@pytest.mark.parametrize("relative", [BBOX, CUBOIDS])
def test_the_examples_are_written_back_byte_for_byte_in_content(relative: str, tmp_path: Path) -> None:
    raw, doc = _read(relative)
    assert write_openlabel(doc) == raw
    saved = tmp_path / "vcd.json"
    _vcd(realdata(relative)).save(str(saved), validate=True)
    assert read_openlabel(json.loads(saved.read_text()), "vcd") == doc


# randomized documents ---------------------------------------------------------------------------------------

def _scalar(rng: np.random.Generator, i: int) -> Value:
    kind = ("text", "num", "boolean")[i % 3]
    val: Any = {"text": f"v{rng.integers(3)}", "num": float(rng.normal()), "boolean": bool(rng.integers(2))}[kind]
    return Value(kind, f"{kind}_{i % 2}", val)


def _shape(rng: np.random.Generator, kind: str, name: str, grid: bool) -> Shape:
    if kind == "bbox":
        val = rng.integers(0, 64_000, 4) / 64 if grid else rng.uniform(0, 1000, 4)
        return Shape("bbox", name, tuple(float(v) for v in val))
    centre, size = rng.normal(0, 30, 3), rng.uniform(0.5, 5, 3)
    form = rng.integers(4)
    if form == 0:
        rotation = [0.0, 0.0, float(rng.uniform(-math.pi, math.pi))]
    elif form == 1:
        rotation = list(rng.uniform(-0.4, 0.4, 3))
    else:
        q = rng.normal(size=4)
        rotation = list(q / np.linalg.norm(q))
    val = tuple(float(v) for v in (*centre, *rotation, *size))
    return Shape("cuboid", name, val, str(rng.choice(["lidar", "vehicle-iso8855"])), form == 3)


def random_document(seed: int, *, kind: str = "", one_shape: bool = False, grid: bool = False) -> OpenLabel:
    """Objects with static and dynamic boxes or cuboids (yaw, Euler, quaternion and VCD 4 forms),
    attributes, a score, tags as contexts, several frames with properties, streams and coordinate systems."""
    rng = np.random.default_rng(seed)
    frames = sorted(set(rng.integers(0, 30, 6).tolist()))
    kinds = [kind] if kind else ["bbox", "cuboid"]
    objects: dict[str, Element] = {}
    per_frame: dict[int, dict[str, ElementData]] = {f: {} for f in frames}
    for uid in map(str, rng.permutation(12)[:int(rng.integers(3, 8))].tolist()):
        shape_kind = str(rng.choice(kinds))
        on = sorted(rng.choice(frames, int(rng.integers(1, len(frames) + 1)), replace=False).tolist())
        static = not one_shape and rng.random() < 0.3
        values = tuple(_scalar(rng, i) for i in range(int(rng.integers(0, 3))))
        data = ElementData((_shape(rng, shape_kind, "s0", grid),), values) if static else ElementData(values=values)
        objects[uid] = Element(f"obj{uid}", str(rng.choice(["car", "pedestrian", "bus"])), data,
                               () if static else ((on[0], on[-1]),))
        for f in [] if static else on:
            n = 1 if one_shape else int(rng.integers(1, 3))
            shapes = tuple(_shape(rng, shape_kind, f"s{j}", grid) for j in range(n))
            extra = (_scalar(rng, 0), Value("num", "score", float(rng.uniform()))) if rng.random() < 0.5 else ()
            per_frame[f][uid] = ElementData(shapes, extra)
    contexts = {"0": Element("weather", "weather"), "1": Element("light", "light", frame_intervals=((frames[0],) * 2,))}
    return OpenLabel(
        metadata={"schema_version": "1.0.0", "annotator": "test"}, objects=objects, contexts=contexts,
        frames={f: Frame(per_frame[f], {"0": ElementData(values=(Value("text", "weather", f"w{f % 3}"),))},
                         {"timestamp": f / 10}) for f in frames},
        frame_intervals=((frames[0], frames[-1]),),
        coordinate_systems={"vehicle-iso8855": {"type": "local_cs", "parent": "", "children": ["lidar"]},
                            "lidar": {"type": "sensor_cs", "parent": "vehicle-iso8855", "children": []}},
        streams={"lidar": {"type": "lidar", "uri": "", "description": "roof"}},
    )


@pytest.mark.parametrize("seed", range(25))
def test_random_documents_round_trip_through_json_and_through_vcd(seed: int, tmp_path: Path) -> None:
    doc = random_document(seed)
    written = tmp_path / "ours.json"
    written.write_bytes(orjson.dumps(write_openlabel(doc)))
    assert read_openlabel(orjson.loads(written.read_bytes()), "ours") == doc
    vcd = core.OpenLABEL()
    vcd.load_from_file(str(written), validation=True)  # also checks our file against the OpenLABEL schema
    assert read_openlabel(json.loads(vcd.stringify(validate=True)), "vcd") == doc


def assert_same(a: Annotations, b: Annotations) -> None:
    assert a.images.ids.tolist() == b.images.ids.tolist() and list(a.tags) == list(b.tags)
    assert a.categories.names == b.categories.names and a.categories.ids.tolist() == b.categories.ids.tolist()
    oa, ob = a.objects, b.objects
    for name in ("frame", "ann_id", "category", "track_id", "area"):
        assert getattr(oa, name).tolist() == getattr(ob, name).tolist(), name
    np.testing.assert_array_equal(oa.score, ob.score)
    rows = [[t.row(i) if t is not None else None for i in range(len(oa))] for t in (oa.attributes, ob.attributes)]
    assert rows[0] == rows[1]
    assert list(oa.geometry) == list(ob.geometry)
    for kind, block in oa.geometry.items():
        other = ob.geometry[kind]
        if kind == "box2d":
            assert block.tolist() == other.tolist()
        else:
            assert block["box"].tolist() == other["box"].tolist() and block["frame"].tolist() == other["frame"].tolist()
            np.testing.assert_array_equal(block["quaternion"], other["quaternion"])


@pytest.mark.parametrize(("seed", "kind"), [(s, k) for s in range(12) for k in ("bbox", "cuboid")])
def test_annotations_written_and_read_again_are_unchanged(seed: int, kind: str) -> None:
    ann = to_annotations(random_document(seed, kind=kind, one_shape=True, grid=True), "random")
    assert len(ann.objects) > 0
    again = to_annotations(read_openlabel(orjson.loads(orjson.dumps(write_openlabel(from_annotations(ann)))), "w"),
                           "w")
    assert_same(ann, again)


def _built_by_vcd(ann: Annotations) -> dict[str, Any]:
    """``ann`` built through VCD's own API (objects, object data per frame, contexts, coordinate systems)."""
    vcd = core.OpenLABEL()
    kind = next(iter(ann.objects.geometry))
    block = ann.objects.geometry[kind]
    if kind == "cuboid3d":
        for name in sorted(set(block["frame"].tolist())):
            vcd.add_coordinate_system(name, cs_type=types.CoordinateSystemType.local_cs)
    obj = ann.objects
    for i in range(len(obj)):
        uid, f = str(obj.track_id[i]), int(ann.images.ids[obj.frame[i]])
        if not vcd.has(core.ElementType.object, uid):
            vcd.add_object(f"x{uid}", ann.categories.names[obj.category[i]], uid=uid)
        if kind == "box2d":
            x, y, w, h = block[i].tolist()
            data: types.ObjectData = types.bbox("shape", [x + w / 2, y + h / 2, w, h])
        else:
            b, q = block["box"][i].tolist(), block["quaternion"][i].tolist()
            rotation = [0.0, 0.0, b[6]] if np.isnan(q).any() else [q[1], q[2], q[3], q[0]]
            data = types.cuboid("box3D", [*b[:3], *rotation, *b[3:6]], coordinate_system=block["frame"][i])
        vcd.add_object_data(uid, data, frame_value=f)
        for name, val in (obj.attributes.row(i) or {}).items() if obj.attributes is not None else ():
            cls = types.boolean if isinstance(val, bool) else types.text if isinstance(val, str) else types.num
            vcd.add_object_data(uid, cls(name, val), frame_value=f)
        if not np.isnan(obj.score[i]):
            vcd.add_object_data(uid, types.num("score", float(obj.score[i])), frame_value=f)
    for f, tags in zip(ann.images.ids.tolist(), ann.tags, strict=True):
        for name, val in tags.items():
            uid = vcd.get_context_uid_by_name(name) or vcd.add_context(name, name)
            vcd.add_context_data(uid, types.text(name, val), frame_value=f)
    loaded: dict[str, Any] = json.loads(vcd.stringify(validate=True))
    return loaded


@pytest.mark.parametrize(("seed", "kind"), [(s, k) for s in range(8) for k in ("bbox", "cuboid")])
def test_what_vcd_builds_from_annotations_reads_as_those_annotations(seed: int, kind: str) -> None:
    ann = to_annotations(random_document(seed, kind=kind, one_shape=True, grid=True), "random")
    assert_same(to_annotations(read_openlabel(_built_by_vcd(ann), "vcd"), "vcd"), ann)


def test_euler_angles_become_the_rotation_vcd_means() -> None:
    rng = np.random.default_rng(7)
    for rx, ry, rz in rng.uniform(-math.pi, math.pi, (200, 3)).tolist():
        w, x, y, z = euler_quaternion(rx, ry, rz)
        np.testing.assert_allclose(utils.q2R(x, y, z, w), utils.euler2R([rz, ry, rx]), rtol=0, atol=1e-12)


def _with(**root: Any) -> dict[str, Any]:
    return {"openlabel": {"metadata": {"schema_version": "1.0.0"}, **root}}


@pytest.mark.parametrize(("doc", "problem"), [
    (_with(objects={"3": {"name": "a", "type": "car", "object_data": {"cuboid": [{"name": "c", "val": [0] * 8}]}}}),
     r"objects.3.object_data.cuboid\[0\].val: expected 9 or 10 numbers, got 8 values"),
    (_with(objects={"0": {"name": "a", "type": "car", "object_data": {"bbox": [{"name": "b", "val": [0, 0, -1, 1]}]}}}),
     r"objects.0.object_data.bbox\[0\].val\[2\]: must be >= 0.0, got -1"),
    (_with(objects={"0": {"name": "a"}}), r"objects.0: missing required field 'type'"),
    (_with(objects={"0": {"name": "a", "type": "car", "object_data": {"cuboid": [
        {"name": "c", "coordinate_system": "world", "val": [0] * 9}]}}}),
     r"objects.0.object_data.cuboid\[0\].coordinate_system: 'world' is not in the coordinate_systems"),
    (_with(objects={}, frames={"1": {"objects": {"7": {}}}}),
     r"frames.1.objects.7: object 7 is not in the objects list"),
    (_with(frames={"x": {}}), r"frames.x: frame numbers are non-negative integers, got 'x'"),
    (_with(objects={"0": {"name": "a", "type": "t", "object_data": {"boolean": [{"name": "o", "val": 1}]}}}),
     r"objects.0.object_data.boolean\[0\].val: expected true or false, got number 1"),
    (_with(frame_intervals=[{"frame_start": 4, "frame_end": 2}]), r"frame_intervals\[0\].frame_end: must be >= 4"),
    ({"openlabel": {"metadata": {"schema_version": "2.0.0"}}}, r"metadata.schema_version: OpenLABEL 2.0.0 is not"),
    ({"vcd": {}}, r": missing required field 'openlabel'"),
])
def test_errors_name_the_field(doc: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        read_openlabel(doc, "f.json")


def test_a_document_with_boxes_and_cuboids_reads_one_kind_at_a_time() -> None:
    doc = random_document(3)
    with pytest.raises(InvalidInput, match="carry both bbox and cuboid data"):
        to_annotations(doc, "mixed")
    boxes, cuboids = to_annotations(doc, "mixed", kind="box2d"), to_annotations(doc, "mixed", kind="cuboid3d")
    assert len(boxes.objects) > 0 and len(cuboids.objects) > 0
    assert boxes.categories.names == cuboids.categories.names
