"""``cuboid3d``: wire form, sizes, and BEV / 3D IoU against shapely on 10,000 random rotated pairs."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from analysis.annotations.model import FloatArray
from analysis.exceptions import InvalidInput
from analysis.geometry import Cuboid, get_geometry, read_geometry, write_geometry
from analysis.geometry.cuboid_overlaps import yaw_difference
from analysis.geometry.cuboids import bev_iou, centre_distance, iou_3d
from analysis.matching import MatchOptions, match
from analysis.matching.hungarian import optimal_pairs
from analysis.matching.pairs import near_pairs, same_key_pairs
from tests.analysis.references3d import cuboid_sides, shapely_ious

RNG_SEED = 20240616
N_PAIRS = 10_000


def _random(rng: np.random.Generator, n: int, spread: float = 3.0) -> FloatArray:
    box = np.empty((n, 7))
    box[:, 0:2] = rng.uniform(-spread, spread, (n, 2)) + 1000.0  # away from the origin: digits matter
    box[:, 2] = rng.uniform(-1, 1, n)
    box[:, 3:6] = rng.uniform(0.1, 5, (n, 3))
    box[:, 6] = rng.uniform(-2 * np.pi, 2 * np.pi, n)
    return box


def _pairs(n: int) -> tuple[FloatArray, FloatArray]:
    """Overlapping, apart, identical, nested, touching and degenerate pairs, in equal shares."""
    rng = np.random.default_rng(RNG_SEED)
    share = n // 8
    d, g = _random(rng, n), _random(rng, n)
    kinds = np.arange(n) // share
    ident = kinds == 1
    g[ident] = d[ident]
    nested = kinds == 2  # same centre, any yaw, a footprint that fits in the other's inscribed circle
    g[nested, :3] = d[nested, :3]
    g[nested, 3:5] = np.min(d[nested, 3:5], axis=1, keepdims=True) / 2 * rng.uniform(0.1, 1, (nested.sum(), 2))
    touch = kinds == 3  # g sits against d's front face (same yaw), or on its top
    along = (d[touch, 3] + g[touch, 3]) / 2
    g[touch, 6] = d[touch, 6]
    g[touch, 0] = d[touch, 0] + along * np.cos(d[touch, 6])
    g[touch, 1] = d[touch, 1] + along * np.sin(d[touch, 6])
    on_top = kinds == 4
    g[on_top, :2], g[on_top, 6] = d[on_top, :2], d[on_top, 6]
    g[on_top, 2] = d[on_top, 2] + (d[on_top, 5] + g[on_top, 5]) / 2
    flat = kinds == 5  # degenerate: one of length, width, height is 0
    g[flat, 3 + rng.integers(0, 3, flat.sum())] = 0.0
    grid = kinds == 6  # axis-aligned on whole metres: edges and corners that meet exactly
    d[grid, :6], g[grid, :6] = np.round(d[grid, :6]), np.round(g[grid, :6])
    d[grid, 6], g[grid, 6] = 0.0, rng.choice([0.0, np.pi / 2, np.pi], grid.sum())
    far = kinds == 7
    g[far, 0] += 20
    return d, g


def test_bev_and_3d_iou_equal_shapely_on_10000_random_rotated_pairs() -> None:
    d, g = _pairs(N_PAIRS)
    ref_bev, ref_3d = shapely_ious(d, g)
    np.testing.assert_allclose(bev_iou(d, g), ref_bev, rtol=0, atol=1e-9)
    np.testing.assert_allclose(iou_3d(d, g), ref_3d, rtol=0, atol=1e-9)
    assert (ref_bev > 0).mean() > 0.3 and (ref_3d == 0).mean() > 0.3  # both overlap and no overlap are covered


@pytest.mark.parametrize("at_least", [0.1, 0.5, 0.9])
def test_iou_at_a_threshold_is_exact_above_it(at_least: float) -> None:
    """The matcher's ``pair_iou_at_least`` skips pairs that cannot reach the threshold: every pair
    at or above it keeps its exact IoU, every other is below it (or 0). Crowd pairs included."""
    d, g = _pairs(N_PAIRS)
    crowd = np.arange(N_PAIRS) % 5 == 0
    _, ref = shapely_ious(d, g)
    ref = np.where(crowd, _crowd_iou(d, g), ref)
    automation, manual = cuboid_sides([[(b, 0) for b in g]], [[(b, 0, 0.5) for b in d]])
    manual = replace(manual, objects=replace(manual.objects, crowd=crowd))
    rows = np.arange(N_PAIRS)
    geometry = get_geometry("cuboid3d")
    ours = geometry.pair_iou_at_least(automation.objects, manual.objects, rows, rows, at_least)  # type: ignore[attr-defined]
    above = ref >= at_least + 1e-9
    np.testing.assert_allclose(ours[above], ref[above], rtol=0, atol=1e-9)
    assert (ours[~above] < at_least + 1e-9).all() and above.sum() > 100
    np.testing.assert_array_equal(ours[ours >= at_least],
                                  geometry.pair_iou(automation.objects, manual.objects, rows, rows)[ours >= at_least])


def _crowd_iou(d: FloatArray, g: FloatArray) -> FloatArray:
    """3D intersection over the detection's volume, by shapely."""
    bev, _ = shapely_ious(d, g)
    a_d, a_g = d[:, 3] * d[:, 4], g[:, 3] * g[:, 4]
    inter = np.where(bev > 0, bev * (a_d + a_g) / (1 + bev), 0.0)
    height = np.clip(np.minimum(d[:, 2] + d[:, 5] / 2, g[:, 2] + g[:, 5] / 2)
                     - np.maximum(d[:, 2] - d[:, 5] / 2, g[:, 2] - g[:, 5] / 2), 0, None)
    vol = a_d * d[:, 5]
    return np.divide(inter * height, vol, out=np.zeros(len(d)), where=vol > 0)  # type: ignore[no-any-return]


