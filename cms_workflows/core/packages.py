"""Zip packages a user uploads (.docx, .xlsx), checked before any library unzips or parses them.

A 2 MB .docx can unzip to gigabytes; a 160 KB .xlsx can declare a sheet of 16,384 × 1,048,576 cells that
a reader fills in; a 1 MB sharedStrings.xml can hold millions of strings; an XML part can carry a DTD
with entities. So, before python-docx or openpyxl sees the bytes:

- the central directory is read: member count and every member's declared unzipped size, summed and
  per part (zipfile never unzips past a member's declared size: a member that lies fails its CRC);
- every XML part is streamed through expat (a chunk at a time, no text kept): a DTD is refused (Office
  never writes one; it is how entity bombs and external entities arrive), and for a workbook the
  sheet `<dimension ref>`, each row and cell reference, the number of cells, the shared strings (the
  `count` attribute and the entries themselves) and each cell's text length are counted against the
  limits (`core.limits`) as they go.

A refusal names the limit (`core.limit.<name>`) or the part (`core.package.*`).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from xml.parsers import expat

from cms_workflows.core.errors import ValidationFailed
from cms_workflows.core.limits import Limits, check, limits

CHUNK = 1 << 16
XML_SUFFIXES = (".xml", ".rels", ".vml")
_REF = re.compile(r"^\$?([A-Za-z]{1,7})\$?(\d{1,9})$")


class _RootSeen(Exception):
    """Internal: the root element started, so no DTD can follow (only the prolog was to be checked)."""


@dataclass
class SheetExtent:
    """What the scan of a workbook found: cells present and the largest column and row referenced."""

    cells: int = 0
    strings: int = 0
    max_column: int = 0
    max_row: int = 0


def open_package(data: bytes, *, streamed: Callable[[str], bool] = lambda _name: False,
                 current: Limits | None = None) -> zipfile.ZipFile | None:
    """The zip package with its declared sizes checked, or None when `data` is not a zip at all.
    `streamed(name)` says which parts the reader streams (the others are loaded whole, so `max_xml_part_bytes`)."""
    lim = current or limits()
    _check_directory(data, lim)
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        return None
    infos = z.infolist()
    check("max_zip_members", len(infos), lim)
    check("max_unzipped_bytes", sum(i.file_size for i in infos), lim)
    for info in infos:
        if info.filename.lower().endswith(XML_SUFFIXES) and not streamed(info.filename):
            check("max_xml_part_bytes", info.file_size, lim, part=info.filename)
    return z


def _check_directory(data: bytes, lim: Limits) -> None:
    """The member count and central directory size from the end record, before zipfile makes an object per
    member (a few MB of directory would otherwise be a million of them)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65535))
    if end < 0 or end + 22 > len(data):
        return  # not a zip: zipfile says so
    count, size = int.from_bytes(data[end + 10:end + 12], "little"), int.from_bytes(data[end + 12:end + 16], "little")
    end64 = data.rfind(b"PK\x06\x06", max(0, end - 65536), end)
    if end64 >= 0 and end64 + 48 <= len(data):  # zip64: the real figures are in its own end record
        count = max(count, int.from_bytes(data[end64 + 32:end64 + 40], "little"))
        size = max(size, int.from_bytes(data[end64 + 40:end64 + 48], "little"))
    check("max_zip_members", max(count, size // 512), lim)  # ~100 bytes an entry in Office files; 512 is ample


def check_xml_prologs(z: zipfile.ZipFile) -> None:
    """Refuse a DTD in any XML part (read up to each root element only)."""
    for info in z.infolist():
        if info.filename.lower().endswith(XML_SUFFIXES):
            _scan(z, info, _Counter(None, info.filename, SheetExtent()), root_only=True)


def scan_workbook(z: zipfile.ZipFile, current: Limits | None = None) -> SheetExtent:
    """Stream every XML part of a workbook, counting rows, columns, cells and shared strings as they come."""
    lim = current or limits()
    extent = SheetExtent()
    for info in z.infolist():
        if info.filename.lower().endswith(XML_SUFFIXES):
            _scan(z, info, _Counter(lim, info.filename, extent), root_only=False)
    return extent


def _scan(z: zipfile.ZipFile, info: zipfile.ZipInfo, counter: "_Counter", *, root_only: bool) -> None:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = False  # character data arrives in pieces: a 200 MB cell is counted, never held

    def doctype(*_args) -> None:
        raise ValidationFailed("core.package.dtd", part=info.filename)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    if root_only:
        def root(*_args) -> None:
            raise _RootSeen
        parser.StartElementHandler = root
    else:
        parser.StartElementHandler = counter.start
        parser.EndElementHandler = counter.end
        parser.CharacterDataHandler = counter.text
    try:
        with z.open(info) as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _RootSeen:
        return
    except expat.ExpatError as exc:
        raise ValidationFailed("core.package.bad_xml", part=info.filename, detail=expat.ErrorString(exc.code)) from None
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        # CRC mismatch (a member longer than it declared), encryption, an unknown compression method
        raise ValidationFailed("core.package.damaged", part=info.filename, detail=type(exc).__name__) from None


class _Counter:
    """The running checks of a workbook scan (SpreadsheetML element names, any namespace). Called for every
    element of every part, so the limits are plain attributes and the comparisons inline."""

    def __init__(self, lim: Limits | None, part: str, extent: SheetExtent) -> None:
        self.lim, self.part, self.extent = lim, part, extent
        if lim is not None:
            self.max_cells, self.max_strings, self.max_chars = lim.max_cells, lim.max_shared_strings, lim.max_cell_chars
        self.local: dict[str, str] = {}
        self.row = 0
        self.column = 0
        self.chars = -1  # characters of the current cell or shared string; -1 outside one

    def start(self, name: str, attrs: dict) -> None:
        local = self.local.get(name)
        if local is None:
            local = self.local[name] = name.rpartition(" ")[2]
        if local == "c":
            extent = self.extent
            extent.cells += 1
            if extent.cells > self.max_cells:
                check("max_cells", extent.cells, self.lim)
            ref = _ref(attrs.get("r"))
            self.column = ref[0] if ref else self.column + 1
            if self.column > extent.max_column:
                self._column(self.column)
            self.chars = 0
        elif local == "row":
            r = attrs.get("r", "")
            self.row = int(r) if r.isdigit() and len(r) < 10 else self.row + 1
            self.column = 0
            self._row(self.row)
        elif local == "si":
            self.extent.strings += 1
            if self.extent.strings > self.max_strings:
                check("max_shared_strings", self.extent.strings, self.lim)
            self.chars = 0
        elif local == "dimension":
            for ref in (attrs.get("ref") or "").split(":"):
                parsed = _ref(ref)
                if parsed:
                    self._column(parsed[0])
                    self._row(parsed[1])
        elif local == "sst":
            for attr in ("count", "uniqueCount"):
                value = attrs.get(attr, "")
                if value.isdigit():
                    check("max_shared_strings", int(value[:12]), self.lim)

    def end(self, name: str) -> None:
        if self.chars >= 0 and self.local.get(name) in ("c", "si"):
            self.chars = -1

    def text(self, data: str) -> None:
        if self.chars >= 0:
            self.chars += len(data)
            if self.chars > self.max_chars:
                check("max_cell_chars", self.chars, self.lim, part=self.part)

    def _column(self, column: int) -> None:
        check("max_columns", column, self.lim)
        self.extent.max_column = max(self.extent.max_column, column)

    def _row(self, row: int) -> None:
        check("max_rows", row, self.lim)
        self.extent.max_row = max(self.extent.max_row, row)


def _ref(ref: str | None) -> tuple[int, int] | None:
    """(column, row) of an A1 reference such as `XFD1048576`."""
    m = _REF.match(ref or "")
    if not m:
        return None
    column = 0
    for ch in m.group(1).upper():
        column = column * 26 + ord(ch) - 64
    return column, int(m.group(2))
