"""Builders of hostile (and well-formed) activity data and Word files for the bounded-input tests (issue 14,
item 7). Large members are written a chunk at a time, so a 200 MB cell or a 300 MB part costs the test
little memory; what is built is what an attacker would upload."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

from cms_workflows.accounting import importing

MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?>'
          b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          b'<Default Extension="xml" ContentType="application/xml"/>'
          b'<Override PartName="/xl/workbook.xml" '
          b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          b'<Override PartName="/xl/worksheets/sheet1.xml" '
          b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
          b'<Override PartName="/xl/sharedStrings.xml" '
          b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
          b'</Types>')
_RELS = (b'<?xml version="1.0" encoding="UTF-8"?>'
         b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         b'<Relationship Id="rId1" Target="xl/workbook.xml" '
         b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>')
_WORKBOOK = (b'<?xml version="1.0" encoding="UTF-8"?><workbook ' + MAIN +
             b' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
             b'<sheet name="activity_data" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (b'<?xml version="1.0" encoding="UTF-8"?>'
                  b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                  b'<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
                  b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
                  b'<Relationship Id="rId2" Target="sharedStrings.xml" '
                  b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
                  b'</Relationships>')

GOOD_ROW = ["HN01", "U1", "GRID", "purchased_electricity", "electricity", "2023-01", 1000, "MWh", "meter", ""]


def _col(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def _cell(ref: str, value) -> bytes:
    if isinstance(value, (int, float)):
        return b'<c r="%s"><v>%s</v></c>' % (ref.encode(), repr(value).encode())
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").encode()
    return b'<c r="%s" t="inlineStr"><is><t>%s</t></is></c>' % (ref.encode(), text)


def row_xml(n: int, values: list) -> bytes:
    return b'<row r="%d">%s</row>' % (n, b"".join(_cell(f"{_col(i)}{n}", v) for i, v in enumerate(values)
                                                    if v is not None))


def sheet(rows: list[list], *, dimension: str | None = None, prolog: bytes = b"",
          extra: Iterable[bytes] = ()) -> Iterable[bytes]:
    """A worksheet: the header, `rows`, then any `extra` XML chunks inside sheetData."""
    yield b'<?xml version="1.0" encoding="UTF-8"?>' + prolog
    dim = b'<dimension ref="%s"/>' % (dimension or f"A1:J{len(rows) + 1}").encode()
    yield b"<worksheet " + MAIN + b">" + dim + b"<sheetData>" + row_xml(1, importing.FIELDS)
    for n, values in enumerate(rows, start=2):
        yield row_xml(n, values)
    yield from extra
    yield b"</sheetData></worksheet>"


def workbook(sheet_chunks: Iterable[bytes], strings_chunks: Iterable[bytes] | None = None,
             extra_parts: dict[str, bytes] | None = None) -> bytes:
    """A minimal .xlsx (the parts openpyxl needs), members written a chunk at a time."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in (("[Content_Types].xml", _TYPES), ("_rels/.rels", _RELS), ("xl/workbook.xml", _WORKBOOK),
                           ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS), *(extra_parts or {}).items()):
            z.writestr(name, body)
        strings = strings_chunks if strings_chunks is not None else [b"<sst " + MAIN + b' count="0" uniqueCount="0"/>']
        for name, chunks in (("xl/worksheets/sheet1.xml", sheet_chunks), ("xl/sharedStrings.xml", strings)):
            with z.open(name, "w", force_zip64=True) as fh:
                for chunk in chunks:
                    fh.write(chunk)
    return out.getvalue()


def repeated(head: bytes, unit: bytes, count: int, tail: bytes, batch: int = 1 << 16) -> Iterable[bytes]:
    """`head`, `unit` × count, `tail`, in chunks of `batch` units."""
    yield head
    block = unit * batch
    full, rest = divmod(count, batch)
    for _ in range(full):
        yield block
    yield unit * rest
    yield tail


def docx_with(extra_name: str, chunks: Iterable[bytes]) -> bytes:
    """A real Word file (python-docx) with one more member, written a chunk at a time."""
    from docx import Document

    buf = io.BytesIO()
    Document().save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        with zout.open(extra_name, "w", force_zip64=True) as fh:
            for chunk in chunks:
                fh.write(chunk)
    return out.getvalue()


def docx_replacing(name: str, body: bytes) -> bytes:
    """A real Word file with the member `name` replaced by `body`."""
    from docx import Document

    buf = io.BytesIO()
    Document().save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, body if info.filename == name else zin.read(info))
    return out.getvalue()
