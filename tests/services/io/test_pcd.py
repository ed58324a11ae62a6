"""PCD v0.7 files: the byte layout the spec gives, exact round trips, and agreement with Open3D both ways."""

from __future__ import annotations

import struct
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from services.datasets.driving3d import render_frame
from services.exceptions import InvalidInput
from services.io.pcd import parse_pcd, pcd_bytes, read_pcd, write_pcd

HEADER = (
    b"# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS x y z intensity\nSIZE 4 4 4 4\n"
    b"TYPE F F F F\nCOUNT 1 1 1 1\nWIDTH 2\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS 2\n"
)
TWO = np.array([[1.5, -2.25, 0.125, 0.5], [100.0, 1e-7, -3.0, 1.0]], dtype=np.float32)


@pytest.fixture(scope="module")
def o3d() -> ModuleType:
    """Open3D, the independent PCD reader and writer (the test extra; its wheel needs Debian's libusb-1.0-0)."""
    try:
        import open3d
    except ImportError as exc:
        pytest.fail(f"open3d cannot be imported ({exc}): pip install '.[test]' and apt-get install libusb-1.0-0")
    return open3d


@pytest.fixture(scope="module")
def cloud() -> np.ndarray:
    return render_frame(0, 0).points


def test_binary_is_the_spec_header_then_little_endian_float32_records() -> None:
    data = pcd_bytes(TWO)
    assert data == HEADER + b"DATA binary\n" + struct.pack("<8f", *TWO.ravel().tolist())


def test_ascii_is_the_spec_header_then_one_point_a_line() -> None:
    assert pcd_bytes(TWO, ascii=True) == HEADER + b"DATA ascii\n1.5 -2.25 0.125 0.5\n100 1.00000001e-07 -3 1\n"


@pytest.mark.parametrize("ascii", [False, True])
def test_points_round_trip_bit_for_bit(ascii: bool, cloud: np.ndarray, tmp_path: Path) -> None:
    write_pcd(tmp_path / "a.pcd", cloud, ascii=ascii)
    back = read_pcd(tmp_path / "a.pcd")
    assert back.dtype == np.float32 and back.tobytes() == cloud.tobytes()
    assert parse_pcd(pcd_bytes(np.zeros((0, 4)), ascii=ascii)).shape == (0, 4)


@pytest.mark.parametrize("ascii", [False, True])
def test_open3d_reads_our_files_as_written(ascii: bool, o3d: ModuleType, cloud: np.ndarray, tmp_path: Path) -> None:
    write_pcd(tmp_path / "ours.pcd", cloud, ascii=ascii)
    theirs = o3d.t.io.read_point_cloud(str(tmp_path / "ours.pcd"))
    assert np.array_equal(theirs.point.positions.numpy(), cloud[:, :3])
    assert np.array_equal(theirs.point.intensity.numpy()[:, 0], cloud[:, 3])


@pytest.mark.parametrize("ascii", [False, True])
def test_we_read_open3ds_files(ascii: bool, o3d: ModuleType, cloud: np.ndarray, tmp_path: Path) -> None:
    theirs = o3d.t.geometry.PointCloud()
    theirs.point.positions = o3d.core.Tensor(np.ascontiguousarray(cloud[:, :3]))
    theirs.point.intensity = o3d.core.Tensor(np.ascontiguousarray(cloud[:, 3:]))
    o3d.t.io.write_point_cloud(str(tmp_path / "theirs.pcd"), theirs, write_ascii=ascii)
    assert read_pcd(tmp_path / "theirs.pcd").tobytes() == cloud.tobytes()
    if not ascii:
        assert (tmp_path / "theirs.pcd").read_bytes() == pcd_bytes(cloud)  # the same file, byte for byte


def test_a_cloud_without_intensity_reads_with_zero_intensity(
    o3d: ModuleType, cloud: np.ndarray, tmp_path: Path
) -> None:
    legacy = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(cloud[:, :3].astype(np.float64)))
    o3d.io.write_point_cloud(str(tmp_path / "xyz.pcd"), legacy)
    back = read_pcd(tmp_path / "xyz.pcd")
    assert np.array_equal(back[:, :3], cloud[:, :3]) and not back[:, 3].any()


def test_other_fields_types_and_counts_are_skipped() -> None:
    header = (
        b"VERSION .7\nFIELDS ring x y z _ intensity normal\nSIZE 2 8 4 4 1 4 4\nTYPE U F F F U F F\n"
        b"COUNT 1 1 1 1 3 1 3\nWIDTH 2\nHEIGHT 1\nPOINTS 2\n"
    )
    records = [struct.pack("<Hdff3Bf3f", 7, x, y, z, 0, 0, 0, i, 0, 0, 1) for x, y, z, i in TWO.tolist()]
    assert np.array_equal(parse_pcd(header + b"DATA binary\n" + b"".join(records)), TWO)
    text = "".join(f"7 {x} {y} {z} 0 0 0 {i} 0 0 1\n" for x, y, z, i in TWO.tolist()).encode()
    assert np.array_equal(parse_pcd(header + b"DATA ascii\n" + text), TWO)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello\n", "header line 1: unknown entry 'hello'"),
        (HEADER, "header: ends before its DATA line"),
        (HEADER + b"DATA binary\n" + b"\0" * 31, "DATA: 31 bytes of data, 2 points need 32"),
        (HEADER + b"DATA ascii\n1 2 3 4\n", "DATA: 4 values, 2 points of 4 need 8"),
        (HEADER + b"DATA ascii\n1 2 3 4 5 6 7 x\n", "DATA: a value is not a number"),
        (HEADER + b"DATA binary_compressed\n", "'binary_compressed' data is not supported"),
        (HEADER.replace(b"x y z", b"a y z") + b"DATA ascii\n", "FIELDS: no x field"),
        (HEADER.replace(b"POINTS 2", b"POINTS 3") + b"DATA ascii\n", "POINTS: 3 points, but WIDTH x HEIGHT is 2"),
        (HEADER.replace(b"TYPE F F F F", b"TYPE F F F Q") + b"DATA ascii\n", "field intensity: unsupported type Q4"),
    ],
)
def test_bad_files_are_named_with_the_part_at_fault(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_pcd(data, "cloud.pcd")


def test_writing_refuses_what_is_not_n_by_4_numbers() -> None:
    with pytest.raises(InvalidInput, match=r"expected an \(N, 4\) array"):
        pcd_bytes(np.zeros((3, 3)))
