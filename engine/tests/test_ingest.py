"""Ingestion core: every file is built from bytes in the test; no database."""

from __future__ import annotations

import codecs
import hashlib
import json
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.ingest import IngestError, IngestResult, Limits, ingest_file, read_parquet_frame

REPO = Path(__file__).resolve().parents[2]
LIMIT = 50 * 2**20


def ingest(tmp_path: Path, name: str, data: bytes, max_bytes: int = LIMIT) -> IngestResult:
    source = tmp_path / "upload" / name
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(data)
    return ingest_file(
        source=source,
        filename=name,
        parquet_out=tmp_path / "out" / "data.parquet",
        max_bytes=max_bytes,
    )


def csv(header: str, rows: list[str], newline: str = "\n") -> str:
    return newline.join([header, *rows]) + newline


def numbered(n: int, template: str = "{i},{i}") -> list[str]:
    return [template.format(i=i) for i in range(n)]


def parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def column(result: IngestResult, name: str) -> dict:
    return next(c for c in result.columns if c["name"] == name)


# --- files that must be refused ---------------------------------------------------------------

TWELVE = numbered(12, "{i},{i},{i}")

BAD_FILES = [
    # id, filename, bytes (or a function making them), status, substring of the message
    ("too-large", "big.csv", b"a,b\n" + b"1,2\n" * 600, 413, "the limit is 1000 bytes"),
    ("zero-bytes", "empty.csv", b"", 422, "The file is empty."),
    ("whitespace", "blank.csv", b"  \n\t\n\r\n   ", 422, "The file is empty."),
    ("utf8-bom-only", "bom.csv", codecs.BOM_UTF8 + b"\n\n", 422, "The file is empty."),
    ("utf16-bom-only", "bom16.csv", " \n".encode("utf-16"), 422, "The file is empty."),
    ("header-only", "h.csv", b"a,b,c\n", 422, "The file has a header but no data rows."),
    ("header-no-newline", "h.csv", b"a,b,c", 422, "The file has a header but no data rows."),
    ("binary", "data.csv", bytes(range(256)) * 40, 422, "does not look like a text CSV file"),
    ("excel", "sheet.csv", b"PK\x03\x04" + bytes(300), 422, "Excel workbook"),
    (
        "duplicate-names",
        "d.csv",
        csv("a,b,a,b,c", numbered(12, "1,2,3,4,{i}")).encode(),
        422,
        "Duplicate column names: 'a', 'b'",
    ),
    (
        "duplicate-after-trim",
        "d.csv",
        csv("a, a ,b", TWELVE).encode(),
        422,
        "Duplicate column names: 'a'",
    ),
    (
        "empty-name",
        "e.csv",
        csv("a,b,,d", numbered(12, "{i},1,2,3")).encode(),
        422,
        "Empty column name at position 3",
    ),
    ("one-column", "one.csv", csv("a", numbered(12, "{i}")).encode(), 422, "The file has 1 column"),
    ("few-rows", "few.csv", csv("a,b", numbered(5)).encode(), 422, "The file has 5 data rows"),
    (
        "ragged-extra-field",
        "r.csv",
        csv("a,b,c", TWELVE[:3] + ["1,2,3,4"] + TWELVE[3:]).encode(),
        422,
        "Row 5 (counting the header as row 1) has 4 fields, but the header has 3",
    ),
    (
        "ragged-missing-field",
        "r.csv",
        csv("a,b,c", TWELVE[:3] + ["1,2"] + TWELVE[3:]).encode(),
        422,
        "Row 5 (counting the header as row 1) has 2 fields",
    ),
    ("unsupported-type", "book.xlsx", b"a,b\n1,2\n", 422, "not a supported file type"),
    ("parquet-garbage", "x.parquet", b"PAR1" + bytes(500) + b"PAR1", 422, "Parquet"),
    ("csv-named-parquet", "x.parquet", csv("a,b", numbered(12)).encode(), 422, "Parquet"),
    (
        "parquet-truncated",
        "x.parquet",
        lambda: parquet_bytes(pa.table({"a": range(100), "b": range(100)}))[:-40],
        422,
        "Parquet",
    ),
    (
        "parquet-nested-column",
        "x.parquet",
        lambda: parquet_bytes(pa.table({"a": range(12), "l": [[1, 2]] * 12})),
        422,
        "Column 'l' has type list",
    ),
    (
        "parquet-few-rows",
        "x.parquet",
        lambda: parquet_bytes(pa.table({"a": range(3), "b": range(3)})),
        422,
        "The file has 3 data rows; at least 10 are needed",
    ),
    (
        "parquet-no-rows",
        "x.parquet",
        lambda: parquet_bytes(
            pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.string())})
        ),
        422,
        "no data rows",
    ),
    (
        "parquet-one-column",
        "x.parquet",
        lambda: parquet_bytes(pa.table({"a": range(20)})),
        422,
        "The file has 1 column",
    ),
]


