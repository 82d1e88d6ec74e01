"""Activity data files checked against the limits before a parser reads them (R-8.6; issue 14, item 7).

An 8.9 MB CSV whose header has a million columns, or one 200 MB line, kept pandas busy for minutes;
a small .xlsx can declare a sheet of 16,384 columns. Here the file's size, its lines (length and
count, found with numpy, a chunk at a time), its header's columns and its cells (rows × columns) are
checked for a CSV; a workbook is checked part by part by `core.packages` before openpyxl opens it.
Each refusal is `accounting.bad_file` whose reason names the limit (`core.limit.<name>`).
"""

from __future__ import annotations

import codecs
import csv
import io
from contextlib import contextmanager

import numpy as np

from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.core.i18n import Message
from cms_workflows.core.limits import Limits, check, limits
from cms_workflows.core.packages import SheetExtent, open_package, scan_workbook

CHUNK = 1 << 24


@contextmanager
def as_bad_file():
    """Raise a limit or package refusal from `core` as the importer's file-level error, with the same reason."""
    try:
        yield
    except ValidationFailed as exc:
        if not exc.key.startswith(("core.limit.", "core.package.")):
            raise
        raise ValidationFailed("accounting.bad_file", reason=Message(exc.key, **exc.params),
                               problems=[problem("file", exc.key, **exc.params)]) from None


def decodable(data: bytes, encoding: str) -> bool:
    """Whether the whole file decodes, checked a chunk at a time (the text is not kept)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for start in range(0, len(data), CHUNK):
            decoder.decode(data[start:start + CHUNK], final=False)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def check_csv(data: bytes, current: Limits | None = None) -> None:
    """Line lengths, line count, header columns and cells of a CSV file, before it is decoded or parsed.
    Works on the bytes: newline, comma and quote are single bytes in UTF-8 and in GB18030 alike."""
    lim = current or limits()
    lines, start = 0, 0
    view = memoryview(data)
    for offset in range(0, len(data), CHUNK):
        chunk = np.frombuffer(view[offset:offset + CHUNK], dtype=np.uint8)
        ends = np.flatnonzero(chunk == 10) + offset
        if len(ends):
            lengths = np.diff(ends, prepend=start - 1) - 1
            too_long = np.flatnonzero(lengths > lim.max_line_bytes)
            if len(too_long):
                i = int(too_long[0])
                check("max_line_bytes", int(lengths[i]), lim, line=lines + i + 1)
            lines += len(ends)
            start = int(ends[-1]) + 1
        elif offset + len(chunk) - start > lim.max_line_bytes:  # a line longer than a whole chunk, so far
            check("max_line_bytes", offset + len(chunk) - start, lim, line=lines + 1)
        check("max_rows", lines, lim)
    if len(data) > start:
        check("max_line_bytes", len(data) - start, lim, line=lines + 1)
        lines += 1
    check("max_rows", lines, lim)
    end = data.find(b"\n")
    first = data[:end if end >= 0 else len(data)]  # within max_line_bytes, checked above
    try:
        columns = len(next(csv.reader(io.StringIO(first.decode("latin-1"), newline="")), []))
    except csv.Error:  # e.g. a lone CR in the header: pandas reports it; here the commas are an upper bound
        columns = first.count(b",") + 1
    check("max_columns", columns, lim)
    check("max_cells", columns * lines, lim)


def check_xlsx(data: bytes, current: Limits | None = None) -> SheetExtent | None:
    """The extent of a workbook whose parts are within the limits, or None when it is not a zip file."""
    lim = current or limits()
    z = open_package(data, streamed=lambda name: name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml",
                     current=lim)
    if z is None:
        return None
    with z:
        return scan_workbook(z, lim)