@pytest.mark.parametrize("overlap", ["3d", "bev"])
def test_the_kind_with_an_overlap_reads_that_iou(overlap: str) -> None:
    d, g = _pairs(2000)
    automation, manual = cuboid_sides([[(b, 0) for b in g]], [[(b, 0, 0.5) for b in d]])
    rows = np.arange(2000)
    geometry = get_geometry("cuboid3d").with_overlap(overlap)  # type: ignore[attr-defined]
    expected = iou_3d(d, g) if overlap == "3d" else bev_iou(d, g)
    np.testing.assert_array_equal(geometry.pair_iou(automation.objects, manual.objects, rows, rows), expected)
    with pytest.raises(InvalidInput, match="unknown overlap '2d'"):
        geometry.with_overlap("2d")


def test_yaw_difference_wraps_to_half_a_turn() -> None:
    def box(yaw: float) -> FloatArray:
        return np.array([[0, 0, 0, 4, 2, 1, yaw]], dtype=float)

    cases = [(0.0, 0.5, 0.5), (3.0, -3.0, 2 * math.pi - 6), (0.0, math.pi, math.pi), (-7.0, 7.0, 14 - 4 * math.pi)]
    for a, b, diff in cases:
        assert yaw_difference(box(a), box(b))[0] == pytest.approx(diff, abs=1e-12)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_matcher_pairs_as_a_brute_force_over_every_same_frame_pair(seed: int) -> None:
    """Hungarian on 3D IoU with crowd and ignored manual cuboids: equal to every same-frame pair's IoU
    (no grid, no pruning) fed to the same assignment."""
    rng = np.random.default_rng(seed)
    frames, detections = [], []
    for _ in range(40):
        gts = [(b, int(rng.integers(2))) for b in _random(rng, int(rng.integers(0, 15)), 8.0)]
        dts = [(b + np.r_[rng.normal(0, 0.2, 3), np.zeros(4)], c, 0.5) for b, c in gts if rng.random() < 0.8]
        dts += [(b, int(rng.integers(2)), 0.5) for b in _random(rng, int(rng.integers(0, 4)), 8.0)]
        frames.append(gts)
        detections.append(dts)
    automation, manual = cuboid_sides(frames, detections)
    crowd = rng.random(len(manual.objects)) < 0.1
    manual = replace(manual, objects=replace(manual.objects, crowd=crowd, ignore=rng.random(len(crowd)) < 0.1))
    ours = match(automation, manual, MatchOptions(geometry="cuboid3d"))
    dt, gt = automation.objects, manual.objects
    gt_ignored = gt.crowd | gt.ignore
    dp, gp = same_key_pairs(dt.frame * 4 + dt.category, np.where(gt_ignored, -1, gt.frame * 4 + gt.category), 160)
    iou = iou_3d(dt.geometry["cuboid3d"]["box"][dp], gt.geometry["cuboid3d"]["box"][gp])
    ok = iou >= 0.5
    chosen = optimal_pairs(dp[ok], gp[ok], iou[ok], dt.frame[dp[ok]] * 4 + dt.category[dp[ok]], len(dt), len(gt))
    assert set(zip(ours.dt.tolist(), ours.gt.tolist(), strict=True)) == set(
        zip(dp[ok][chosen].tolist(), gp[ok][chosen].tolist(), strict=True))
    ip, ig = same_key_pairs(np.where(ours.dt_matched, -1, dt.frame * 4 + dt.category),
                            np.where(gt_ignored, gt.frame * 4 + gt.category, -1), 160)
    hit = iou_3d(dt.geometry["cuboid3d"]["box"][ip], gt.geometry["cuboid3d"]["box"][ig], gt.crowd[ig]) >= 0.5
    np.testing.assert_array_equal(np.flatnonzero(ours.dt_ignored), np.unique(ip[hit]))
    assert len(ours.dt) > 100 and ours.dt_ignored.any()


