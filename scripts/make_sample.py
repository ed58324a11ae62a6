"""Write the bundled sample in examples/sample from the simulated detector (seeded)."""

from __future__ import annotations

from pathlib import Path

from services.datasets.box_pairs import PairConfig, generate
from services.io.files import write_json

OUT = Path(__file__).resolve().parent.parent / "examples" / "sample"


def main() -> None:
    manual, automation = generate(PairConfig(frames=300, objects_per_frame=12, seed=2026))
    OUT.mkdir(parents=True, exist_ok=True)
    write_json(OUT / "manual.json", manual)
    write_json(OUT / "automation.json", automation)
    print(f"wrote {OUT}/manual.json and automation.json")


if __name__ == "__main__":
    main()
