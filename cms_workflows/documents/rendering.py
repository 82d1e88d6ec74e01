"""Rendering controlled Word files from docxtpl templates (X-4).

The same revision always gives the same bytes: docxtpl's output differs between runs only
through the zip entries' timestamps and the core properties (FACTS.md), so both are set
from the revision's own data (the zip is written with fixed entry dates). A variable the template uses but the data lacks is an error
naming it, never an empty gap in a controlled document.
"""

from __future__ import annotations

import io
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

import jinja2
from jinja2.sandbox import SecurityError
from docx import Document as open_docx
from docx.opc.pkgwriter import PackageWriter
from docxtpl import DocxTemplate

from cms_workflows.core import limits, packages
from cms_workflows.core.errors import CmsError, ValidationFailed
from cms_workflows.core.i18n import Message, catalog, normalize
from cms_workflows.documents.template_sandbox import environment as sandbox_environment

LABEL_PREFIX = "documents.label."


class RenderError(CmsError):
    key = "documents.render_failed"
    http_status = 422


@dataclass(frozen=True)
class FileMeta:
    """What the file's core properties say; all from the revision, so renders are repeatable."""

    title: str
    number: str
    label: str
    seq: int
    author: str
    last_modified_by: str
    subject: str
    language: str
    created: datetime
    modified: datetime


def labels(locale: str | None) -> dict[str, str]:
    """The fixed texts of the templates (`L` in a template) for a locale."""
    return _labels(normalize(locale))


@lru_cache(maxsize=None)
def _labels(locale: str) -> dict[str, str]:
    return {k[len(LABEL_PREFIX):]: v for k, v in catalog(locale).items() if k.startswith(LABEL_PREFIX)}


@lru_cache(maxsize=64)
def template_variables(template_bytes: bytes) -> frozenset[str]:
    """Top-level variables a template uses (cached per template content)."""
    try:
        return frozenset(DocxTemplate(io.BytesIO(template_bytes)).get_undeclared_template_variables())
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError("documents.template_syntax", line=exc.lineno, reason=exc.message) from None
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ValidationFailed("documents.not_docx", reason=str(exc)) from None


# a template reads data and runs nothing else, whoever registered it (template_sandbox; issue 14 item 2)
_ENV = sandbox_environment()


def render(template_bytes: bytes, context: dict, meta: FileMeta) -> bytes:
    missing = sorted(template_variables(template_bytes) - set(context))
    if missing:
        raise RenderError("documents.missing_variables", variables=", ".join(missing))
    tpl = DocxTemplate(io.BytesIO(template_bytes))
    try:
        tpl.render(context, jinja_env=_ENV, autoescape=True)
    except SecurityError as exc:  # Jinja's sandbox refused an attribute or a call (template_sandbox)
        raise RenderError("documents.template_unsafe", reason=str(exc)[:300]) from None
    except RecursionError:  # a macro calling itself
        raise RenderError("documents.template_unsafe", reason=Message("documents.template_unsafe_reason.recursion")) from None
    except jinja2.UndefinedError as exc:  # a nested field, e.g. a list item without its key
        raise RenderError("documents.missing_field", reason=exc.message) from None
    except jinja2.TemplateError as exc:
        raise RenderError("documents.template_syntax", line=getattr(exc, "lineno", ""), reason=str(exc)) from None
    props = tpl.docx.core_properties
    props.title = meta.title
    props.identifier = meta.number
    props.version = meta.label
    props.revision = meta.seq
    props.author = meta.author
    props.last_modified_by = meta.last_modified_by
    props.subject = meta.subject
    props.language = meta.language
    props.created = _naive_utc(meta.created)
    props.modified = _naive_utc(meta.modified)
    props.last_printed = _naive_utc(meta.created)
    return _save_dated(tpl, meta.modified)


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=0)


class _DatedZipWriter:
    """python-docx's zip writer, but every entry dated `when` (python-docx stamps entries with the current time)."""

    def __init__(self, stream, when: datetime) -> None:
        stamp = _naive_utc(when).timetuple()[:6]
        self._stamp = stamp if stamp[0] >= 1980 else (1980, 1, 1, 0, 0, 0)
        self._zipf = zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED)

    def write(self, pack_uri, blob) -> None:
        info = zipfile.ZipInfo(pack_uri.membername, date_time=self._stamp)
        info.compress_type, info.external_attr, info.create_system = zipfile.ZIP_DEFLATED, 0o644 << 16, 3
        self._zipf.writestr(info, blob)

    def close(self) -> None:
        self._zipf.close()


def _save_dated(tpl: DocxTemplate, when: datetime) -> bytes:
    """What DocxTemplate.save → OpcPackage.save do, written once with fixed entry dates (compressing twice,
    save then rewrite, cost a quarter of the render time). We use no media replacement, so docxtpl's
    post-processing has nothing to do."""
    tpl.pre_processing()
    package = tpl.docx.part.package
    for part in package.parts:
        part.before_marshal()
    out = io.BytesIO()
    writer = _DatedZipWriter(out, when)
    PackageWriter._write_content_types_stream(writer, package.parts)
    PackageWriter._write_pkg_rels(writer, package.rels)
    PackageWriter._write_parts(writer, package.parts)
    writer.close()
    return out.getvalue()


def check_upload(data: bytes, filename: str = "") -> None:
    """Refuse an empty or oversized upload (any kind of file); the size limit is `max_upload_bytes`."""
    if not data:
        raise ValidationFailed("documents.not_docx", reason=Message("documents.upload.empty"), filename=filename)
    with _named_limit(filename):
        limits.check("max_upload_bytes", len(data))


@contextmanager
def _named_limit(filename: str):
    """A limit or package refusal from `core` as `documents.not_docx`, its reason naming the limit."""
    try:
        yield
    except ValidationFailed as exc:
        if not exc.key.startswith(("core.limit.", "core.package.")):
            raise
        raise ValidationFailed("documents.not_docx", reason=Message(exc.key, **exc.params), filename=filename) from None


def check_docx(data: bytes, filename: str = "") -> None:
    """Refuse an upload that is not a readable Word .docx file, with the reason. The package is checked before
    it is unzipped (declared sizes within `max_unzipped_bytes` and `max_xml_part_bytes`, no DTD in any part)."""
    check_upload(data, filename)
    with _named_limit(filename):
        package = packages.open_package(data)
        if package is not None:
            with package:
                packages.check_xml_prologs(package)
    if package is None:
        reason = Message("documents.upload.legacy_doc" if data[:4] == b"\xd0\xcf\x11\xe0" else "documents.upload.not_zip")
        raise ValidationFailed("documents.not_docx", reason=reason, filename=filename)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            bad = z.testzip()
            if bad is not None:
                raise ValidationFailed("documents.not_docx", reason=Message("documents.upload.damaged_entry", entry=bad),
                                       filename=filename)
            if "word/document.xml" not in z.namelist():
                raise ValidationFailed("documents.not_docx", reason=Message("documents.upload.no_document_xml"),
                                       filename=filename)
        open_docx(io.BytesIO(data))
    except ValidationFailed:
        raise
    except Exception as exc:  # python-docx / lxml raise many types for a damaged package
        raise ValidationFailed("documents.not_docx", reason=f"{type(exc).__name__}: {exc}"[:300], filename=filename) from None
