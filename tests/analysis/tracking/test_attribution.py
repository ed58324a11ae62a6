"""Attributing a chain's final errors to its steps: hand-made detect -> track -> post clips a person can check,
and on random clips the identities that hold by construction (consistency with CLEAR, shares, sums over clips)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from analysis.exceptions import InvalidInput
from analysis.tracking import Tracks, track_metrics
from analysis.tracking.attribution import StepTracks, attribute_chain
from analysis.tracking.attribution_results import ChainAttribution, ErrorCounts, combine
from analysis.tracking.concat import concatenate
from tests.analysis.tracking.builders import Row, clip, square
from tests.analysis.tracking.synthetic import random_clip

N = 4  # frames per hand-made clip
STEPS = ("detect", "track", "post")


def along(track: int, x: float = 0.0, frames: tuple[int, ...] = tuple(range(N)),
          ids: tuple[int, ...] = ()) -> list[Row]:
    """A 10 x 10 box at ``x`` on ``frames``, with track id ``track`` (or ``ids`` per frame)."""
    return [square(f, ids[i] if ids else track, x) for i, f in enumerate(frames)]


def unique(rows: list[Row]) -> list[Row]:
    """Detection rows: the ids mean nothing, but must be unique per frame."""
    return [(f, k, x, y, w, h) for k, (f, _, x, y, w, h) in enumerate(rows)]


def chain(truth: list[Row], detect: list[Row], track: list[Row], post: list[Row]) -> ChainAttribution:
    return attribute_chain(clip(N, truth), [StepTracks("detect", clip(N, unique(detect)), has_ids=False),
                                            StepTracks("track", clip(N, track)), StepTracks("post", clip(N, post))])


TRUTH = along(1)
SECOND = along(2, x=50.0, frames=(0, 1))  # a short true track
FALSE = along(9, x=100.0, frames=(1,))  # a box where nothing is
ENDS = along(9, x=100.0, frames=(0, 3))  # a false track on the first and last frame only
GAP = along(9, x=100.0, frames=(1, 2))  # what post interpolates between ENDS
# case: truth, detect, track, post, per step (misses, false positives, switches) attributed, limiting step
TABLE = [
    ("a miss by detect", TRUTH, along(1, frames=(0, 1, 3)), along(7, frames=(0, 1, 3)), along(7, frames=(0, 1, 3)),
     [(1, 0, 0), (0, 0, 0), (0, 0, 0)], "detect"),
    ("a box dropped by track", TRUTH, TRUTH, along(7, frames=(0, 1, 3)), along(7, frames=(0, 1, 3)),
     [(0, 0, 0), (1, 0, 0), (0, 0, 0)], "track"),
    ("a short true track dropped by post", TRUTH + SECOND, TRUTH + SECOND, along(7) + along(8, 50.0, (0, 1)),
     along(7), [(0, 0, 0), (0, 0, 0), (2, 0, 0)], "post"),
    ("a false box from detect that post removed", TRUTH, TRUTH + FALSE, along(7) + FALSE, along(7),
     [(0, 0, 0), (0, 0, 0), (0, 0, 0)], None),
    ("a false box from detect kept to the end", TRUTH, TRUTH + FALSE, along(7) + FALSE, along(7) + FALSE,
     [(0, 1, 0), (0, 0, 0), (0, 0, 0)], "detect"),
    ("a box off target: a miss and a false box, both detect's", TRUTH, along(1, x=6.0), along(7, x=6.0),
     along(7, x=6.0), [(4, 4, 0), (0, 0, 0), (0, 0, 0)], "detect"),
    ("a wrong interpolation is born in post (tie: the earlier step)", TRUTH, TRUTH + ENDS, along(7) + ENDS,
     along(7) + ENDS + GAP, [(0, 2, 0), (0, 0, 0), (0, 2, 0)], "detect"),
    ("an ID switch introduced by track", TRUTH, TRUTH, along(1, ids=(7, 7, 8, 8)), along(1, ids=(7, 7, 8, 8)),
     [(0, 0, 0), (0, 0, 1), (0, 0, 0)], "track"),
    ("an ID switch introduced by post", TRUTH, TRUTH, along(7), along(1, ids=(7, 7, 8, 8)),
     [(0, 0, 0), (0, 0, 0), (0, 0, 1)], "post"),
    ("an ID switch by track that post repairs", TRUTH, TRUTH, along(1, ids=(7, 7, 8, 8)), along(7),
     [(0, 0, 0), (0, 0, 0), (0, 0, 0)], None),
    ("a gap post fills: the miss is removed", TRUTH, along(1, frames=(0, 1, 3)), along(7, frames=(0, 1, 3)),
     along(7), [(0, 0, 0), (0, 0, 0), (0, 0, 0)], None),
]


@pytest.mark.parametrize(("case", "truth", "detect", "track", "post", "attributed", "limiting"), TABLE,
                         ids=[row[0] for row in TABLE])
def test_each_final_error_goes_to_the_step_that_made_it(case: str, truth: list[Row], detect: list[Row],
                                                        track: list[Row], post: list[Row],
                                                        attributed: list[tuple[int, int, int]],
                                                        limiting: str | None) -> None:
    result = chain(truth, detect, track, post)
    assert [s.name for s in result.steps] == list(STEPS)
    assert [dataclasses.astuple(s.attributed) for s in result.steps] == attributed
    assert result.limiting_step == limiting
    assert_consistent(result, clip(N, truth), clip(N, post))


# case: per step (misses, false positives, switches) introduced, then removed
MOVES = {
    "a false box from detect that post removed": ([(0, 1, 0), (0, 0, 0), (0, 0, 0)],
                                                  [(0, 0, 0), (0, 0, 0), (0, 1, 0)]),
    "an ID switch by track that post repairs": ([(0, 0, 0), (0, 0, 1), (0, 0, 0)], [(0, 0, 0), (0, 0, 0), (0, 0, 1)]),
    "a gap post fills: the miss is removed": ([(1, 0, 0), (0, 0, 0), (0, 0, 0)], [(0, 0, 0), (0, 0, 0), (1, 0, 0)]),
    "a short true track dropped by post": ([(0, 0, 0), (0, 0, 0), (2, 0, 0)], [(0, 0, 0), (0, 0, 0), (0, 0, 0)]),
}


@pytest.mark.parametrize("case", sorted(MOVES))
def test_introduced_and_removed_by_hand(case: str) -> None:
    row = next(r for r in TABLE if r[0] == case)
    result = chain(*row[1:5])
    introduced, removed = MOVES[case]
    assert [dataclasses.astuple(s.introduced) for s in result.steps] == introduced
    assert [dataclasses.astuple(s.removed) for s in result.steps] == removed


def test_a_clip_without_final_errors_has_no_limiting_step_and_zero_shares() -> None:
    result = chain(*TABLE[3][1:5])
    assert result.final == ErrorCounts() and result.shares == (0.0, 0.0, 0.0) and result.limiting_step is None


def test_detection_only_figures() -> None:
    result = chain(TRUTH + SECOND, TRUTH + FALSE, along(7), along(7))
    f = result.step("detect").figures
    assert (f.has_ids, f.objects, f.predictions, f.matched, f.misses, f.false_positives, f.switches) == (
        False, 6, 5, 4, 2, 1, 0)
    assert math.isclose(f.precision, 4 / 5, abs_tol=1e-12) and math.isclose(f.recall, 4 / 6, abs_tol=1e-12)
    assert math.isnan(f.mota) and math.isnan(f.idf1)
    assert f.to_dict()["mota"] is None and f.to_dict()["idf1"] is None


def test_a_final_step_without_ids_has_no_switches_to_attribute() -> None:
    truth, switching = clip(N, TRUTH), clip(N, along(1, ids=(7, 7, 8, 8)))
    result = attribute_chain(truth, [StepTracks("track", switching), StepTracks("boxes", switching, has_ids=False)])
    assert result.step("track").figures.switches == 1 and result.final == ErrorCounts()
    assert result.limiting_step is None


def assert_consistent(result: ChainAttribution, truth: Tracks, final: Tracks) -> None:
    """Final errors are CLEAR's of the final output; attributed counts add up to them; own errors = the
    previous step's + introduced - removed."""
    m = track_metrics(truth, final).clear
    assert dataclasses.astuple(result.final) == (m.num_misses, m.num_false_positives, m.num_switches)
    total = ErrorCounts()
    for s in result.steps:
        total = total + s.attributed
    assert total == result.final
    if result.final.total:
        assert math.isclose(sum(result.shares), 1.0, abs_tol=1e-12)
    previous: ErrorCounts | None = None
    previous_switches = 0
    for s in result.steps:
        if previous is not None:
            assert s.errors.misses == previous.misses + s.introduced.misses - s.removed.misses
            assert s.errors.false_positives == (previous.false_positives + s.introduced.false_positives
                                                - s.removed.false_positives)
        if s.has_ids:
            assert s.errors.switches == previous_switches + s.introduced.switches - s.removed.switches
            previous_switches = s.errors.switches
        previous = s.errors


