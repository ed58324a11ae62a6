"""How a simulated person errs when annotating a whole clip with track ids: the parameters and their defaults.

The per-box rates are the frame annotators' (:class:`~services.replay.annotators.HumanErrorModel`), drawn
per *track* where a person decides per track:

* **Misses by size** use the frame rates, but one draw ``u`` per track decides for every frame (a box is
  noticeable while ``u`` is at least its height's miss rate), and the person labels the track from its first
  to its last noticeable frame. So a far car is picked up once it is big enough and kept while it shrinks back
  (no flicker), each box's chance of being noticeable is the miss rate of its height, and a tiny object
  seen all clip long is either labelled throughout or missed throughout. Only the tiny rate differs from a
  still's: 0.1, not 0.25, since a person who watches an object move over many frames overlooks it less
  often than one who sees it once (and with 0.25 a clip of mostly far objects, as driving-seq's are — over
  half their boxes are under 12 px tall — would lose a quarter of its tracks outright: MOTA about 0.83).
* **Box jitter** has the frame annotators' size (sd ``box_jitter`` of each edge, as a share of the object's
  size) but only on *keyframes*, every ``keyframe_every`` frames of a track and at its ends; between them the
  error is interpolated, as video tools interpolate boxes. A box between keyframes therefore errs less (the
  sd of an interpolated error is ``box_jitter * sqrt((1-t)^2 + t^2)``, about 0.82 of it on average for a
  5-frame spacing) and its error drifts smoothly instead of jumping frame to frame: people drawing a clip
  adjust a propagated box rather than draw each afresh.
* **Class confusion** (between similar classes) is per track: the label is set once for the track.
* **Attribute flips** stay per box, as the frame annotators draw them.

On top come the mistakes only video has: a box dropped on heavily occluded frames, a new id after an
occlusion, an id swap between two crossing objects of one class, and a track started late or ended early.
Every default gives, on ``synthetic://driving-seq`` clips, a person-vs-truth IDF1 of about 0.9-0.97 and a
MOTA of about 0.85-0.95 (``tests/services/replay/test_clip_annotators.py`` checks it).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from services.replay.annotators import HumanErrorModel

_FRAME = HumanErrorModel()
RATES = ("miss_tiny", "miss_small", "miss_other", "class_confusion", "attribute_flip", "miss_occluded",
         "split_after_occlusion", "id_swap", "late_start", "early_end")


@dataclass(frozen=True)
class ClipErrorModel:
    """Rates of a clip annotator's mistakes; a rate of 0 turns that mistake off."""

    miss_tiny: float = 0.1  # per track: share of boxes under 12 px tall not noticeable (a still: 0.25)
    miss_small: float = _FRAME.miss_small  # 12-32 px tall
    miss_other: float = _FRAME.miss_other
    box_jitter: float = _FRAME.box_jitter  # sd of each edge on a keyframe, as a share of the object's size
    keyframe_every: int = 5  # frames between keyframes; jitter is interpolated between them
    class_confusion: float = _FRAME.class_confusion  # per track, between similar classes
    attribute_flip: float = _FRAME.attribute_flip  # per box: ``occluded`` set wrong
    occluded_below: float = 0.3  # a box less visible than this is heavily occluded
    miss_occluded: float = 0.2  # per track: this person leaves heavily occluded boxes out
    occlusion_frames: int = 3  # an occlusion of at least this many frames (box absent or heavily occluded) ...
    split_after_occlusion: float = 0.3  # ... ends the id with this chance: a new id after it
    crossing_iou: float = 0.1  # two tracks of one class cross when their boxes overlap this much on a frame
    id_swap: float = 0.1  # per crossing: the person swaps the two ids from the crossing on
    late_start: float = 0.1  # per track: the first 1..``max_trim`` boxes are left out
    early_end: float = 0.1  # per track: the last 1..``max_trim`` boxes are left out
    max_trim: int = 2

    def __post_init__(self) -> None:
        if self.keyframe_every < 1 or self.occlusion_frames < 1 or self.max_trim < 0:
            raise ValueError("keyframe_every and occlusion_frames must be >= 1, max_trim >= 0")

    def scaled(self, factor: float) -> ClipErrorModel:
        """This model with every mistake rate and the box jitter times ``factor`` (rates capped at 1), as the
        streaming annotators' named models scale the frame model (``careful`` 0.5, ``sloppy`` 3)."""
        changes = {f.name: min(getattr(self, f.name) * factor, 1.0) for f in fields(self) if f.name in RATES}
        return replace(self, box_jitter=self.box_jitter * factor, **changes)

    def miss_rate(self, height: float) -> float:
        """The frame annotators' miss rate of a box ``height`` px tall."""
        if height < 12:
            return self.miss_tiny
        return self.miss_small if height < 32 else self.miss_other