def test_iou_is_symmetric_bounded_and_1_for_identical_cuboids() -> None:
    d, g = _pairs(N_PAIRS)
    for iou in (bev_iou, iou_3d):
        forward, backward = iou(d, g), iou(g, d)
        np.testing.assert_allclose(forward, backward, rtol=0, atol=1e-12)
        assert ((forward >= 0) & (forward <= 1)).all()
        solid = d[:, 3:6].prod(axis=1) > 0
        np.testing.assert_allclose(iou(d[solid], d[solid]), 1.0, rtol=0, atol=1e-12)


def test_iou_is_unchanged_by_moving_and_turning_both_cuboids() -> None:
    d, g = _pairs(2000)
    turn = 0.7

    def moved(b: FloatArray) -> FloatArray:
        out = b.copy()
        out[:, 0] = b[:, 0] * math.cos(turn) - b[:, 1] * math.sin(turn) - 500
        out[:, 1] = b[:, 0] * math.sin(turn) + b[:, 1] * math.cos(turn) + 30
        out[:, 2] += 4
        out[:, 6] += turn
        return out

    np.testing.assert_allclose(iou_3d(moved(d), moved(g)), iou_3d(d, g), rtol=0, atol=1e-9)


@pytest.mark.parametrize(("d", "g", "bev", "iou3d"), [
    ([0, 0, 0, 4, 2, 2, 0], [0, 0, 0, 4, 2, 2, math.pi], 1.0, 1.0),  # a half turn covers the same footprint
    ([0, 0, 0, 4, 2, 2, 0], [2, 0, 0, 4, 2, 2, 0], 1 / 3, 1 / 3),
    ([0, 0, 0, 4, 2, 2, 0], [0, 0, 1, 4, 2, 2, 0], 1.0, 1 / 3),  # half the height overlaps
    ([0, 0, 0, 2, 2, 2, 0], [0, 0, 0, 2, 2, 2, math.pi / 4], 1 / math.sqrt(2), 1 / math.sqrt(2)),  # an octagon
    ([0, 0, 0, 4, 2, 2, 0], [4, 0, 0, 4, 2, 2, 0], 0.0, 0.0),  # touching faces
    ([0, 0, 0, 4, 2, 0, 0], [0, 0, 0, 4, 2, 0, 0], 1.0, 0.0),  # no volume: no 3D overlap
    ([0, 0, 0, 4, 0, 2, 0], [0, 0, 0, 4, 0, 2, 0], 0.0, 0.0),  # no footprint
])
def test_iou_table(d: list[float], g: list[float], bev: float, iou3d: float) -> None:
    a, b = np.array([d], dtype=float), np.array([g], dtype=float)
    assert bev_iou(a, b)[0] == pytest.approx(bev, abs=1e-12)
    assert iou_3d(a, b)[0] == pytest.approx(iou3d, abs=1e-12)


def test_crowd_rows_divide_by_the_detections_volume() -> None:
    small, big = np.array([[0, 0, 0, 1, 1, 1, 0.3]]), np.array([[0, 0, 0, 4, 4, 4, 0]])
    assert iou_3d(small, big, np.array([True]))[0] == pytest.approx(1.0)
    assert centre_distance(np.array([[3, 4, 9, 1, 1, 1, 0]]), np.array([[0, 0, 0, 1, 1, 1, 0]]))[0] == 5.0


Q_YAW = [math.cos(0.25), 0, 0, math.sin(0.25)]  # a turn of 0.5 rad about z


@pytest.mark.parametrize(("doc", "value"), [
    ({"type": "cuboid3d", "centre": [1, 2, 0.5], "size": [4, 2, 1.5], "yaw": 0.3},
     Cuboid((1.0, 2.0, 0.5), (4.0, 2.0, 1.5), 0.3)),
    ({"type": "cuboid3d", "centre": [1, 2, 0.5], "size": [4, 0, 1.5], "yaw": -7, "frame": "lidar_top"},
     Cuboid((1.0, 2.0, 0.5), (4.0, 0.0, 1.5), -7.0, "lidar_top")),
])
def test_wire_forms_read_and_write_back(doc: dict[str, Any], value: Cuboid) -> None:
    kind, read = read_geometry(doc, "msg", "geometry")
    assert (kind, read) == ("cuboid3d", value)
    assert read_geometry(write_geometry(kind, read), "msg", "geometry") == (kind, value)