def random_chain(seed: int) -> tuple[Tracks, list[StepTracks]]:
    """Truth and three steps drawn from the random clips of the reference tests (same clip length)."""
    truth, first = random_clip(seed)
    steps = [first]
    for k in (1, 2):
        other = random_clip(seed * 7 + 1000 * k, max_frames=truth.num_frames)[1]
        steps.append(other if other.num_frames == truth.num_frames else first)
    return truth, [StepTracks("detect", steps[0], has_ids=False), StepTracks("track", steps[1]),
                   StepTracks("post", steps[2])]


@pytest.mark.parametrize("seed", range(60))
def test_random_chains_are_consistent_with_clear(seed: int) -> None:
    truth, steps = random_chain(seed)
    result = attribute_chain(truth, steps)
    assert_consistent(result, truth, steps[-1].tracks)
    for s, step in zip(result.steps[1:], steps[1:], strict=True):
        m = track_metrics(truth, step.tracks)
        assert (s.figures.matched, s.figures.switches, s.figures.fragmentations, s.figures.idtp) == (
            m.clear.num_matches + m.clear.num_switches, m.clear.num_switches, m.clear.num_fragmentations,
            m.identity.idtp)
        assert (math.isnan(s.figures.mota) and math.isnan(m.clear.mota)) or math.isclose(
            s.figures.mota, m.clear.mota, abs_tol=1e-12)
        assert (math.isnan(s.figures.idf1) and math.isnan(m.identity.idf1)) or math.isclose(
            s.figures.idf1, m.identity.idf1, abs_tol=1e-12)


