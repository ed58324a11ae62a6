"""A chain of automation steps (detect -> track -> post-process) with a lossless snapshot of every step.

- :mod:`.spec`: the pipeline spec (YAML) and its validation; :mod:`.registry`: step kinds by name, one
  module per kind in :mod:`.steps` (each documents its parameters);
- :mod:`.data`: what flows between steps (per-frame results plus each frame's clip and position);
- :mod:`.snapshot` and :mod:`.manifest`: a step's output on disk (``.npz``, float64 exact, plus a COCO
  results file) and the run's ``manifest.json``;
- :mod:`.run`: running the whole chain, or only a step and the ones after it from a snapshot
  (``shadowqa engine run --pipeline SPEC --images SRC --out DIR [--from-step STEP --snapshot DIR]``).
"""
