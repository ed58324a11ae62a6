"""``shadowqa dataset export``: write a built-in data set as PNG files and COCO ground truth."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.exceptions import InvalidInput
from services.cli.parser import Parser, positive_int

if TYPE_CHECKING:
    from services.engine.export import ExportSummary
    from services.engine.frames import FrameSource

DATASETS = ("builtin:driving", "builtin:digits")
DEFAULT_FRAMES = 100
PROGRESS_FROM = 200  # frames; shorter exports finish before a bar is worth drawing


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser("dataset", help="export built-in data sets",
                            description="Data sets shadowqa generates or bundles itself.")
    sub = p.add_subparsers(dest="dataset_command", required=True, parser_class=Parser)
    ex = sub.add_parser(
        "export", help="write a built-in data set as PNG files and COCO ground truth",
        description="Write DIR/frames/NNNNNN.png (builtin:driving) or DIR/digits/NNNNNN.png (builtin:digits) "
        "and DIR/annotations.json, the COCO ground truth of those files.",
    )
    ex.defer(_export_arguments)  # the digits' splits come from services.datasets.digits, which loads numpy
    ex.set_defaults(run=run)


def _export_arguments(ex: Parser) -> None:
    from services.datasets import digits

    ex.add_argument("--dataset", required=True, choices=DATASETS, help="which data set")
    ex.add_argument("--seed", type=_seed, help="builtin:driving: the scenes' seed (default 0)")
    ex.add_argument("--frames", type=positive_int,
                    help=f"number of frames (default {DEFAULT_FRAMES} for driving, the whole split for digits)")
    ex.add_argument("--split", choices=digits.SPLITS, help="builtin:digits: which split (default test)")
    ex.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder to write into")
    ex.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm  # type: ignore[import-untyped, unused-ignore]

    from services.engine.export import export_source

    source = _source(args)
    quiet = args.no_progress or len(source) < PROGRESS_FROM
    with tqdm(total=len(source), unit="frame", file=sys.stderr, disable=True if quiet else None) as bar:
        summary = export_source(source, args.out, bar.update)
    for error in summary.failed:
        print(f"shadowqa: frame failed: {error}", file=sys.stderr)
    print(summary_line(source.name, summary))
    return 1 if summary.failed else 0


def _source(args: argparse.Namespace) -> FrameSource:
    from services.engine.sources import DigitsSource, SyntheticDrivingSource

    if args.dataset == "builtin:driving":
        if args.split is not None:
            raise InvalidInput("--split", "", "applies to builtin:digits only")
        seed = 0 if args.seed is None else args.seed
        return SyntheticDrivingSource(seed, DEFAULT_FRAMES if args.frames is None else args.frames)
    if args.seed is not None:
        raise InvalidInput("--seed", "", "applies to builtin:driving only (the digits are not generated)")
    return DigitsSource(args.split or "test", args.frames)


def summary_line(name: str, summary: ExportSummary) -> str:
    """One line: how many frames, objects per class, and where they went."""
    from services.engine.export import ANNOTATIONS

    objects = ", ".join(f"{n} {label}" for label, n in summary.objects.items())
    where = ", ".join(str(summary.out / folder) + "/" for folder in summary.folders)
    what = f"{sum(summary.objects.values())} objects ({objects})" if objects else "no objects"
    return f"exported {summary.frames} frames of {name}: {what}; wrote {where} and {summary.out / ANNOTATIONS}"


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value
