"""The LiDAR set's ground truth as OpenLABEL: valid for the ASAM schema, read back as the labels, and compared."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from vcd import core

from services.cli.main import main
from services.datasets.driving3d import COORDINATE_SYSTEM, LidarLabels, ground_truth, label_frame
from services.io.openlabel import read_openlabel, to_annotations

SEED, FRAMES = 3, 4


@pytest.fixture(scope="module")
def labels() -> list[LidarLabels]:
    return [label_frame(SEED, i) for i in range(FRAMES)]


@pytest.fixture(scope="module")
def document(labels: list[LidarLabels]) -> dict[str, Any]:
    return ground_truth(labels, SEED)


def test_the_document_is_valid_openlabel_1_0(document: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "gt.json"
    path.write_bytes(orjson.dumps(document))
    core.OpenLABEL().load_from_file(str(path), validation=True)  # VCD checks it against the OpenLABEL schema


def test_the_document_reads_back_as_the_labels(labels: list[LidarLabels], document: dict[str, Any]) -> None:
    ann = to_annotations(read_openlabel(document, "gt"), "gt", kind="cuboid3d")
    assert ann.images.ids.tolist() == [i + 1 for i in range(FRAMES)]
    assert [dict(t) for t in ann.tags] == [f.tags for f in labels]
    expected = [(o.category, o.cuboid, o.num_points) for f in labels for o in f.objects]
    block = ann.objects.geometry["cuboid3d"]
    attributes = ann.objects.attributes
    assert attributes is not None
    got = [
        (ann.categories.names[c], tuple(box), (attributes.row(i) or {})["num_points"])
        for i, (c, box) in enumerate(zip(ann.objects.category.tolist(), block["box"].tolist(), strict=True))
    ]
    assert got == expected and set(block["frame"].tolist()) == {COORDINATE_SYSTEM}


def test_compare_reads_it_and_finds_what_was_moved_and_dropped(
    document: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    machine = copy.deepcopy(document)
    frames = machine["openlabel"]["frames"]
    first, second = (list(frames[f]["objects"]) for f in ("1", "2"))
    del frames["1"]["objects"][first[0]], machine["openlabel"]["objects"][first[0]]  # missed
    frames["2"]["objects"][second[0]]["object_data"]["cuboid"][0]["val"][2] += 10.0  # 10 m up: matches nothing
    for frame in frames.values():
        for obj in frame.get("objects", {}).values():
            obj["object_data"]["num"].append({"name": "score", "val": 0.9})
    paths = [tmp_path / "gt.json", tmp_path / "res.json"]
    for path, doc in zip(paths, (document, machine), strict=True):
        path.write_bytes(orjson.dumps(doc))
    code = main(["compare", "--manual", str(paths[0]), "--automation", str(paths[1]), "--geometry", "cuboid3d",
                 "--json"])  # fmt: skip
    assert code == 0
    summary = orjson.loads(capsys.readouterr().out)["summary"]
    total = len(document["openlabel"]["objects"])
    assert (summary["tp"], summary["fp"], summary["fn"]) == (total - 2, 1, 2)