@pytest.mark.parametrize(
    ("filename", "data", "status", "expected"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_bad_file_is_refused_and_leaves_nothing(tmp_path, filename, data, status, expected):
    data = data() if callable(data) else data
    with pytest.raises(IngestError) as caught:
        ingest(tmp_path, filename, data, max_bytes=1000 if status == 413 else LIMIT)
    assert caught.value.status == status
    assert expected in caught.value.message
    out_dir = tmp_path / "out"
    assert not (out_dir / "data.parquet").exists()
    assert not out_dir.exists() or list(out_dir.iterdir()) == []  # no partial file either


def test_too_large_message_names_both_sizes(tmp_path):
    source = tmp_path / "huge.csv"
    with source.open("wb") as f:
        f.truncate(int(250.3 * 2**20))  # sparse: takes no disk
    with pytest.raises(IngestError) as caught:
        ingest_file(
            source=source,
            filename="huge.csv",
            parquet_out=tmp_path / "data.parquet",
            max_bytes=200 * 2**20,
        )
    assert (caught.value.status, caught.value.code) == (413, "too_large")
    assert caught.value.message == "File is 250.3 MB; the limit is 200 MB."


def test_ragged_row_far_into_the_file_is_named(tmp_path):
    rows = numbered(100_000, "{i},{i},{i}") + ["1,2"] + numbered(5, "{i},{i},{i}")
    with pytest.raises(IngestError) as caught:
        ingest(tmp_path, "r.csv", csv("a,b,c", rows).encode())
    assert "Row 100002 " in caught.value.message


# --- real-world shapes that must load ---------------------------------------------------------


def test_semicolons_with_decimal_commas_load_as_numbers(tmp_path):
    rows = [f"{i};{i},5;Köln" for i in range(12)]
    result = ingest(tmp_path, "eu.csv", csv("id;price;city", rows).encode())
    assert result.delimiter == ";"
    price = column(result, "price")
    assert price["kind"] == "numeric"
    assert (price["min"], price["max"]) == (0.5, 11.5)
    assert result.preview[1] == {"id": 1, "price": 1.5, "city": "Köln"}


def test_semicolon_file_with_decimal_points_keeps_them(tmp_path):
    rows = [f"item {i};{i}.25" for i in range(12)]
    result = ingest(tmp_path, "eu.csv", csv("name;price", rows).encode())
    assert column(result, "price")["max"] == 11.25


def test_utf8_bom_is_not_part_of_the_first_name(tmp_path):
    data = codecs.BOM_UTF8 + csv("name,n", [f"Zoë {i},{i}" for i in range(12)]).encode()
    result = ingest(tmp_path, "bom.csv", data)
    assert result.encoding == "utf-8-sig"
    assert [c["name"] for c in result.columns] == ["name", "n"]
    assert result.preview[0]["name"] == "Zoë 0"


@pytest.mark.parametrize(
    "encoded",
    [
        lambda text: text.encode("utf-16"),
        lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    ],
    ids=["native", "little-endian", "big-endian"],
)
def test_utf16_with_bom(tmp_path, encoded):
    text = csv("ville,n", [f"Besançon {i},{i}" for i in range(12)])
    result = ingest(tmp_path, "u16.csv", encoded(text))
    assert result.encoding == "utf-16"
    assert result.preview[3] == {"ville": "Besançon 3", "n": 3}
    assert column(result, "n")["kind"] == "numeric"


def test_latin1_accents_are_decoded_with_a_warning(tmp_path):
    rows = [f"{i},café,Zürich" for i in range(12)]
    result = ingest(tmp_path, "l1.csv", csv("id,drink,city", rows).encode("latin-1"))
    assert result.encoding == "latin-1"
    assert any(w.startswith("Decoded as Latin-1") for w in result.warnings)
    assert result.preview[0] == {"id": 0, "drink": "café", "city": "Zürich"}


def test_windows_1252_euro_sign_is_kept(tmp_path):
    rows = [f"{i},€ {i}" for i in range(12)]
    result = ingest(tmp_path, "w.csv", csv("id,price", rows).encode("cp1252"))
    assert result.encoding == "cp1252"
    assert any(w.startswith("Decoded as Latin-1") for w in result.warnings)
    assert result.preview[2]["price"] == "€ 2"


def test_invalid_utf8_after_the_sniffed_head_falls_back(tmp_path):
    rows = numbered(20_000, "{i},name{i}") + ["20000,café"]
    result = ingest(tmp_path, "late.csv", csv("id,name", rows).encode("latin-1"))
    assert result.encoding in ("cp1252", "latin-1")
    assert any(w.startswith("Decoded as Latin-1") for w in result.warnings)
    frame = read_parquet_frame(tmp_path / "out" / "data.parquet")
    assert frame["name"].iloc[-1] == "café"


def test_quoted_newlines_and_delimiters(tmp_path):
    rows = [f'{i},"line one\nline, two ""quoted""",{i * 2}' for i in range(12)]
    result = ingest(tmp_path, "q.csv", csv("id,note,n", rows).encode())
    assert result.n_rows == 12
    assert result.preview[0] == {"id": 0, "note": 'line one\nline, two "quoted"', "n": 0}


def test_long_quoted_values_across_read_blocks(tmp_path):
    note = "x" * 5000 + "\n" + "y" * 3000 + ", z"
    rows = [f'{i},"{note}"' for i in range(400)]  # about 3 MB: several read blocks
    result = ingest(tmp_path, "q.csv", csv("id,note", rows).encode())
    assert result.n_rows == 400
    frame = read_parquet_frame(tmp_path / "out" / "data.parquet")
    assert (frame["note"] == note).all()


@pytest.mark.parametrize(
    ("filename", "delimiter", "source_format"),
    [
        ("comma.csv", ",", "csv"),
        ("pipe.txt", "|", "csv"),
        ("tab.tsv", "\t", "tsv"),
        ("tab.txt", "\t", "tsv"),
        ("semi.csv", ";", "csv"),
    ],
)
def test_delimiter_is_sniffed(tmp_path, filename, delimiter, source_format):
    # The text column holds the other candidates, so only the header decides.
    others = "".join(d for d in ",;|" if d != delimiter)
    rows = [delimiter.join([str(i), f'"a{others} b"', str(i * 1.5)]) for i in range(12)]
    result = ingest(tmp_path, filename, csv(delimiter.join(["id", "text", "x"]), rows).encode())
    assert result.delimiter == delimiter
    assert result.source_format == source_format
    assert result.n_cols == 3
    assert result.preview[0]["text"] == f"a{others} b"


def test_excel_sep_line_declares_the_delimiter(tmp_path):
    rows = TWELVE[:3] + ["1,2"] + TWELVE[3:]
    data = "sep=,\r\n" + csv("a,b,c", rows, newline="\r\n")
    with pytest.raises(IngestError) as caught:
        ingest(tmp_path, "x.csv", data.encode())
    assert "Row 5 (counting the header as row 1)" in caught.value.message

    data = "sep=;\n" + csv("a;b", [f"{i};{i},5" for i in range(12)])
    result = ingest(tmp_path, "x.csv", data.encode())
    assert [c["name"] for c in result.columns] == ["a", "b"]
    assert column(result, "b")["max"] == 11.5


def test_a_row_longer_than_a_read_block(tmp_path):
    long_text = "x" * (3 * 2**20)
    rows = [f"{i},short" for i in range(11)] + [f'11,"{long_text}"']
    result = ingest(tmp_path, "long.csv", csv("id,text", rows).encode())
    assert result.n_rows == 12
    frame = read_parquet_frame(tmp_path / "out" / "data.parquet")
    assert frame["text"].iloc[-1] == long_text


def test_crlf_line_endings(tmp_path):
    result = ingest(tmp_path, "w.csv", csv("a,b", numbered(12), newline="\r\n").encode())
    assert (result.n_rows, result.n_cols) == (12, 2)
    assert result.preview[0] == {"a": 0, "b": 0}


def test_id_and_constant_columns_load_and_are_flagged(tmp_path):
    rows = [f"{i + 1},C{i:04d},same,{i % 3}" for i in range(30)]
    result = ingest(tmp_path, "ids.csv", csv("row,customer,country,group", rows).encode())
    assert result.n_rows == 30
    assert column(result, "row")["unique"] == 30
    assert column(result, "customer")["unique"] == 30
    assert column(result, "country")["unique"] == 1
    warnings = " ".join(result.warnings)
    assert "Column 'row' has a different value in every row" in warnings
    assert "Column 'customer' has a different value in every row" in warnings
    assert "Column 'country' has the same value in every row" in warnings
    assert "'group'" not in warnings


def test_infinite_values_count_as_missing_and_are_recorded(tmp_path):
    values = ["inf", "-inf", "Infinity", "", "NaN"] + [str(i) for i in range(10)]
    rows = [f"{i},{v}" for i, v in enumerate(values)]
    result = ingest(tmp_path, "inf.csv", csv("id,x", rows).encode())
    x = column(result, "x")
    assert x["inf_count"] == 3
    assert x["missing"] == 5  # three infinities, one empty cell, one NaN
    assert (x["min"], x["max"], x["mean"]) == (0.0, 9.0, 4.5)
    assert "Column 'x': 3 infinite values treated as missing." in result.warnings
    frame = read_parquet_frame(tmp_path / "out" / "data.parquet")
    assert frame["x"].isna().sum() == 5
    assert np.isfinite(frame["x"].dropna()).all()


def test_column_types_settle_on_values_far_into_the_file(tmp_path):
    # pyarrow's streaming reader fixes types from its first block; later misfits must not fail.
    rows = numbered(200_000, "{i},{i},") + ["x,1.5,3.5"]
    result = ingest(tmp_path, "late.csv", csv("code,amount,sparse", rows).encode())
    assert result.n_rows == 200_001
    assert column(result, "code")["dtype"] == "string"
    assert column(result, "amount")["dtype"] == "float64"
    sparse = column(result, "sparse")
    assert (sparse["dtype"], sparse["missing"], sparse["max"]) == ("float64", 200_000, 3.5)


def test_trailing_delimiter_column_is_dropped(tmp_path):
    result = ingest(tmp_path, "t.csv", csv("a,b,", numbered(12, "{i},{i},")).encode())
    assert [c["name"] for c in result.columns] == ["a", "b"]
    assert any("unnamed, empty last column" in w for w in result.warnings)


def test_names_are_trimmed(tmp_path):
    result = ingest(tmp_path, "t.csv", csv(" age , income ", numbered(12)).encode())
    assert [c["name"] for c in result.columns] == ["age", "income"]


def test_dates_and_booleans(tmp_path):
    rows = [
        f"2021-03-{i + 1:02d},2021-03-01 10:00:{i:02d},{'true' if i % 3 else 'false'},{i}"
        for i in range(12)
    ]
    result = ingest(tmp_path, "d.csv", csv("day,at,active,n", rows).encode())
    day, at, active = column(result, "day"), column(result, "at"), column(result, "active")
    assert day["kind"] == at["kind"] == "datetime"
    assert (day["min"], day["max"]) == ("2021-03-01T00:00:00", "2021-03-12T00:00:00")
    assert at["unique"] == 12
    assert active["kind"] == "boolean"
    assert active["top"] == [{"value": "True", "count": 8}, {"value": "False", "count": 4}]
    assert result.preview[0]["day"] == "2021-03-01T00:00:00"


# --- the profile ------------------------------------------------------------------------------


def test_profile_of_a_known_frame(tmp_path):
    amounts = [1.5, 2.5, None, 4.0, 4.0, 10.0, -3.0, None, 7.25, 0.0, 2.5, 100.0]
    colours = ["red", "blue", "red", None, "green", "red", "blue", "red", "", "blue", "red", "x"]
    counts = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
    rows = [
        f"{'' if a is None else a},{'' if c is None else c},{n}"
        for a, c, n in zip(amounts, colours, counts, strict=True)
    ]
    result = ingest(tmp_path, "known.csv", csv("amount,colour,count", rows).encode())
    assert (result.n_rows, result.n_cols) == (12, 3)

    present = [a for a in amounts if a is not None]
    amount = column(result, "amount")
    assert amount["dtype"] == "float64"
    assert amount["kind"] == "numeric"
    assert amount["missing"] == 2
    assert amount["inf_count"] == 0
    assert amount["unique"] == len(set(present)) == 8
    assert (amount["min"], amount["max"]) == (-3.0, 100.0)
    assert amount["mean"] == pytest.approx(statistics.fmean(present))
    assert amount["std"] == pytest.approx(statistics.stdev(present))
    histogram = amount["histogram"]
    assert len(histogram["edges"]) == len(histogram["counts"]) + 1
    assert histogram["edges"][0] == -3.0 and histogram["edges"][-1] == 100.0
    assert sum(histogram["counts"]) == 10
    assert histogram["counts"][-1] == 1  # 100 sits alone in the closed last bin

    colour = column(result, "colour")
    assert (colour["dtype"], colour["kind"]) == ("string", "categorical")
    assert colour["missing"] == 2  # an empty cell is missing, like in pandas
    assert colour["unique"] == 4
    assert colour["top"] == [
        {"value": "red", "count": 5},
        {"value": "blue", "count": 3},
        {"value": "green", "count": 1},
        {"value": "x", "count": 1},
    ]

    count = column(result, "count")
    assert (count["dtype"], count["missing"], count["unique"]) == ("int64", 0, 8)
    assert (count["min"], count["max"]) == (1, 9)
    # A small integer range gets one bin per value.
    assert count["histogram"]["edges"] == [x - 0.5 for x in range(1, 11)]
    assert count["histogram"]["counts"] == [counts.count(v) for v in range(1, 10)]


def test_profile_keeps_only_the_ten_most_frequent_values(tmp_path):
    rows = [f"{i},v{i % 15}" for i in range(150)] + [f"{i},v3" for i in range(150, 160)]
    result = ingest(tmp_path, "top.csv", csv("id,v", rows).encode())
    top = column(result, "v")["top"]
    assert len(top) == 10
    assert top[0] == {"value": "v3", "count": 20}
    assert all(entry["count"] == 10 for entry in top[1:])


def test_profile_and_preview_are_json_safe(tmp_path):
    rows = [
        f"{i},{'inf' if i == 0 else i / 3},2021-01-0{1 + i % 9},{'' if i == 1 else 'x'}"
        for i in range(25)
    ]
    result = ingest(tmp_path, "j.csv", csv("id,x,day,empty_once", rows).encode())
    json.dumps(result.columns, allow_nan=False)
    json.dumps(result.preview, allow_nan=False)
    assert len(result.preview) == 20
    assert result.preview[0]["x"] is None
    assert result.preview[1]["empty_once"] is None


def test_all_missing_column(tmp_path):
    result = ingest(tmp_path, "m.csv", csv("a,b", numbered(12, "{i},")).encode())
    b = column(result, "b")
    assert (b["missing"], b["unique"]) == (12, 0)
    assert "Column 'b' is empty in every row." in result.warnings


def test_hash_size_and_format_of_the_original(tmp_path):
    data = csv("a,b", numbered(12)).encode()
    result = ingest(tmp_path, "h.csv", data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.size_bytes == len(data)
    assert (result.source_format, result.encoding, result.delimiter) == ("csv", "utf-8", ",")


# --- Parquet ----------------------------------------------------------------------------------


def test_parquet_round_trip(tmp_path):
    n = 12
    table = pa.table(
        {
            "i": pa.array(range(n), pa.int32()),
            "f": pa.array([1.5, float("nan"), float("inf"), None] + [float(x) for x in range(8)]),
            "s": pa.array(["a", None] + ["b"] * 10),
            "flag": pa.array([True, False] * 6),
            "at": pa.array([1_600_000_000 + 3600 * k for k in range(n)], pa.timestamp("s")),
            "day": pa.array(range(18_000, 18_000 + n), pa.int32()).cast(pa.date32()),
            "cat": pa.array(["x", "y", "z"] * 4).dictionary_encode(),
        }
    )
    result = ingest(tmp_path, "t.parquet", parquet_bytes(table))
    assert (result.n_rows, result.n_cols) == (n, 7)
    assert (result.source_format, result.encoding, result.delimiter) == ("parquet", None, None)
    f = column(result, "f")
    assert (f["missing"], f["inf_count"]) == (3, 1)
    assert column(result, "cat")["dtype"] == "string"
    assert column(result, "day")["kind"] == "datetime"

    frame = read_parquet_frame(tmp_path / "out" / "data.parquet")
    assert list(frame.columns) == ["i", "f", "s", "flag", "at", "day", "cat"]
    assert frame["i"].tolist() == list(range(n))
    assert frame["f"].isna().tolist() == [False, True, True, True] + [False] * 8
    assert frame["s"].tolist()[:3] == ["a", None, "b"]
    assert frame["flag"].tolist() == [True, False] * 6
    assert str(frame["at"].dtype) == "datetime64[ns]"
    assert frame["at"].iloc[1].isoformat() == "2020-09-13T13:26:40"
    assert frame["day"].iloc[0].isoformat() == "2019-04-14T00:00:00"
    assert frame["cat"].tolist() == ["x", "y", "z"] * 4


def test_parquet_written_by_pandas_drops_its_index(tmp_path):
    table = pa.table(
        {"a": range(12), "b": [0.5] * 12, "__index_level_0__": [f"r{i}" for i in range(12)]}
    )
    result = ingest(tmp_path, "p.parquet", parquet_bytes(table))
    assert [c["name"] for c in result.columns] == ["a", "b"]
    assert any("pandas index" in w for w in result.warnings)


def test_csv_round_trip_through_the_normalised_copy(tmp_path):
    rows = [f"{i},{i / 4},{'yes' if i % 2 else 'no'}" for i in range(12)]
    ingest(tmp_path, "c.csv", csv("n,x,answer", rows).encode())
    frame = read_parquet_frame(tmp_path / "out" / "data.parquet")
    assert frame["n"].tolist() == list(range(12))
    assert frame["x"].tolist() == [i / 4 for i in range(12)]
    assert frame["answer"].tolist() == ["yes" if i % 2 else "no" for i in range(12)]


def test_web_process_import_stays_light(tmp_path):
    """The web process imports this: no Django, no PyCaret, and not even pandas at ingest."""
    data = tmp_path / "d.csv"
    data.write_text(csv("a,b", numbered(12)))
    code = (
        "import sys; from pathlib import Path; from engine.ingest import ingest_file; "
        f"ingest_file(source=Path({str(data)!r}), filename='d.csv', "
        f"parquet_out=Path({str(tmp_path / 'o.parquet')!r}), max_bytes=10**6); "
        "print(sorted(m for m in ('django', 'pycaret', 'pandas') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


# --- limits on what a file may become ---------------------------------------------------------


def ingest_limited(tmp_path: Path, name: str, data: bytes, limits: Limits) -> IngestResult:
    source = tmp_path / "upload" / name
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(data)
    return ingest_file(
        source=source,
        filename=name,
        parquet_out=tmp_path / "out" / "data.parquet",
        max_bytes=LIMIT,
        limits=limits,
    )


def refused(tmp_path: Path, name: str, data: bytes, limits: Limits = Limits()) -> IngestError:
    with pytest.raises(IngestError) as caught:
        ingest_limited(tmp_path, name, data, limits)
    assert not (tmp_path / "out" / "data.parquet").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == []
    return caught.value


def zstd_bomb(n_rows: int = 10_000_000) -> bytes:
    """About 87 KB that declares ten million rows: what a decompression bomb looks like."""
    zeros = np.zeros(n_rows, dtype=np.int64)
    table = pa.table({"a": zeros, "b": zeros.astype(np.float64)})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", row_group_size=n_rows)
    return sink.getvalue().to_pybytes()


def test_a_parquet_bomb_is_refused_from_its_footer_without_decoding(tmp_path, monkeypatch):
    bomb = zstd_bomb()
    assert len(bomb) < 200_000

    def no_decoding(*args, **kwargs):
        raise AssertionError("a page was decoded")

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", no_decoding)
    monkeypatch.setattr(pq.ParquetFile, "read", no_decoding)
    error = refused(tmp_path, "bomb.parquet", bomb)
    assert error.status == 413
    assert error.code == "too_many_rows"
    assert "10,000,000 rows" in error.message
    assert "2,000,000 (STUDIO_MAX_ROWS)" in error.message


def test_a_csv_over_the_row_limit_is_stopped_while_streaming(tmp_path):
    data = csv("a,b", numbered(500)).encode()
    error = refused(tmp_path, "long.csv", data, Limits(max_rows=100))
    assert (error.status, error.code) == (413, "too_many_rows")
    assert "more than 100 rows" in error.message and "STUDIO_MAX_ROWS" in error.message
    assert ingest_limited(tmp_path, "long.csv", data, Limits(max_rows=500)).n_rows == 500


def test_an_8000_column_csv_is_refused(tmp_path):
    header = ",".join(f"c{i}" for i in range(8_000))
    data = csv(header, [",".join(["1"] * 8_000)] * 12).encode()
    error = refused(tmp_path, "wide.csv", data)
    assert (error.status, error.code) == (413, "too_many_columns")
    assert error.message == (
        "The file has 8,000 columns; this studio's limit is 2,000 (STUDIO_MAX_COLUMNS)."
    )


def test_a_wide_parquet_file_is_refused(tmp_path):
    table = pa.table({f"c{i}": [1] * 12 for i in range(30)})
    error = refused(tmp_path, "wide.parquet", parquet_bytes(table), Limits(max_columns=20))
    assert (error.status, error.code) == (413, "too_many_columns")
    assert "30 columns" in error.message


@pytest.mark.parametrize("name", ["x.csv", "x.parquet"])
def test_a_column_name_over_the_limit_is_refused(tmp_path, name):
    long_name = "n" * 80_000
    if name.endswith(".csv"):
        data = csv(f"a,{long_name}", numbered(12)).encode()
    else:
        data = parquet_bytes(pa.table({"a": range(12), long_name: range(12)}))
    error = refused(tmp_path, name, data)
    assert (error.status, error.code) == (422, "column_name_too_long")
    assert "Column 2's name is 80,000 characters long" in error.message
    assert "255 (STUDIO_MAX_COLUMN_NAME)" in error.message
    assert len(error.message) < 300


def test_a_parquet_file_declaring_too_much_data_is_refused_from_its_footer(tmp_path):
    table = pa.table({"a": np.arange(50_000), "b": np.arange(50_000) * 0.5})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", use_dictionary=False)
    error = refused(
        tmp_path, "big.parquet", sink.getvalue().to_pybytes(), Limits(max_data_bytes=2**19)
    )
    assert (error.status, error.code) == (413, "too_large_uncompressed")
    assert "decompresses to " in error.message and "more than" not in error.message
    assert "512 KB (STUDIO_MAX_UNCOMPRESSED_MB)" in error.message


def test_data_that_only_grows_when_decoded_is_stopped_while_streaming(tmp_path):
    # One long value repeated: dictionary encoding keeps the footer's sizes tiny, and the
    # decoded column is 20,000 copies of it.
    table = pa.table({"a": np.arange(20_000), "s": ["x" * 10_000] * 20_000})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    data = sink.getvalue().to_pybytes()
    assert len(data) < 100_000
    error = refused(tmp_path, "grows.parquet", data, Limits(max_data_bytes=50 * 2**20))
    assert (error.status, error.code) == (413, "too_large_uncompressed")
    assert "more than 50 MB" in error.message