def test_totals_over_clips_are_the_sums_of_the_clips() -> None:
    chains = [random_chain(seed) for seed in range(40)]
    results = [attribute_chain(truth, steps) for truth, steps in chains]
    total = combine(results)
    assert total.clips == 40
    for k, step in enumerate(total.steps):
        for field in ("introduced", "removed", "attributed"):
            summed = ErrorCounts()
            for r in results:
                summed = summed + getattr(r.steps[k], field)
            assert getattr(step, field) == summed
        assert step.figures.objects == sum(r.steps[k].figures.objects for r in results)
    attributed = [s.attributed.total for s in total.steps]
    assert total.shares == tuple(a / sum(attributed) for a in attributed)
    assert math.isclose(sum(total.shares), 1.0, abs_tol=1e-12)
    assert total.limiting_step == STEPS[int(np.argmax(attributed))]
    whole = attribute_chain(concatenate([t for t, _ in chains]), [
        StepTracks(s.name, concatenate([steps[k].tracks for _, steps in chains]), s.has_ids)
        for k, s in enumerate(chains[0][1])])
    assert whole.steps == total.steps  # one long clip of the same clips: the same counts


def test_to_dict_names_every_step_with_its_share() -> None:
    doc = chain(*TABLE[6][1:5]).to_dict()
    assert doc["limiting_step"] == "detect" and doc["final"] == {"misses": 0, "false_positives": 4, "switches": 0,
                                                                 "total": 4}
    assert [s["name"] for s in doc["steps"]] == list(STEPS) and [s["share"] for s in doc["steps"]] == [0.5, 0, 0.5]
    assert doc["steps"][2]["introduced"]["false_positives"] == 2 and doc["steps"][1]["agreement"]["idf1"] == 0.8


@pytest.mark.parametrize(("steps", "threshold", "message"), [
    ([], 0.5, "at least one step"),
    ([StepTracks("a", clip(N, TRUTH)), StepTracks("a", clip(N, TRUTH))], 0.5, "unique"),
    ([StepTracks("a", clip(N + 1, TRUTH))], 0.5, "frames"),
    ([StepTracks("a", clip(N, TRUTH))], 1.5, "must be in [0, 1]"),
])
def test_bad_input_is_refused(steps: list[StepTracks], threshold: float, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace("]", r"\]")):
        attribute_chain(clip(N, TRUTH), steps, iou_threshold=threshold)


def test_results_of_other_steps_do_not_add() -> None:
    a = chain(TRUTH, TRUTH, along(7), along(7))
    b = attribute_chain(clip(N, TRUTH), [StepTracks("track", clip(N, along(7)))])
    with pytest.raises(InvalidInput, match="same steps"):
        combine([a, b])
    with pytest.raises(InvalidInput, match="nothing to combine"):
        combine([])
