"""``shadowqa compare --geometry`` takes its kinds from the geometry registry: names, aliases, and kinds
registered later (a test's own), with a one-line exit 2 for a kind COCO files cannot give."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from analysis.annotations.model import FloatArray, IntArray, Objects
from analysis.geometry import GEOMETRIES, register, unregister
from services.cli.main import build_parser, main
from tests.services.cli import _docs

TOY = "toy-segment"


class Segments:
    """A kind no reader of COCO files fills: reachable by name, refused on COCO input."""

    kind = TOY
    aliases: tuple[str, ...] = ("toy-seg",)

    def read(self, doc: Mapping[str, Any], source: str, where: str) -> float:
        return float(doc["length"])

    def write(self, value: float) -> dict[str, Any]:
        return {"type": TOY, "length": value}

    def column(self, values: Sequence[float]) -> FloatArray:
        return np.array(values, dtype=np.float64)

    def area(self, column: FloatArray) -> FloatArray:
        return column

    def extent(self, column: FloatArray) -> FloatArray:
        return column

    def pair_iou(self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray) -> FloatArray:
        return np.zeros(len(dt_idx))


@pytest.fixture
def segments() -> Iterator[None]:
    register(Segments)
    yield
    unregister(TOY)


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    (tmp_path / "gt.json").write_bytes(orjson.dumps(_docs.manual()))
    (tmp_path / "res.json").write_bytes(orjson.dumps(_docs.results_list()))
    return ["compare", "--manual", str(tmp_path / "gt.json"), "--automation", str(tmp_path / "res.json")]


def _geometry_choices() -> list[str]:
    compare = build_parser()._subparsers._group_actions[0].choices["compare"]  # type: ignore[union-attr]
    compare.complete()  # its options are added when it first parses (services/cli/parser.py, Parser.defer)
    (option,) = [a for a in compare._actions if "--geometry" in a.option_strings]
    return list(option.choices)


def test_the_choices_are_every_registered_name_and_alias() -> None:
    expected = {name for kind in GEOMETRIES.values() for name in (kind.kind, *kind.aliases)}
    assert set(_geometry_choices()) == expected
    assert {"box", "box2d", "mask", "polygon"} <= expected


def test_a_kind_registered_later_is_a_choice_without_editing_the_cli(segments: None) -> None:
    assert {TOY, "toy-seg"} <= set(_geometry_choices())


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_box2d_and_its_alias_box_compare_alike(files: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    docs = {}
    for name in ("box", "box2d"):
        code, out, _ = _run([*files, "--geometry", name, "--json"], capsys)
        assert code == 0
        doc = orjson.loads(out)["summary"]
        assert doc["coco"]["geometry"] == doc["geometry"] == name  # reported as the option named it
        docs[name] = {k: v for k, v in doc.items() if k not in ("coco", "geometry")}
    assert docs["box"] == docs["box2d"]
    assert (docs["box"]["tp"], docs["box"]["fp"], docs["box"]["fn"]) == (3, 0, 0)  # each box overlaps its twin


@pytest.mark.parametrize(("name", "kind"), [("polygon", "polygon"), (TOY, TOY), ("toy-seg", TOY)])
def test_a_kind_coco_files_do_not_give_exits_2_naming_it(
    name: str, kind: str, files: list[str], segments: None, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run([*files, "--geometry", name], capsys)
    assert (code, out) == (2, "")
    assert err.strip().startswith(f"shadowqa: error: --geometry: {name}: COCO files give box2d, mask objects, not "
                                  "this kind") and "\n" not in err.strip()
