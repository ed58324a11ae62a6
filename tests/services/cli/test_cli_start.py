"""``shadowqa`` starts light: building the parser, the top-level help and parsing a command's options import none
of the heavy libraries the commands use when they run (checked by ``sys.modules``, never by a clock)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from services.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[3]

HEAVY = {
    "numpy", "scipy", "torch", "PIL", "pycocotools", "sqlalchemy", "alembic", "psycopg", "faust", "aiokafka",
    "kafka", "fastapi", "starlette", "uvicorn", "pydantic", "pydantic_settings", "httpx", "niquests",
    "grafana_client", "prometheus_client", "yaml", "orjson", "tqdm",
}

_PROBE = """
import sys
from services.cli.main import build_parser
parser = build_parser()
if sys.argv[1:]:
    parser.parse_args(sys.argv[1:])
else:
    parser.format_help()
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _loaded(*argv: str) -> set[str]:
    """The top-level packages a fresh interpreter holds after building the parser and parsing ``argv``."""
    done = subprocess.run([sys.executable, "-c", _PROBE, *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=True)
    return set(done.stdout.split())


def test_the_parser_and_the_top_level_help_load_no_heavy_library() -> None:
    assert _loaded() & HEAVY == set()


@pytest.mark.parametrize("argv", [
    ["gate", "--comparisons", "c.jsonl", "--target", "0.9"],
    ["recommend", "--comparisons", "c.jsonl"],
    ["replay", "--report", "out"],
    ["worker", "--role", "router"],
    ["engine", "run", "--model", "builtin:digits", "--images", "sklearn-digits://", "--out", "r.json"],
    ["api", "serve"],
    ["db", "current"],
    ["dashboards", "push", "--url", "http://127.0.0.1:3000", "--token", "t"],
    ["labelstudio", "bridge"],
    ["pipeline", "run"],
    ["snapshot", "export", "--topic", "comparisons", "--out", "c.jsonl"],
], ids=lambda argv: argv[0])
def test_parsing_a_command_loads_what_only_its_run_needs(argv: list[str]) -> None:
    assert _loaded(*argv) & HEAVY == set()


@pytest.mark.parametrize(("argv", "option", "value"), [
    (["compare", "--automation", "r.json", "--manual", "gt.json", "--geometry", "mask"], "geometry", "mask"),
    (["dataset", "export", "--dataset", "builtin:digits", "--split", "train", "--out", "d"], "split", "train"),
    (["feed", "--source", "synthetic://driving"], "rate", 0.0),
    (["simulate", "annotators", "--error-model", "sloppy"], "error_model", "sloppy"),
    (["infra", "kafka", "status"], "home", None),
])
def test_a_command_whose_options_are_deferred_has_them_when_it_parses(argv: list[str], option: str,
                                                                     value: object) -> None:
    assert getattr(build_parser().parse_args(argv), option) == value
