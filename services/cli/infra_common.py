"""What every ``shadowqa infra`` command shares: its settings, progress lines, ``--started-file``, exit status 3."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from services.infra.exceptions import InfraError

if TYPE_CHECKING:
    from services.settings import Settings

STOPPED = 3  # the exit status of ``status`` when the server is stopped


def checked_settings() -> Settings:
    """The process settings; a bad SHADOWQA_* value is a one-line error."""
    from pydantic import ValidationError

    from services.settings import load_settings

    try:
        return load_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InfraError(f"SHADOWQA_{field.upper()}: {first['msg']}") from None


def mark_started(started_file: Path, started: bool, server: str) -> None:
    """``--started-file``: create it when this call started ``server``, remove it otherwise."""
    if started:
        started_file.parent.mkdir(parents=True, exist_ok=True)
        started_file.write_text(f"started by `shadowqa infra {server} up`\n", encoding="utf-8")
    else:
        started_file.unlink(missing_ok=True)


def say(line: str) -> None:
    """A progress line on standard error (standard output is for what a script reads)."""
    print(f"shadowqa: {line}", file=sys.stderr, flush=True)
