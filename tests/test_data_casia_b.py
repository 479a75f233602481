"""CASIA-B CSV reader: grouping, split, both parsers agree, every kind of bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gaitgraph.data import casia_b, casia_b_csv, casia_b_csv_fast
from gaitgraph.data.casia_b import convert_casia_b, read_casia_b
from gaitgraph.data.casia_b_csv import COLUMNS
from gaitgraph.data.errors import DataError, SkipCounter
from gaitgraph.data.format import load_dataset

HEADER = ",".join(COLUMNS)


def name(subject=1, cond="nm", seq=1, view=0, frame=1):
    return f"./{subject:03d}-{cond}-{seq:02d}-{view:03d}/{frame:06d}.jpg"


def values(frame, subject=1):
    """51 distinct values per row so that a mix-up of rows or columns shows; confidences (every third
    value) in [0, 1], as the readers require (others are clipped and counted)."""
    return [round(subject * 1000 + frame + j / 100, 2) / (1 if j % 3 != 2 else 1e7) for j in range(51)]


def row(subject=1, cond="nm", seq=1, view=0, frame=1, vals=None):
    vals = values(frame, subject) if vals is None else vals
    return ",".join([name(subject, cond, seq, view, frame)] + [str(v) for v in vals])


def write(tmp_path, rows, newline="\n", header=HEADER, fname="casia-b_pose_coco.csv"):
    p = tmp_path / fname
    p.write_bytes(newline.join([header] + rows).encode() + newline.encode())
    return p


def small_rows():
    """Two subjects (1 train, 80 test), 3 sequences with a gap in the frame numbers."""
    rows = [row(1, "bg", 1, 18, f) for f in (1, 2, 3)]
    rows += [row(1, "nm", 2, 0, f) for f in (5, 6, 9)]  # gap 6 -> 9 is real
    rows += [row(80, "cl", 1, 180, f) for f in (1, 2)]
    return rows


def both_parsers(path, strict=False):
    c1, c2 = SkipCounter(strict), SkipCounter(strict)
    fast = casia_b.group_sequences(casia_b_csv_fast.read_rows_fast(path, c1), c1)
    precise = casia_b.group_sequences(casia_b_csv.read_rows_precise(path, c2), c2)
    return (fast, c1), (precise, c2)


def assert_same(a, b, source=True):
    np.testing.assert_array_equal(a.poses, b.poses)
    np.testing.assert_array_equal(a.frames, b.frames)
    cols = list(a.table.columns) if source else [c for c in a.table.columns if c != "source"]
    assert a.table[cols].equals(b.table[cols])


def last_value(text, new):
    """Replace the last value of a CSV row."""
    return text.rsplit(",", 1)[0] + "," + new


def test_groups_sorts_and_splits(tmp_path):
    p = write(tmp_path, small_rows())
    seqs, counter = read_casia_b(p)
    t = seqs.table
    assert list(zip(t.subject, t.condition, t.sequence, t.view)) == [(1, "bg", 1, 18), (1, "nm", 2, 0), (80, "cl", 1, 180)]
    assert list(t.length) == [3, 3, 2] and list(t.offset) == [0, 3, 6]
    assert list(t.split) == ["train", "train", "test"]
    assert seqs.frames.tolist() == [1, 2, 3, 5, 6, 9, 1, 2]
    np.testing.assert_allclose(seqs.poses[4].reshape(-1), np.float32(values(6)))
    assert t.source[0] == "casia-b_pose_coco.csv:2-4"
    assert not counter


def test_fast_and_precise_parsers_agree(tmp_path):
    rows = small_rows()
    rows = rows[3:] + [rows[2], rows[0], rows[1], rows[0]]  # interleaved, out of order, a duplicate
    p = write(tmp_path, rows)
    (fast, c1), (precise, c2) = both_parsers(p)
    assert_same(fast, precise)
    assert c1.summary() == c2.summary() == {"duplicate frame": 1, "rows out of order (sorted by frame number)": 2}  # 3>1, 2>1


def test_test_from_is_configurable(tmp_path):
    p = write(tmp_path, small_rows())
    seqs, _ = read_casia_b(p, test_from=1)
    assert set(seqs.table.split) == {"test"}


def test_convert_writes_dataset(tmp_path):
    p = write(tmp_path, small_rows())
    out = convert_casia_b(p, tmp_path / "out", synthetic=True, progress=False)
    ds = load_dataset(out)
    assert ds.meta["dataset"] == "casia-b" and ds.meta["skeleton"] == "coco17" and ds.meta["keypoints"] == "hrnet"
    assert ds.meta["synthetic"] is True and ds.meta["stats"] == {}
    assert ds.poses.shape == (8, 17, 3) and len(ds) == 3
    np.testing.assert_allclose(ds.sequence(2)[1].reshape(-1), np.float32(values(2, 80)))


def test_windows_line_endings_and_bom(tmp_path):
    p = write(tmp_path, small_rows(), newline="\r\n", header="\ufeff" + HEADER)
    seqs, counter = read_casia_b(p)
    ref, _ = read_casia_b(write(tmp_path, small_rows(), fname="unix.csv"))
    assert_same(seqs, ref, source=False)
    assert not counter


@pytest.mark.parametrize(
    "bad, reason",
    [
        (name(1, "nm", 2, 0, 7) + ",1,2,3", "wrong number of values"),
        (last_value(row(1, "nm", 2, 0, 7), "abc"), "non-numeric value"),
        (last_value(row(1, "nm", 2, 0, 7), "nan"), "NaN or infinite value"),
        (last_value(row(1, "nm", 2, 0, 7), "-inf"), "NaN or infinite value"),
        (last_value(row(1, "nm", 2, 0, 7), ""), "non-numeric value"),  # empty cell
        ("", "blank line"),
        (row(2).replace("-nm-", "-xx-"), "unknown condition code"),
        (row(2).replace("./", "/", 1), "malformed image_name"),
        (row(2).replace(".jpg", ".png"), "malformed image_name"),
        (row(2).replace("002", "0x2"), "malformed image_name"),
    ],
)
def test_bad_rows_are_skipped_counted_and_fail_in_strict_mode(tmp_path, bad, reason):
    rows = small_rows()
    rows.insert(4, bad)  # line 6 (header is line 1)
    p = write(tmp_path, rows)
    seqs, counter = read_casia_b(p)
    assert counter.summary() == {reason: 1}
    assert "casia-b_pose_coco.csv:6" in counter.examples[reason][0]
    ref, _ = read_casia_b(write(tmp_path, small_rows(), fname="ref.csv"))
    np.testing.assert_array_equal(seqs.poses, ref.poses)
    with pytest.raises(DataError, match=r"casia-b_pose_coco\.csv:6.*" + reason):
        read_casia_b(p, strict=True)


def test_valid_but_unusual_name_goes_through_the_precise_row_parser(tmp_path):
    rows = small_rows() + [row(1, "nm", 2, 0, 1234567)]  # 7-digit frame number: not 26 bytes wide
    seqs, counter = read_casia_b(write(tmp_path, rows))
    assert seqs.frames[:7].tolist()[-1] == 1234567 and not counter


def test_duplicate_frames_keep_the_first_row(tmp_path):
    rows = small_rows()
    rows.insert(2, row(1, "bg", 1, 18, 2, vals=[0.5] * 51))  # line 4, right after its first copy
    p = write(tmp_path, rows)
    seqs, counter = read_casia_b(p)
    assert counter.summary() == {"duplicate frame": 1}
    assert counter.examples["duplicate frame"][0].startswith(f"{p.name}:4 (frame 2, first at line 3")
    np.testing.assert_allclose(seqs.poses[1].reshape(-1), np.float32(values(2)))
    with pytest.raises(DataError, match="duplicate frame"):
        read_casia_b(p, strict=True)


def test_out_of_order_rows_are_sorted_and_counted_even_in_strict_mode(tmp_path):
    rows = small_rows()
    rows[0], rows[2] = rows[2], rows[0]
    seqs, counter = read_casia_b(write(tmp_path, rows), strict=True)
    assert seqs.frames[:3].tolist() == [1, 2, 3]
    assert counter.summary() == {"rows out of order (sorted by frame number)": 2}


def test_sequence_with_every_row_bad_is_counted_as_empty(tmp_path):
    rows = small_rows() + [last_value(row(5, "cl", 2, 90, 1), "inf")]
    seqs, counter = read_casia_b(write(tmp_path, rows))
    assert counter.summary() == {"NaN or infinite value": 1, "empty sequence (every row skipped)": 1}
    assert "005-cl-02-090" in counter.examples["empty sequence (every row skipped)"][0]
    assert len(seqs.table) == 3


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty file"),
        (row(1).encode() + b"\n", "missing header"),
        (HEADER.replace("nose_x", "nose_X").encode() + b"\n", "column 2 is 'nose_X'"),
        (b"image_name,a,b\n", "wrong header: 3 columns"),
    ],
)
def test_unusable_files_fail(tmp_path, content, message):
    p = tmp_path / "casia-b_pose_coco.csv"
    p.write_bytes(content)
    with pytest.raises(DataError, match=message):
        convert_casia_b(p, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_header_only_file_has_nothing_to_convert(tmp_path):
    with pytest.raises(DataError, match="no valid rows"):
        convert_casia_b(write(tmp_path, []), tmp_path / "out", progress=False)


def test_missing_file_says_where_it_comes_from(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"GaitGraph/releases/download/v0\.1/data\.zip"):
        convert_casia_b(tmp_path / "nope.csv", tmp_path / "out", progress=False)


def test_failure_while_writing_leaves_no_output(tmp_path, monkeypatch):
    p = write(tmp_path, small_rows())

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr("pandas.DataFrame.to_parquet", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        convert_casia_b(p, tmp_path / "out", progress=False)
    assert [x.name for x in tmp_path.iterdir()] == ["casia-b_pose_coco.csv"]


def test_stats_are_recorded_in_meta(tmp_path):
    rows = small_rows() + [name(3) + ",1"]
    out = convert_casia_b(write(tmp_path, rows), tmp_path / "out", progress=False)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["stats"] == {"wrong number of values": 1}


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_fast_parser_locates_rows_it_skips(tmp_path, newline):
    rows = small_rows()
    short = name(1, "nm", 2, 0, 7) + ",1,2,3"
    rows[1:1] = [short, ""]  # lines 3 and 4
    rows[6:6] = [short]  # the same text again, line 8
    rows.append("")  # a blank last line
    p = write(tmp_path, rows, newline=newline)
    (fast, c1), (precise, c2) = both_parsers(p)  # the fast parser does not give up on these
    assert_same(fast, precise)
    assert c1.summary() == c2.summary() == {"wrong number of values": 2, "blank line": 2}
    assert c1.examples == c2.examples
    assert [e.split(" ")[0] for e in c1.examples["wrong number of values"]] == [f"{p}:3", f"{p}:8"]
    assert fast.table.source.tolist() == precise.table.source.tolist() == [f"{p.name}:2-6", f"{p.name}:7-10", f"{p.name}:11-12"]


def test_many_bad_rows_go_to_the_precise_parser(tmp_path, monkeypatch):
    monkeypatch.setattr(casia_b_csv_fast, "_MAX_LOCATED_ROWS", 1)
    p = write(tmp_path, small_rows() + [name(1) + ",1", name(1) + ",2"])
    with pytest.raises(casia_b_csv_fast.NeedsPrecise):
        casia_b_csv_fast.read_rows_fast(p, SkipCounter())
    _, counter = read_casia_b(p)
    assert counter.summary() == {"wrong number of values": 2}
