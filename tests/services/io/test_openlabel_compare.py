"""``shadowqa compare`` on a pair of OpenLABEL files: boxes and cuboids, scores as ``num`` named ``score``."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from services.cli.main import main
from services.io.openlabel import Element, ElementData, Frame, OpenLabel, Shape, Value, write_openlabel

CS = {"vehicle-iso8855": {"type": "local_cs", "parent": "", "children": []}}


def _box(cx: float) -> Shape:
    return Shape("bbox", "shape", (cx, 50.0, 20.0, 20.0))


def _cuboid(x: float, pitch: float = 0.0) -> Shape:
    return Shape("cuboid", "box3D", (x, 20.0, -0.85, 0.0, pitch, 0.3, 4.5, 1.8, 1.6), "vehicle-iso8855")


def _document(shapes: dict[int, list[Shape]], scores: bool) -> OpenLabel:
    """Objects ``0..n-1`` on frames 0 and 1, object ``i`` with ``shapes[frame][i]``."""
    n = max(len(s) for s in shapes.values())
    frames = {f: Frame(objects={str(i): ElementData((s,), (Value("num", "score", 0.9 - 0.1 * i),) if scores else ())
                                for i, s in enumerate(row)}) for f, row in shapes.items()}
    return OpenLabel(objects={str(i): Element(f"o{i}", "car" if i % 2 == 0 else "van") for i in range(n)},
                     frames=frames, coordinate_systems=CS)


@pytest.mark.parametrize(("make", "geometry"), [(_box, "box"), (_cuboid, "cuboid3d")])
def test_compare_reads_a_manual_and_an_automation_openlabel_file(
    make: type, geometry: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    manual = {0: [make(100.0), make(200.0)], 1: [make(100.0), make(200.0)]}
    automation = {0: [make(100.4), make(200.3)], 1: [make(100.2), make(400.0)]}  # frame 1: object 1 is far off
    paths = []
    for name, shapes, scores in (("gt", manual, False), ("res", automation, True)):
        path = tmp_path / f"{name}.openlabel.json"
        path.write_bytes(orjson.dumps(write_openlabel(_document(shapes, scores))))
        paths.append(str(path))
    code = main(["compare", "--manual", paths[0], "--automation", paths[1], "--geometry", geometry, "--json"])
    assert code == 0
    summary = orjson.loads(capsys.readouterr().out)["summary"]
    assert (summary["tp"], summary["fp"], summary["fn"]) == (3, 1, 1)


def test_a_cuboid_file_read_as_boxes_says_which_kind_it_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "gt.openlabel.json"
    path.write_bytes(orjson.dumps(write_openlabel(_document({0: [_cuboid(1.0, 0.2)]}, False))))
    code = main(["compare", "--manual", str(path), "--automation", str(path)])
    assert code != 0
    assert "the objects carry cuboid data, not bbox: read them as cuboid3d" in capsys.readouterr().err
