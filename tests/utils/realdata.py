"""Files other projects published, read in place from ``../shared/realdata/`` (never copied into the project).

``realdata(path)`` returns the path of one file after checking it against the
publisher's SHA-256 in ``data.sha256``: a changed or missing file fails the
test with the reason, it never skips (SOURCES.md there gives each file's origin,
licence and the numbers its publisher printed for it).
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import pytest

ROOT_VARIABLE = "SHADOWQA_REALDATA"


def realdata_root() -> Path:
    """The folder: ``$SHADOWQA_REALDATA`` if set, else ``../shared/realdata`` beside the checkout."""
    configured = os.environ.get(ROOT_VARIABLE)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2].parent / "shared" / "realdata"


@functools.cache
def _hashes(root: Path) -> dict[str, str]:
    listing = root / "data.sha256"
    if not listing.is_file():
        pytest.fail(f"{listing} is missing: the third-party test files live in ../shared/realdata/ beside the "
                    f"checkout (or set {ROOT_VARIABLE})", pytrace=False)
    pairs = (line.split(maxsplit=1) for line in listing.read_text().splitlines() if line.strip())
    return {name.strip(): digest for digest, name in pairs}


def realdata(relative: str) -> Path:
    """The path of one published file, checked against its recorded SHA-256."""
    root = realdata_root()
    expected = _hashes(root).get(relative)
    if expected is None:
        pytest.fail(f"{relative} is not listed in {root / 'data.sha256'}", pytrace=False)
    path = root / relative
    if not path.is_file():
        pytest.fail(f"{path} is missing", pytrace=False)
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != expected:
        pytest.fail(f"{path} differs from the published file (sha256 {actual}, recorded {expected})", pytrace=False)
    return path
