"""``shadowqa dataset export``: write a built-in data set as PNG files and COCO ground truth; driving clips
(``builtin:driving-seq``) also as MOTChallenge sequences (:mod:`services.engine.chain.mot`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.exceptions import InvalidInput
from services.cli.parser import Parser, positive_int

if TYPE_CHECKING:
    from services.engine.chain.mot import TruthExport
    from services.engine.export import ExportSummary
    from services.engine.frames import FrameSource

DATASETS = ("builtin:driving", "builtin:driving-seq", "builtin:digits")
CLIPS = "builtin:driving-seq"
GENERATED = ("builtin:driving", CLIPS)
DEFAULT_FRAMES = 100
PROGRESS_FROM = 200  # frames; shorter exports finish before a bar is worth drawing


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser("dataset", help="export built-in data sets",
                            description="Data sets shadowqa generates or bundles itself.")
    sub = p.add_subparsers(dest="dataset_command", required=True, parser_class=Parser)
    ex = sub.add_parser(
        "export", help="write a built-in data set as PNG files and COCO ground truth",
        description="Write DIR/frames/NNNNNN.png (builtin:driving), DIR/videos/NNNN/NNNNNN.png "
        "(builtin:driving-seq: clips with track ids) or DIR/digits/NNNNNN.png (builtin:digits) and "
        "DIR/annotations.json, the COCO (COCO-video for clips) ground truth of those files. Clips also get "
        "DIR/mot/NNNN/gt/gt.txt and seqinfo.ini, the MOTChallenge layout.",
    )
    ex.defer(_export_arguments)  # the digits' splits come from services.datasets.digits, which loads numpy
    ex.set_defaults(run=run)


def _export_arguments(ex: Parser) -> None:
    from services.datasets import digits
    from services.engine.sequence_source import DEFAULT_CLIPS, DEFAULT_LENGTH

    ex.add_argument("--dataset", required=True, choices=DATASETS, help="which data set")
    ex.add_argument("--seed", type=_seed, help="builtin:driving and builtin:driving-seq: the scenes' seed (default 0)")
    ex.add_argument("--frames", type=positive_int,
                    help=f"number of frames (default {DEFAULT_FRAMES} for driving, the whole split for digits)")
    ex.add_argument("--clips", type=positive_int,
                    help=f"builtin:driving-seq: number of clips (default {DEFAULT_CLIPS})")
    ex.add_argument("--length", type=positive_int,
                    help=f"builtin:driving-seq: frames per clip (default {DEFAULT_LENGTH})")
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
    mot = _export_mot(source, args.out) if args.dataset == CLIPS else None
    for error in summary.failed:
        print(f"shadowqa: frame failed: {error}", file=sys.stderr)
    print(summary_line(source.name, summary, mot))
    return 1 if summary.failed else 0


def _export_mot(source: FrameSource, out: Path) -> TruthExport:
    from services.engine.chain.mot import write_truth_mot

    doc = source.ground_truth()
    assert doc is not None  # the driving clips always have their ground truth
    return write_truth_mot(out, doc, source.name)


def _source(args: argparse.Namespace) -> FrameSource:
    from services.engine.sequence_source import DEFAULT_CLIPS, DEFAULT_LENGTH, SyntheticDrivingSequenceSource
    from services.engine.sources import DigitsSource, SyntheticDrivingSource

    _refuse_options(args)
    seed = 0 if args.seed is None else args.seed
    if args.dataset == CLIPS:
        return SyntheticDrivingSequenceSource(seed, args.clips or DEFAULT_CLIPS, args.length or DEFAULT_LENGTH)
    if args.dataset == "builtin:driving":
        return SyntheticDrivingSource(seed, DEFAULT_FRAMES if args.frames is None else args.frames)
    return DigitsSource(args.split or "test", args.frames)


def _refuse_options(args: argparse.Namespace) -> None:
    """Options that do not apply to the chosen data set, named."""
    if args.split is not None and args.dataset != "builtin:digits":
        raise InvalidInput("--split", "", "applies to builtin:digits only")
    if args.seed is not None and args.dataset not in GENERATED:
        raise InvalidInput("--seed", "", "applies to builtin:driving and builtin:driving-seq only (the digits are "
                           "not generated)")
    if args.frames is not None and args.dataset == CLIPS:
        raise InvalidInput("--frames", "", "not for builtin:driving-seq: give --clips and --length (frames per clip)")
    for option, value in (("--clips", args.clips), ("--length", args.length)):
        if value is not None and args.dataset != CLIPS:
            raise InvalidInput(option, "", "applies to builtin:driving-seq only")


def summary_line(name: str, summary: ExportSummary, mot: TruthExport | None = None) -> str:
    """One line: how many frames, objects per class (and clips and tracks), and where they went."""
    from services.engine.export import ANNOTATIONS

    objects = ", ".join(f"{n} {label}" for label, n in summary.objects.items())
    folders = [str(summary.out / folder) + "/" for folder in summary.folders]
    what = f"{sum(summary.objects.values())} objects ({objects})" if objects else "no objects"
    wrote = f"{', '.join(folders)} and {summary.out / ANNOTATIONS}"
    if mot is None:
        return f"exported {summary.frames} frames of {name}: {what}; wrote {wrote}"
    wrote = f"{len(folders)} clip folders under {summary.out}/, {summary.out / ANNOTATIONS} and {mot.folder}/"
    return f"exported {mot.clips} clips, {summary.frames} frames of {name}: {mot.tracks} tracks, {what}; wrote {wrote}"


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value