def test_a_quaternion_is_read_as_its_yaw_and_written_as_yaw() -> None:
    doc = {"type": "cuboid3d", "centre": [0, 0, 0], "size": [1, 1, 1], "quaternion": [2 * v for v in Q_YAW]}
    _, value = read_geometry(doc, "msg", "g")
    assert value.yaw == pytest.approx(0.5, abs=1e-15)
    assert "quaternion" not in write_geometry("cuboid3d", value)


def test_a_tilted_quaternion_is_kept_and_overlaps_use_its_yaw() -> None:
    pitch = [math.cos(0.15), 0, math.sin(0.15), 0]  # 0.3 rad about y, then 0.5 rad about z (Q_YAW · pitch)
    w1, _, _, z1 = Q_YAW
    w2, _, y2, _ = pitch
    tilted = [w1 * w2, -z1 * y2, w1 * y2, z1 * w2]
    doc = {"type": "cuboid3d", "centre": [0, 0, 0], "size": [4, 2, 1.5], "quaternion": tilted}
    _, value = read_geometry(doc, "msg", "g")
    assert value.quaternion == tuple(tilted) and value.yaw == pytest.approx(0.5, abs=1e-15)
    assert write_geometry("cuboid3d", value)["quaternion"] == tilted  # written back as given
    assert read_geometry(write_geometry("cuboid3d", value), "msg", "g") == ("cuboid3d", value)
    block = get_geometry("cuboid3d").column([value, Cuboid((0, 0, 0), (4, 2, 1.5), 0.5)])
    np.testing.assert_allclose(block["box"][0], block["box"][1], rtol=0, atol=1e-15)  # the upright box, same heading
    assert block["quaternion"][0].tolist() == tilted and np.isnan(block["quaternion"][1]).all()


@pytest.mark.parametrize(("extra", "problem"), [
    ({"yaw": 0, "quaternion": Q_YAW}, r"g: give exactly one of 'yaw' and 'quaternion'"),
    ({}, r"g: give exactly one of 'yaw' and 'quaternion'"),
    ({"yaw": "north"}, r"g.yaw: expected a number, got string 'north'"),
    ({"quaternion": [1, 0, 0]}, r"g.quaternion: expected \[w, x, y, z\], got 3 values"),
    ({"quaternion": [0, 0, 0, 0]}, r"g.quaternion: a rotation quaternion cannot be zero"),
    ({"quaternion": [1, 0, float("inf"), 0]}, r"g.quaternion\[2\]: must be finite"),
    ({"yaw": 0, "frame": 3}, r"g.frame: expected a string, got number 3"),
])
def test_bad_rotations_name_the_field(extra: dict[str, Any], problem: str) -> None:
    doc = {"type": "cuboid3d", "centre": [0, 0, 0], "size": [1, 1, 1], **extra}
    with pytest.raises(InvalidInput, match=problem):
        read_geometry(doc, "msg", "g")


