"""JSON and YAML files in, with errors that name the file and the place in it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import yaml

from services.exceptions import UnreadableFile


def read_bytes(path: str | Path) -> bytes:
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise UnreadableFile(source, "", "no such file") from None
    except IsADirectoryError:
        raise UnreadableFile(source, "", "is a directory, expected a file") from None
    except OSError as exc:
        raise UnreadableFile(source, "", f"cannot read ({exc.strerror})") from None
    if not data.strip():
        raise UnreadableFile(source, "", "file is empty")
    return data


def read_json(path: str | Path) -> Any:
    data = read_bytes(path)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise UnreadableFile(str(path), where, f"invalid JSON ({exc.msg})") from None


def read_yaml(path: str | Path) -> Any:
    data = read_bytes(path)
    try:
        return yaml.safe_load(data)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise UnreadableFile(str(path), where, f"invalid YAML ({problem})") from None


def write_json(path: str | Path, doc: Any) -> None:
    Path(path).write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
