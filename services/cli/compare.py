"""``shadowqa compare``: agreement of machine annotations with manual ones."""

from __future__ import annotations

import argparse
import sys

from analysis.exceptions import InvalidInput
from services.cli.parser import Parser, open_interval, positive_int, unit_interval


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser(
        "compare", help="compare machine annotations with manual ones",
        description="Match automation results to manual annotations frame by frame and report "
        "precision, recall, IoU and frame acceptance under a quality spec; with scores on the machine "
        "side, also COCO AP/AR (pycocotools' twelve COCOeval stats and AP per class).",
    )
    p.defer(_arguments)  # the matching methods and geometry kinds come from analysis/, which loads numpy
    p.set_defaults(run=run)


def _arguments(p: Parser) -> None:
    from analysis.matching import METHODS

    p.add_argument("--automation", required=True, metavar="RESULTS.json",
                   help="COCO results (list or object), a second COCO ground-truth file, or an OpenLABEL file "
                        "(scores as num object data named 'score')")
    p.add_argument("--manual", required=True, metavar="GT.json",
                   help="COCO ground truth from people, or an ASAM OpenLABEL 1.0 file (told apart by content)")
    p.add_argument("--matching", choices=METHODS, default="hungarian",
                   help="hungarian: optimal one-to-one (default); coco: pycocotools' greedy rule; centre: nuScenes' "
                        "greedy rule by centre distance (cuboids; 2 m unless the spec's match: centre sets "
                        "max_distance per class)")
    p.add_argument("--iou", type=unit_interval, default=0.5, help="IoU threshold for a match (default 0.5)")
    p.add_argument("--class-agnostic", action="store_true", help="match regardless of class")
    p.add_argument("--geometry", choices=geometry_names(), default="box", metavar="KIND",
                   help=f"the geometry kind whose overlap matches objects: {', '.join(geometry_names())} (default "
                        "box; COCO files give boxes, and masks from their segmentation: RLE or polygons; "
                        "OpenLABEL files give boxes from bbox and cuboid3d from cuboid)")
    p.add_argument("--max-dets", type=positive_int, default=100,
                   help="coco matching: detections kept per image and class (default 100)")
    p.add_argument("--spec", metavar="SPEC.yaml", help="quality spec deciding frame acceptance")
    p.add_argument("--confidence", type=open_interval, default=0.95, help="interval confidence level")
    p.add_argument("--no-ap", action="store_true",
                   help="skip COCO AP/AR (10 IoU thresholds x 4 area ranges: the slow part on large inputs)")
    p.add_argument("--json", action="store_true", help="print a JSON document instead of a table")


def geometry_names() -> list[str]:
    """Every registered geometry kind's name and aliases (analysis/geometry), sorted."""
    from analysis.geometry import GEOMETRIES

    return sorted({name for kind in GEOMETRIES.values() for name in (kind.kind, *kind.aliases)})


def run(args: argparse.Namespace) -> int:
    import orjson

    from analysis.compare import Comparator, CompareOptions
    from analysis.geometry import BoxGeometry, get_geometry
    from analysis.matching import MatchOptions
    from services.io.annotation_files import load_automation, load_manual, load_spec
    from services.reporting.compare_json import comparison_document
    from services.reporting.compare_table import comparison_table

    spec = load_spec(args.spec)
    kind = get_geometry(args.geometry).kind
    segmentation = kind != BoxGeometry.kind  # COCO's bbox is always read; any other kind comes from segmentation
    manual = load_manual(args.manual, with_masks=segmentation, kind=kind)
    if kind not in manual.objects.geometry:
        raise InvalidInput("--geometry", args.geometry, f"COCO files give {', '.join(manual.objects.geometry)} "
                                                        "objects, not this kind (COCO polygons are read as masks)")
    automation = load_automation(args.automation, manual, with_masks=segmentation, kind=kind)
    matching = MatchOptions(
        method=args.matching, iou_threshold=args.iou, class_aware=not args.class_agnostic,
        geometry=args.geometry, max_dets=args.max_dets,
    )
    options = CompareOptions(matching, spec, args.confidence, coco_ap=not args.no_ap)
    result = Comparator(options).calculate(automation, manual)
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(comparison_document(result)) + b"\n")
    else:
        print(comparison_table(result))
    return 0
