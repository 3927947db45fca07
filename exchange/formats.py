"""The files' formats: CSV (UTF-8, `;`, a header of the guide's field names), TXT (tab-separated,
same header) and XLSX. Rows are written one at a time to a binary file (a temporary file on disk),
so no file is ever built in memory. Dates are dd/mm/yyyy, times hh:mm."""

import csv
import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

CSV_SEPARATOR = ";"
SPACES = str.maketrans("\t\r\n", "   ")

Value = str | None


def fmt_date(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


def fmt_time(value: dt.datetime | dt.time) -> str:
    return value.strftime("%H:%M")


def fmt_price(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


class CsvFile:
    """A CSV file: UTF-8 without a byte-order mark, `;` between fields, quoted only when needed."""

    def __init__(self, target: BinaryIO, header: Sequence[str]):
        self.text = io.TextIOWrapper(target, encoding="utf-8", newline="", write_through=False)
        self.writer = csv.writer(self.text, delimiter=CSV_SEPARATOR, lineterminator="\r\n")
        self.writer.writerow(header)

    def add(self, row: Sequence[Value]) -> None:
        self.writer.writerow(["" if v is None else v for v in row])

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


class TxtFile:
    """A tab-separated text file with no quoting: a tab or line break inside a value becomes a space."""

    def __init__(self, target: BinaryIO, header: Sequence[str]):
        self.text = io.TextIOWrapper(target, encoding="utf-8", newline="")
        self._line(header)

    def _line(self, values: Sequence[Value]) -> None:
        self.text.write("\t".join("" if v is None else v.translate(SPACES) for v in values) + "\r\n")

    def add(self, row: Sequence[Value]) -> None:
        self._line(row)

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


class XlsxFile:
    """An Excel workbook of one sheet, written in openpyxl's streaming mode. Every value is a text
    cell: phone numbers keep their leading + and zeros, and nothing is ever read as a formula."""

    def __init__(self, target: BinaryIO, header: Sequence[str], title: str):
        self.target = target
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(title)
        self.add(header)

    def add(self, row: Sequence[Value]) -> None:
        cells = []
        for value in row:
            cell = WriteOnlyCell(self.sheet, value="" if value is None else value)
            cell.data_type = "s"  # never "f": a value starting with "=" stays text
            cells.append(cell)
        self.sheet.append(cells)

    def close(self) -> None:
        self.book.save(self.target)
