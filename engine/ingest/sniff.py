"""Guess a text file's encoding, delimiter and decimal mark from its first bytes."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from engine.ingest.errors import IngestError

SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

# Files people upload by mistake, recognised by their first bytes, with what to do instead.
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook (.xlsx); export the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls); export the sheet as CSV"),
    (b"PAR1", "a Parquet file; upload it with the .parquet extension"),
    (b"\x1f\x8b", "a gzip-compressed file; decompress it first"),
    (b"%PDF", "a PDF document"),
    (b"SQLite format 3\x00", "a SQLite database"),
)
# C0 control bytes, bar tab, newlines and form feeds: text has few or none, binary has many.
_CONTROL = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
_EXCEL_SEP = re.compile(r"sep=([,;\t|])[ \t]*\r?\n")
_COMMA_DECIMAL = re.compile(r"[+-]?\d+,\d+")
_DOT_DECIMAL = re.compile(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?")


@dataclass(frozen=True)
class TextFormat:
    encoding: str  # the name reported to users: utf-8, utf-8-sig, utf-16, cp1252, latin-1
    arrow_encoding: str  # the codec handed to pyarrow's reader
    delimiter: str
    decimal_comma: bool
    skip_rows: int = 0  # 1 when Excel's "sep=;" line comes first

    @property
    def python_encoding(self) -> str:
        """The codec for Python's own readers (csv, pandas); utf-8-sig drops a byte order mark."""
        return "utf-8-sig" if self.encoding == "utf-8-sig" else self.arrow_encoding


def read_head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(SNIFF_BYTES)


def sniff_text(path: Path, filename: str, size: int) -> TextFormat:
    """Decide how to read a text file, or raise IngestError if it is empty or not text."""
    head = read_head(path)
    truncated = len(head) < size
    encoding, arrow_encoding = _detect_encoding(head, filename, truncated)
    text = _decode_sample(head, arrow_encoding, truncated)
    if not text.strip(" \t\r\n\x0b\x0c\ufeff") and _rest_is_blank(path, arrow_encoding, truncated):
        raise IngestError("The file is empty.", code="empty_file")
    default = "\t" if Path(filename).suffix.lower() == ".tsv" else ","
    declared = _EXCEL_SEP.match(text)
    if declared:
        text = text[declared.end() :]
        delimiter = declared.group(1)
        rows = _split(text, delimiter, truncated)
    else:
        rows, delimiter = _sniff_delimiter(text, truncated, default)
    return TextFormat(
        encoding=encoding,
        arrow_encoding=arrow_encoding,
        delimiter=delimiter,
        decimal_comma=delimiter != "," and _uses_decimal_comma(rows[1:]),
        skip_rows=1 if declared else 0,
    )


def _detect_encoding(head: bytes, filename: str, truncated: bool) -> tuple[str, str]:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "utf8"  # pyarrow skips a UTF-8 byte order mark itself
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "utf-16"  # the codec reads the mark and picks the byte order
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise IngestError(f"'{filename}' looks like {what}.", code="not_text")
    bom_less = _utf16_without_bom(head)
    if bom_less:
        return "utf-16", bom_less
    controls = len(head) - len(head.translate(None, _CONTROL))
    if b"\x00" in head or controls > 0.05 * max(len(head), 1):
        raise IngestError(
            f"'{filename}' does not look like a text CSV file (it contains binary data). "
            "Upload a CSV, TSV or Parquet file.",
            code="not_text",
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=not truncated)
        return "utf-8", "utf8"
    except UnicodeDecodeError:
        pass
    # Windows-1252 is what "Latin-1" files from spreadsheets usually are: it only differs in
    # 0x80-0x9F, where Latin-1 has invisible control codes and cp1252 has the euro sign and quotes.
    if any(0x80 <= b <= 0x9F for b in head):
        try:
            head.decode("cp1252")
            return "cp1252", "cp1252"
        except UnicodeDecodeError:
            pass
    return "latin-1", "latin-1"


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text of mostly ASCII has a NUL in every other byte."""
    sample = head[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.4 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.4 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _decode_sample(head: bytes, arrow_encoding: str, truncated: bool) -> str:
    decoder = codecs.getincrementaldecoder(arrow_encoding)(errors="replace")
    text = decoder.decode(head, final=not truncated)
    return text.removeprefix("\ufeff")


def _rest_is_blank(path: Path, arrow_encoding: str, truncated: bool) -> bool:
    """Only for a head of pure whitespace: is the rest of the file whitespace too?"""
    if not truncated:
        return True
    decoder = codecs.getincrementaldecoder(arrow_encoding)(errors="replace")
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            if decoder.decode(chunk).strip(" \t\r\n\x0b\x0c\ufeff"):
                return False
    return True


def _sniff_delimiter(text: str, truncated: bool, default: str) -> tuple[list[list[str]], str]:
    """Pick the delimiter that splits the header into most agreeing, multi-field records."""
    best: tuple | None = None
    best_rows: list[list[str]] = []
    best_delimiter = default
    for rank, delimiter in enumerate(sorted(DELIMITERS, key=lambda d: d != default)):
        rows = _split(text, delimiter, truncated)
        if not rows:
            continue
        width = len(rows[0])
        body = rows[1:]
        agreement = sum(len(r) == width for r in body) / len(body) if body else 1.0
        score = (width > 1, round(agreement, 2), width, -rank)
        if best is None or score > best:
            best, best_rows, best_delimiter = score, rows, delimiter
    if best is not None and not best[0]:
        best_delimiter = default  # one column whatever we pick: let the column check say so
        best_rows = _split(text, default, truncated)
    return best_rows, best_delimiter


def _split(text: str, delimiter: str, truncated: bool) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    try:
        rows = [row for row in reader if row and any(cell.strip() for cell in row)]
    except csv.Error:
        return []
    if truncated and len(rows) > 1:
        rows.pop()  # the sample cut the last record short
    return rows[:200]


def _uses_decimal_comma(rows: list[list[str]]) -> bool:
    comma = dot = 0
    for row in rows:
        for cell in row:
            cell = cell.strip()
            if _COMMA_DECIMAL.fullmatch(cell):
                comma += 1
            elif _DOT_DECIMAL.fullmatch(cell):
                dot += 1
    return comma > dot