@pytest.mark.parametrize(("centre", "size", "problem"), [
    ([0, 0], [1, 1, 1], r"g.centre: expected 3 numbers, got 2 values"),
    ([0, 0, None], [1, 1, 1], r"g.centre\[2\]: expected a number, got null"),
    ([0, 0, 0], [1, -1, 1], r"g.size\[1\]: must be >= 0.0, got -1"),
    ([0, 0, 0], "big", r"g.size: expected a list, got string 'big'"),
])
def test_bad_centres_and_sizes_name_the_field(centre: Any, size: Any, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        read_geometry({"type": "cuboid3d", "centre": centre, "size": size, "yaw": 0}, "msg", "g")


def test_area_is_the_footprint_and_height_the_3d_height() -> None:
    geometry = get_geometry("cuboid3d")
    block = geometry.column([Cuboid((0, 0, 0), (4, 2, 1.5), 1.0), Cuboid((5, 5, 5), (3, 0, 2), 0.0)])
    np.testing.assert_array_equal(geometry.area(block), [8, 0])
    np.testing.assert_array_equal(geometry.extent(block), [1.5, 2])
    assert len(geometry.column([])) == 0


def _box(x: float, y: float = 0.0, yaw: float = 0.0) -> FloatArray:
    return np.array([x, y, 0.0, 4.0, 2.0, 1.5, yaw])


@pytest.mark.parametrize(("case", "gts", "dts", "options", "tp", "fp", "fn"), [
    ("3D IoU, hungarian", [(_box(0), 0)], [(_box(0.5), 0, 0.9)], MatchOptions(geometry="cuboid3d"), 1, 0, 0),
    ("3D IoU below threshold", [(_box(0), 0)], [(_box(2.5), 0, 0.9)], MatchOptions(geometry="cuboid3d"), 0, 1, 1),
    ("centre within 2 m", [(_box(0), 0)], [(_box(1.9), 0, 0.9)],
     MatchOptions(method="centre", geometry="cuboid3d"), 1, 0, 0),
    ("centre at exactly 2 m is no match", [(_box(0), 0)], [(_box(2.0), 0, 0.9)],
     MatchOptions(method="centre", geometry="cuboid3d"), 0, 1, 1),
    ("the higher score takes the closest", [(_box(0), 0), (_box(3), 0)], [(_box(1.4), 0, 0.5), (_box(1.6), 0, 0.9)],
     MatchOptions(method="centre", geometry="cuboid3d"), 2, 0, 0),
    ("class-aware", [(_box(0), 0)], [(_box(0), 1, 0.9)],
     MatchOptions(method="centre", geometry="cuboid3d"), 0, 1, 1),
    ("class-agnostic", [(_box(0), 0)], [(_box(0), 1, 0.9)],
     MatchOptions(method="centre", geometry="cuboid3d", class_aware=False), 1, 0, 0),
    ("wider threshold", [(_box(0), 0)], [(_box(3.0), 0, 0.9)],
     MatchOptions(method="centre", geometry="cuboid3d", max_distance=4), 1, 0, 0),
])
def test_match_table(case: str, gts: list[Any], dts: list[Any], options: MatchOptions, tp: int, fp: int,
                     fn: int) -> None:
    automation, manual = cuboid_sides([gts], [dts])
    m = match(automation, manual, options)
    assert (len(m.dt), int(m.false_positive.sum()), int(m.false_negative.sum())) == (tp, fp, fn), case


def test_centre_matching_reports_the_matched_pairs_3d_iou() -> None:
    automation, manual = cuboid_sides([[(_box(0), 0)]], [[(_box(1.0), 0, 0.9)]])
    m = match(automation, manual, MatchOptions(method="centre", geometry="cuboid3d"))
    assert m.iou.tolist() == pytest.approx([3 / 5])


def test_centre_matching_needs_a_kind_with_centres() -> None:
    automation, manual = cuboid_sides([[(_box(0), 0)]], [[(_box(1.0), 0, 0.9)]])
    with pytest.raises(InvalidInput, match="centre matching needs a geometry kind with centres"):
        match(automation, manual, MatchOptions(method="centre", geometry="box2d"))


def test_cuboids_of_different_coordinate_systems_are_not_compared() -> None:
    automation, manual = cuboid_sides([[(_box(0), 0)]], [[(_box(1.0), 0, 0.9)]])
    block = manual.objects.geometry["cuboid3d"]
    block["frame"] = ["ego"]
    with pytest.raises(InvalidInput, match=r"cuboids 0 and 0: are in different coordinate systems \('' and 'ego'\)"):
        match(automation, manual, MatchOptions(geometry="cuboid3d"))


@pytest.mark.parametrize("reach", [0.0, 0.003, 0.7, 3.0, 50.0])  # 0.003 m: cells too many to count, searched
def test_near_pairs_hold_every_same_key_pair_within_reach(reach: float) -> None:
    rng = np.random.default_rng(5)
    dt_key, gt_key = rng.integers(-1, 6, 400), rng.integers(-1, 6, 300)
    dt_xy, gt_xy = rng.uniform(-10, 10, (400, 2)), rng.uniform(-10, 10, (300, 2))
    gt_xy[:5] = dt_xy[:5]  # some at distance 0
    dp, gp = near_pairs(dt_key, gt_key, 6, dt_xy, gt_xy, reach)
    ap, ag = same_key_pairs(dt_key, gt_key, 6)
    within = np.hypot(*(dt_xy[ap] - gt_xy[ag]).T) <= reach
    near, every = _pair_set(dp, gp), _pair_set(ap, ag)
    assert _pair_set(ap[within], ag[within]) <= near <= every
    assert (np.diff(dp) >= 0).all() and len(near) == len(dp)
    assert _pair_set(*near_pairs(dt_key, gt_key, 6, dt_xy, gt_xy, reach, ordered=False)) == near


def _pair_set(dp: Any, gp: Any) -> set[tuple[int, int]]:
    return set(zip(dp.tolist(), gp.tolist(), strict=True))
