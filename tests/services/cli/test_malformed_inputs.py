"""``shadowqa compare`` on malformed inputs: exit 2 and one line naming the broken place.

Product requirement: "At least 30 distinct malformed inputs are tested: each gives
exit 2 and a one-line reason naming where the problem is."

Each row of ``CASES`` reads: id, the broken input, the expected ``WHERE: PROBLEM``.
The input helpers name the broken file -- ``gt`` (gt.json, the manual ground
truth), ``res`` / ``obj`` / ``gt2`` (res.json, the automation as a results list,
a results object or a second ground truth), ``spec`` (spec.yaml), ``file`` (any
of them replaced by raw bytes, removed or made a directory) or ``cli`` / ``top``
(the command line) -- and apply ``put``/``drop``/``whole`` edits to the valid
documents in ``_docs``. The whole of stderr must be one line starting with
``shadowqa: error: FILE: WHERE: PROBLEM`` for a data error, or with
``shadowqa compare: error: ...`` for a misused option.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.cli.main import main
from tests.services.cli import _docs
from tests.services.cli._docs import drop, put, whole

SHADOWQA = Path(sys.executable).with_name("shadowqa")
MISSING = object()  # the file does not exist
DIRECTORY = object()  # a directory where the file should be
MASK = ("--geometry", "mask")
COCO = ("--matching", "coco")
FILES = {"manual": "gt.json", "automation": "res.json", "spec": "spec.yaml"}


@dataclass(frozen=True)
class Inputs:
    """The three input files (a document, raw bytes, MISSING or DIRECTORY) and extra args."""

    broken: str  # the file the message must name, "cli"/"top" for arguments, "" if none
    manual: Any = field(default_factory=_docs.manual)
    automation: Any = field(default_factory=_docs.results_list)
    spec: Any = None  # YAML text; None: no --spec
    args: tuple[str, ...] = ()
    omit: str = ""  # a required option left off the command line

    def write(self, folder: Path) -> list[str]:
        """Write the files into ``folder``; the arguments to run on them from there."""
        argv = ["compare"]
        for role, name in FILES.items():
            content = getattr(self, role)
            if content is None:
                continue
            _write(folder / name, content)
            if f"--{role}" != self.omit:
                argv += [f"--{role}", name]
        return argv + list(self.args)


def _write(path: Path, content: Any) -> None:
    if content is MISSING:
        return
    if content is DIRECTORY:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif path.suffix == ".yaml":
        path.write_text(content)
    else:
        path.write_bytes(orjson.dumps(content))


# -- input builders: which file is broken, and how ------------------------------------------


def gt(*edits: Any, args: tuple[str, ...] = ()) -> Inputs:
    return Inputs("gt.json", manual=_docs.apply(_docs.manual(), edits), args=args)


def res(*edits: Any, args: tuple[str, ...] = ()) -> Inputs:
    return Inputs("res.json", automation=_docs.apply(_docs.results_list(), edits), args=args)


def obj(*edits: Any) -> Inputs:
    return Inputs("res.json", automation=_docs.apply(_docs.results_object(), edits))


def gt2(*edits: Any, args: tuple[str, ...] = ()) -> Inputs:
    return Inputs("res.json", automation=_docs.apply(_docs.second_manual(), edits), args=args)


def spec(text: str) -> Inputs:
    return Inputs("spec.yaml", spec=text)


def file(role: str, content: Any) -> Inputs:
    """Replace a whole file (role: manual, automation or spec) with raw content."""
    return Inputs(FILES[role], **{role: content})


def cli(*args: str) -> Inputs:
    return Inputs("cli", args=args)


def cli_without(option: str) -> Inputs:
    return Inputs("cli", omit=option)


def top(*args: str) -> Inputs:
    """Arguments only the top-level parser rejects (it reports as plain ``shadowqa``)."""
    return Inputs("top", args=args)


def bad(case_id: str, inputs: Inputs, expected: str) -> Any:
    return pytest.param(inputs, expected, id=case_id)


BAD_JSON = b'{"images": [\n  {"id": 1,}\n]}'
RLE = "annotations[0].segmentation"

CASES = [
    # id                        broken input
    #                           expected "WHERE: PROBLEM" after "shadowqa: error: FILE: "
    #
    # -- files: missing, empty, a directory, not JSON / YAML
    bad("gt-missing", file("manual", MISSING), "no such file"),
    bad("res-missing", file("automation", MISSING), "no such file"),
    bad("spec-missing", file("spec", MISSING), "no such file"),
    bad("gt-empty", file("manual", b""), "file is empty"),
    bad("res-blank", file("automation", b"  \n\t\n"), "file is empty"),
    bad("gt-directory", file("manual", DIRECTORY), "is a directory, expected a file"),
    bad("gt-invalid-json", file("manual", BAD_JSON),
        "line 2 column 11: invalid JSON (trailing comma is not allowed)"),
    bad("res-truncated-json", file("automation", b'[{"image_id": 1'), "line 1 column"),
    bad("gt-not-utf8", file("manual", b'{"images": "\xff"}'),
        "line 1 column 13: invalid JSON (not valid UTF-8: invalid start byte 0xff)"),
    bad("spec-invalid-yaml", file("spec", b"min_iou: [0.5\n"), "line 2 column 1: invalid YAML"),
    bad("spec-yaml-tab", file("spec", b"min_iou:\t0.5\n\t- x\n"), "line 1 column 9: invalid YAML"),
    bad("spec-not-utf8", file("spec", b"tags: [\xff]\n"),
        "line 1 column 8: invalid YAML (not valid UTF-8: invalid start byte 0xff)"),
    bad("spec-control-char", file("spec", b"tags: [a]\nmin_iou: \x07\n"),
        "line 2 column 10: invalid YAML (special characters are not allowed: U+0007)"),
    # -- wrong top-level types
    bad("gt-top-list", gt(whole([])), "expected an object, got a list of 0"),
    bad("gt-top-null", file("manual", b"null"), "expected an object, got null"),
    bad("res-top-string", res(whole("hi")), "expected a COCO results list or object, got string"),
    bad("res-top-number", res(whole(3)), "expected a COCO results list or object, got number 3"),
    bad("spec-top-list", spec("- min_iou\n"), "expected an object, got a list of 1"),
    bad("spec-top-scalar", spec("strict\n"), "expected an object, got string 'strict'"),
    # -- missing or mistyped sections
    bad("gt-no-images", gt(drop("images")), "missing required field 'images'"),
    bad("gt-no-categories", gt(drop("categories")), "missing required field 'categories'"),
    bad("gt-no-annotations", gt(drop("annotations")), "missing required field 'annotations'"),
    bad("gt-images-object", gt(put("images", {})), "images: expected a list, got an object"),
    bad("gt-categories-string", gt(put("categories", "car")), "categories: expected a list"),
    bad("gt-annotations-object", gt(put("annotations", {"1": {}})), "annotations: expected a"),
    # -- image records
    bad("image-not-object", gt(put("images[0]", 5)), "images[0]: expected an object, got number 5"),
    bad("image-missing-id", gt(drop("images[1].id")), "images[1]: missing required field 'id'"),
    bad("image-id-string", gt(put("images[0].id", "1")), "images[0].id: expected an integer, got"),
    bad("image-id-float", gt(put("images[1].id", 2.5)), "images[1].id: expected an integer"),
    bad("image-id-duplicate", gt(put("images[1].id", 1)),
        "images[1].id: duplicate image id 1 (first at images[0])"),
    bad("image-id-too-big", gt(put("images[1].id", 2**63)), "images[1].id: does not fit in 64"),
    bad("image-width-negative", gt(put("images[0].width", -64)), "images[0].width: must be >= 0"),
    bad("image-height-string", gt(put("images[1].height", "48")), "images[1].height: expected an"),
    bad("image-file-name-number", gt(put("images[0].file_name", 7)), "images[0].file_name: expe"),
    bad("inclusion-prob-zero", gt(put("images[1].inclusion_prob", 0)),
        "images[1].inclusion_prob: must be > 0.0, got 0"),
    bad("inclusion-prob-above-1", gt(put("images[1].inclusion_prob", 1.5)),
        "images[1].inclusion_prob: must be <= 1.0, got 1.5"),
    bad("inclusion-prob-string", gt(put("images[1].inclusion_prob", "0.5")),
        "images[1].inclusion_prob: expected a number, got string '0.5'"),
    bad("tags-list", gt(put("images[0].tags", ["clear"])), "images[0].tags: expected an object"),
    bad("tag-value-number", gt(put("images[0].tags.weather", 3)),
        "images[0].tags.weather: expected a string, got number 3"),
    # -- categories
    bad("category-missing-id", gt(drop("categories[0].id")),
        "categories[0]: missing required field 'id'"),
    bad("category-missing-name", gt(drop("categories[1].name")),
        "categories[1]: missing required field 'name'"),
    bad("category-id-duplicate", gt(put("categories[1].id", 1)),
        "categories[1].id: duplicate category id 1 (first at categories[0])"),
    bad("category-id-negative", gt(put("categories[0].id", -1)), "categories[0].id: must be >= 0"),
    bad("category-id-too-big", gt(put("categories[0].id", 2**63)),
        "categories[0].id: does not fit in 64 bits"),
    bad("category-name-duplicate", gt(put("categories[1].name", "car")),
        "categories[1].name: duplicate category name 'car' (first at categories[0])"),
    bad("category-name-number", gt(put("categories[1].name", 2)), "categories[1].name: expected a"),
    # -- ground-truth annotation records
    bad("ann-not-object", gt(put("annotations[1]", [1, 2])), "annotations[1]: expected an object"),
    bad("ann-missing-id", gt(drop("annotations[0].id")),
        "annotations[0]: missing required field 'id'"),
    bad("ann-missing-image-id", gt(drop("annotations[2].image_id")),
        "annotations[2]: missing required field 'image_id'"),
    bad("ann-missing-category-id", gt(drop("annotations[1].category_id")),
        "annotations[1]: missing required field 'category_id'"),
    bad("ann-missing-bbox", gt(drop("annotations[1].bbox"), drop("annotations[1].segmentation")),
        "annotations[1]: missing required field 'bbox'"),  # with a segmentation, the box comes from the mask
    bad("res-missing-bbox-null-mask", res(drop("[1].bbox"), put("[1].segmentation", None)),
        "[1]: missing required field 'bbox'"),
    bad("ann-id-too-big", gt(put("annotations[1].id", 2**63)),
        "annotations[1].id: does not fit in 64 bits, got 9223372036854775808"),
    bad("ann-image-id-string", gt(put("annotations[0].image_id", "1")),
        "annotations[0].image_id: expected an integer, got string '1'"),
    bad("bbox-3-values", gt(put("annotations[1].bbox", [1, 2, 3])),
        "annotations[1].bbox: expected [x, y, width, height], got 3 values"),
    bad("bbox-string", gt(put("annotations[1].bbox", "1,2,3,4")),
        "annotations[1].bbox: expected a list, got string '1,2,3,4'"),
    bad("bbox-non-numeric", gt(put("annotations[1].bbox", [1, "2", 3, 4])),
        "annotations[1].bbox[1]: expected a number, got string '2'"),
    bad("bbox-null", gt(put("annotations[0].bbox", [1, 2, None, 4])),
        "annotations[0].bbox[2]: expected a number, got null"),
    bad("bbox-boolean", gt(put("annotations[2].bbox", [True, 0, 3, 4])),
        "annotations[2].bbox[0]: expected a number, got boolean true"),
    bad("bbox-negative-width", gt(put("annotations[1].bbox", [1, 1, -3, 4])),
        "annotations[1].bbox: width is negative"),
    bad("bbox-negative-height", gt(put("annotations[0].bbox", [1, 1, 3, -4])),
        "annotations[0].bbox: height is negative"),
    bad("ann-unknown-image", gt(put("annotations[2].image_id", 99)),
        "annotations[2].image_id: image 99 is not in the images list"),
    bad("ann-unknown-category", gt(put("annotations[0].category_id", 5)),
        "annotations[0].category_id: category 5 is not in the categories list"),
    bad("ann-id-duplicate", gt(put("annotations[2].id", 1)),
        "annotations[2].id: duplicate annotation id 1 (first at annotations[0])"),
    bad("iscrowd-2", gt(put("annotations[0].iscrowd", 2)),
        "annotations[0].iscrowd: expected 0, 1, true or false, got number 2"),
    bad("ignore-string", gt(put("annotations[1].ignore", "yes")),
        "annotations[1].ignore: expected 0, 1, true or false, got string 'yes'"),
    bad("area-negative", gt(put("annotations[0].area", -1)), "annotations[0].area: must be >= 0.0"),
    bad("area-string", gt(put("annotations[1].area", "big")),
        "annotations[1].area: expected a number, got string 'big'"),
    bad("track-id-float", gt(put("annotations[2].track_id", 7.5)),
        "annotations[2].track_id: expected an integer, got number 7.5"),
    bad("attributes-list", gt(put("annotations[0].attributes", ["red"])),
        "annotations[0].attributes: expected an object, got a list of 1"),
    bad("attribute-value-list", gt(put("annotations[0].attributes.color", ["red", "blue"])),
        "annotations[0].attributes.color: expected a string, number or boolean, got a list of 2"),
    bad("score-partial-string", gt(put("annotations[1].score", "high")),
        "annotations[1].score: expected a number, got string 'high'"),
    # -- automation as a COCO results list (records are named [i])
    bad("result-not-object", res(put("[1]", "box")), "[1]: expected an object, got string 'box'"),
    bad("result-missing-score", res(drop("[1].score")), "[1]: missing required field 'score'"),
    bad("result-score-string", res(put("[0].score", "0.9")),
        "[0].score: expected a number, got string '0.9'"),
    bad("result-score-null", res(put("[2].score", None)), "[2].score: expected a number, got null"),
    bad("result-unknown-image", res(put("[2].image_id", 42)),
        "[2].image_id: image 42 is not in the manual annotations' images"),
    bad("result-unknown-category", res(put("[0].category_id", 9)),
        "[0].category_id: category 9 is not in the manual annotations' categories"),
    bad("result-crowd", res(put("[0].iscrowd", 1)), "[0].iscrowd: results cannot be crowd regions"),
    bad("result-bbox-negative", res(put("[1].bbox", [0, 0, 2, -1])), "[1].bbox: height is negat"),
    # -- automation as a COCO results object
    bad("obj-no-annotations", obj(drop("annotations")), "missing required field 'annotations'"),
    bad("obj-annotations-null", obj(put("annotations", None)), "annotations: expected a list"),
    bad("obj-result-no-score", obj(drop("annotations[2].score")),
        "annotations[2]: missing required field 'score'"),
    bad("obj-images-object", obj(put("images", {"1": {}})), "images: expected a list, got an"),
    bad("obj-image-missing-id", obj(drop("images[0].id")), "images[0]: missing required field"),
    bad("obj-image-unknown", obj(put("images[1].id", 77)),
        "images[1].id: image 77 is not in the manual annotations"),
    bad("obj-confidence-above-1", obj(put("images[0].confidence", 1.5)),
        "images[0].confidence: must be <= 1.0, got 1.5"),
    bad("obj-confidence-string", obj(put("images[1].confidence", "high")),
        "images[1].confidence: expected a number, got string 'high'"),
    bad("obj-model-version-number", obj(put("model_version", 3)),
        "model_version: expected a string, got number 3"),
    bad("obj-image-model-version", obj(put("images[0].model_version", ["v2"])),
        "images[0].model_version: expected a string, got a list of 1"),
    bad("obj-image-tags-string", obj(put("images[1].tags", "fog")),
        "images[1].tags: expected an object, got string 'fog'"),
    # -- automation as a second ground-truth document
    bad("gt2-category-renamed", gt2(put("categories[1].name", "person")),
        "categories[1]: category 2 'person' differs from the manual file's categories"),
    bad("gt2-unknown-image", gt2(put("images[1].id", 9), put("annotations[2].image_id", 9)),
        "images[1].id: image 9 is not in the manual annotations"),
    bad("gt2-bbox-negative", gt2(put("annotations[2].bbox", [0, 0, -1, 1])),
        "annotations[2].bbox: width is negative"),
    bad("gt2-coco-without-scores", gt2(args=COCO),
        "coco matching needs a score on every detection"),
    # -- masks (--geometry mask): COCO RLE or polygons, fitting the image
    bad("mask-polygon-two-points", gt(put(RLE, [[1, 1, 9, 1]]), args=MASK),
        f"{RLE}[0]: a polygon needs an even count of at least 6 numbers (3 points), got 4"),
    bad("mask-polygon-flat", gt(put(RLE, [1, 1, 9, 1, 9, 9]), args=MASK),
        f"{RLE}[0]: expected a polygon [x1, y1, x2, y2, ...], got number 1"),
    bad("mask-polygon-string", gt(put(RLE, [[1, 1, 9, 1, 9, "9"]]), args=MASK),
        f"{RLE}[0][5]: expected a number, got string '9'"),
    bad("mask-polygon-empty", gt(put(RLE, []), args=MASK), f"{RLE}: an empty polygon list has no pixels"),
    bad("mask-polygon-no-image-size", gt(put(RLE, [[1, 1, 9, 1, 9, 9]]), drop("images[0].width"), args=MASK),
        f"{RLE}: a polygon can only be rasterised on an image with a width and height"),
    bad("mask-not-object", gt(put(RLE, "rle"), args=MASK), f"{RLE}: expected an object, got str"),
    bad("mask-missing-size", gt(drop(f"{RLE}.size"), args=MASK), f"{RLE}: missing required field"),
    bad("mask-size-3-values", gt(put(f"{RLE}.size", [48, 64, 3]), args=MASK),
        f"{RLE}.size: expected [height, width], got 3 values"),
    bad("mask-size-mismatch", gt(put(f"{RLE}.size", [10, 10]), args=MASK),
        f"{RLE}.size: [10, 10] does not match the image's [48, 64]"),
    bad("mask-counts-short", gt(put(f"{RLE}.counts", [5, 3]), args=MASK),
        f"{RLE}.counts: runs cover 8 pixels, the mask has 3072"),
    bad("mask-counts-negative", gt(put(f"{RLE}.counts", [3080, -8]), args=MASK),
        f"{RLE}.counts: a run length is negative"),
    bad("mask-counts-float", gt(put(f"{RLE}.counts", [3000, 72.0]), args=MASK),
        f"{RLE}.counts[1]: expected an integer, got number 72.0"),
    bad("mask-compressed-bad-char", gt(put(f"{RLE}.counts", "12 4"), args=MASK),
        f"{RLE}.counts: invalid character ' ' in compressed counts"),
    bad("mask-compressed-cut", gt(put(f"{RLE}.counts", "o"), args=MASK),
        f"{RLE}.counts: compressed counts end in the middle of a number"),
    bad("mask-result-polygon-odd", res(put("[1].segmentation", [[0, 0, 4, 0, 4, 4, 2]]), args=MASK),
        "[1].segmentation[0]: a polygon needs an even count of at least 6 numbers (3 points), got 7"),
    bad("mask-result-without-mask", res(drop("[1].segmentation"), args=MASK),
        "[1]: missing required field 'segmentation' (mask IoU needs a mask on every object)"),
    bad("mask-gt-without-mask", gt(drop("annotations[2].segmentation"), args=MASK),
        "annotations[2]: missing required field 'segmentation'"),
    # -- quality spec
    bad("spec-unknown-key", spec("min_iuo: 0.5\n"), "min_iuo: unknown key 'min_iuo' (known:"),
    bad("spec-min-iou-above-1", spec("min_iou: 1.5\n"), "min_iou: must be <= 1.0, got 1.5"),
    bad("spec-min-iou-zero", spec("min_iou: 0\n"), "min_iou: must be > 0.0, got 0"),
    bad("spec-min-area-negative", spec("min_area: -5\n"), "min_area: must be >= 0.0, got -5"),
    bad("spec-max-missed-negative", spec("max_missed: -1\n"), "max_missed: must be >= 0, got -1"),
    bad("spec-max-extra-float", spec("max_extra: 1.5\n"), "max_extra: expected an integer"),
    bad("spec-unknown-class", spec("classes:\n  truck: {min_iou: 0.7}\n"),
        "classes.truck: unknown class (known: car, pedestrian)"),
    bad("spec-classes-list", spec("classes: [car]\n"), "classes: expected an object, got a list"),
    bad("spec-class-rule-number", spec("classes: {car: 0.7}\n"),
        "classes.car: expected an object, got number 0.7"),
    bad("spec-class-unknown-key", spec("classes: {car: {max_missed: 1}}\n"),
        "classes.car.max_missed: unknown key 'max_missed' (known: min_iou"),
    bad("spec-class-min-iou", spec("classes: {car: {min_iou: 2}}\n"),
        "classes.car.min_iou: must be <= 1.0, got 2"),
    bad("spec-attributes-string", spec("attributes: color\n"),
        "attributes: expected a list, got string 'color'"),
    bad("spec-tags-item-number", spec("tags: [weather, 3]\n"), "tags[1]: expected a string"),
    # -- command line (expected after "shadowqa compare: error: ")
    bad("iou-zero", cli("--iou", "0"), "argument --iou: must be in (0, 1], got 0"),
    bad("iou-not-number", cli("--iou", "abc"), "argument --iou: expected a number in (0, 1]"),
    bad("iou-nan", cli("--iou", "nan"), "argument --iou: must be in (0, 1], got nan"),
    bad("matching-unknown", cli("--matching", "foo"), "argument --matching: invalid choice: 'foo'"),
    bad("geometry-unknown", cli("--geometry", "cuboid"), "argument --geometry: invalid choice: 'cuboid'"),
    bad("geometry-not-in-coco", top("--geometry", "polygon"),  # a registered kind COCO files do not give
        "--geometry: polygon: COCO files give box2d, mask objects, not this kind"),
    bad("confidence-1", cli("--confidence", "1"), "argument --confidence: must be below 1"),
    bad("max-dets-zero", cli("--max-dets", "0"), "argument --max-dets: must be >= 1, got 0"),
    bad("max-dets-float", cli("--max-dets", "2.5"), "argument --max-dets: expected a positive int"),
    bad("no-manual", cli_without("--manual"), "the following arguments are required: --manual"),
    bad("unknown-option", top("--iuo", "0.5"), "unrecognized arguments: --iuo 0.5"),
]


def run_in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def expected_line(inputs: Inputs, expected: str) -> str:
    if inputs.broken == "cli":
        return f"shadowqa compare: error: {expected}"
    if inputs.broken == "top":
        return f"shadowqa: error: {expected}"
    return f"shadowqa: error: {inputs.broken}: {expected}"


def assert_one_line_error(code: int, out: str, err: str, inputs: Inputs, expected: str) -> None:
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    assert err.endswith("\n") and "\n" not in err.strip(), err
    line = err.strip()
    assert line.startswith(expected_line(inputs, expected)), line


def test_at_least_40_distinct_cases() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 40
    assert len(SUBPROCESS_CASES) == 3


@pytest.mark.parametrize(("inputs", "expected"), CASES)
def test_malformed_input_exits_2_with_one_line(
    inputs: Inputs, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = inputs.write(tmp_path)
    code, out, err = run_in_process(argv, capsys)
    assert_one_line_error(code, out, err, inputs, expected)


SUBPROCESS_CASES = [
    c for c in CASES if c.id in {"gt-invalid-json", "bbox-negative-width", "iou-zero"}
]


@pytest.mark.slow
@pytest.mark.parametrize(("inputs", "expected"), SUBPROCESS_CASES)
def test_console_script_behaves_the_same(inputs: Inputs, expected: str, tmp_path: Path) -> None:
    argv = inputs.write(tmp_path)
    proc = subprocess.run(
        [str(SHADOWQA), *argv], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        check=False,
    )
    assert_one_line_error(proc.returncode, proc.stdout, proc.stderr, inputs, expected)


# -- the valid base documents pass ----------------------------------------------------------


def ok(case_id: str, inputs: Inputs) -> Any:
    return pytest.param(inputs, id=case_id)


VALID = [
    ok("results-list", Inputs("")),
    ok("results-object", Inputs("", automation=_docs.results_object())),
    ok("second-manual", Inputs("", automation=_docs.second_manual())),
    ok("with-spec", Inputs("", spec=_docs.SPEC)),
    ok("empty-spec", Inputs("", spec="# defaults only\n")),
    ok("masks", Inputs("", automation=_docs.results_object(), args=MASK)),
    ok("coco-matching", Inputs("", args=(*COCO, "--max-dets", "5"))),
    ok("class-agnostic", Inputs("", spec=_docs.SPEC, args=("--class-agnostic", "--iou", "0.3"))),
    # a score on some ground-truth objects only is allowed (NaN elsewhere)
    ok("gt-some-scores", gt(put("annotations[0].score", 0.9))),
    ok("gt-flags-as-booleans", gt(put("annotations[0].iscrowd", False),
                                  put("annotations[1].ignore", True))),
    ok("no-objects", gt(put("annotations", []), args=MASK)),
    ok("polygon-ground-truth", gt(put(RLE, [[4, 4, 24, 4, 24, 14, 4, 14]]), args=MASK)),
    ok("polygon-results", res(put("[0].segmentation", [[4, 4, 24, 4, 24, 14]]), args=MASK)),
    # COCO's results format for masks: a mask and no box (the box comes from the mask)
    ok("mask-results-without-bbox", res(drop("[0].bbox"), drop("[1].bbox"), args=MASK)),
    ok("mask-results-without-bbox-box-mode", res(drop("[0].bbox"))),
]


@pytest.mark.parametrize("inputs", VALID)
def test_valid_documents_exit_0(
    inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_in_process(inputs.write(tmp_path), capsys)
    assert (code, err) == (0, "")
    assert out.strip()


@pytest.mark.parametrize("inputs", VALID)
def test_valid_documents_json_output(
    inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_in_process([*inputs.write(tmp_path), "--json"], capsys)
    assert (code, err) == (0, "")
    doc = orjson.loads(out)
    assert {"frames", "summary"} <= set(doc)
    assert [f["image_id"] for f in doc["frames"]] == [1, 2]
