"""``python -m dashboards``: regenerate the dashboard JSON (``--check``: only report files that are out of date)."""

from __future__ import annotations

import argparse
import sys

from dashboards.render import ROOT, stale_files, write_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards", description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 listing the committed files that differ from the code")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)} (run `make dashboards`)", file=sys.stderr)
        return 1 if stale else 0
    for path in write_all():
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
