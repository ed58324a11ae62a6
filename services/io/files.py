"""JSON and YAML files in, with errors that name the file and the place in it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import yaml

from services.exceptions import UnreadableFile


def read_bytes(path: str | Path, *, allow_empty: bool = False) -> bytes:
    """The file's bytes; an unreadable file, or an empty one unless ``allow_empty``, is ``UnreadableFile``."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise UnreadableFile(source, "", "no such file") from None
    except IsADirectoryError:
        raise UnreadableFile(source, "", "is a directory, expected a file") from None
    except OSError as exc:
        raise UnreadableFile(source, "", f"cannot read ({exc.strerror})") from None
    if not allow_empty and not data.strip():
        raise UnreadableFile(source, "", "file is empty")
    return data


def read_utf8(path: str | Path) -> str:
    """The file as UTF-8 text (an empty file is empty text); ``UnreadableFile`` names the first bad byte."""
    try:
        return read_bytes(path, allow_empty=True).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(str(path), "", f"not valid UTF-8 at byte {exc.start}") from None


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building large acyclic structures.

    Parsed JSON holds no reference cycles, yet allocating millions of its objects
    triggers repeated full collections: pausing halves the time to read a
    200,000-object COCO file.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_json(path: str | Path) -> Any:
    data = read_bytes(path)
    try:
        with paused_gc():
            return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        where, problem = _utf8_error(data) or (f"line {exc.lineno} column {exc.colno}", exc.msg)
        raise UnreadableFile(str(path), where, f"invalid JSON ({problem})") from None


def read_yaml(path: str | Path) -> Any:
    data = read_bytes(path)
    try:
        return yaml.safe_load(data)
    except yaml.reader.ReaderError as exc:
        where, problem = _reader_error(exc, data)
        raise UnreadableFile(str(path), where, f"invalid YAML ({problem})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise UnreadableFile(str(path), where, f"invalid YAML ({problem})") from None


def _position(text: str, offset: int) -> str:
    """``line L column C`` of a 0-based offset into ``text``."""
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    return f"line {line} column {column}"


def _utf8_error(data: bytes) -> tuple[str, str] | None:
    """Where and what, if ``data`` is not UTF-8 (orjson reports that at line 1 column 1)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = _position(data.decode("latin-1"), exc.start)  # latin-1: one char per byte
        return where, f"not valid UTF-8: {exc.reason} 0x{data[exc.start]:02x}"
    return None


def _reader_error(exc: yaml.reader.ReaderError, data: bytes) -> tuple[str, str]:
    """Where and what for text PyYAML cannot decode; it gives no line, only an offset."""
    if exc.encoding == "unicode":  # a control character; the offset counts characters
        text = data.decode("utf-8", errors="replace")
        return _position(text, exc.position), f"{exc.reason}: U+{exc.character:04X}"
    where = _position(data.decode("latin-1"), exc.position)  # the offset counts bytes
    return where, f"not valid {exc.encoding.upper()}: {exc.reason} 0x{exc.character:02x}"


def write_json(path: str | Path, doc: Any, *, indent: bool = True) -> None:
    Path(path).write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 if indent else 0))
