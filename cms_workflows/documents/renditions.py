"""Marked copies of controlled files: what a download, print or export hands out (R-7.5, X-4; issue 13 item 1).

The file fixed at approval stays byte for byte as hashed, and the effective revision is handed out as
that file. Anything else is a *rendition*: the original's bytes, opened with python-docx and stamped at
the top of the body and in the header of every section with what the copy is, in the document's own
language —
- a superseded revision: 作废 / 已替代, by which revision and from which date;
- an obsolete one (the document withdrawn): 作废, from which date;
- a revision not yet effective (a draft, in review, approved and waiting): 草稿 / 未受控;
- a distributed copy of the effective revision: 受控副本 with its 分发号 and the position it went to.
Each rendition handed out is a `doc_rendition` row (its own SHA-256, the original's, the kind, who and
when) and a `documents.rendition.create` event, in one transaction. Its bytes follow from the original
and the stamp alone (zip entries dated as the original's), so the same rendition made again has the same
hash: `reproduce` remakes it, and the file store keeps only the original.

An evidence pack keeps the hashed originals (`files/<sha256>`): a verifier must be able to check each
against the register, whose entry (records/documents/<number>.json) says which revision is superseded,
by which and when; the renditions handed out are in the pack's events, hashes included.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import datetime

from docx import Document as open_docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.pkgwriter import PackageWriter
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Pt, RGBColor
from sqlmodel import select

from cms_workflows.access import Grant, Resource
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import Conflict, NotFound, ValidationFailed
from cms_workflows.core.filestore import sha256_bytes
from cms_workflows.core.i18n import normalize, t
from cms_workflows.documents import distribution, output, rendering
from cms_workflows.documents.models import Distribution, Document, Rendition, Revision
from cms_workflows.documents.queries import effective_revision, get_document, require_read, resource_of, revisions
from cms_workflows.documents.service import record_on
from cms_workflows.documents.states import RevisionStatus

SUPERSEDED, OBSOLETE, DRAFT, DISTRIBUTED = "superseded", "obsolete", "draft", "distributed_copy"
KINDS = (SUPERSEDED, OBSOLETE, DRAFT, DISTRIBUTED)
# a void or uncontrolled copy in red, a controlled copy in blue (as the usual rubber stamps are)
_COLOUR = {SUPERSEDED: "C00000", OBSOLETE: "C00000", DRAFT: "C00000", DISTRIBUTED: "1F3A93"}


@dataclass(frozen=True)
class Stamp:
    """What a rendition says about itself: a headline (作废 / 已替代) and a sentence naming the revision,
    its successor, the date or the copy's 分发号 and holder, and the original's hash."""

    kind: str
    headline: str
    detail: str


@dataclass(frozen=True)
class Handout:
    """The bytes a download hands out: the original (rendition None) or a marked copy."""

    revision: Revision
    data: bytes
    sha256: str
    rendition: Rendition | None = None

    @property
    def kind(self) -> str:
        return self.rendition.kind if self.rendition else "original"


# ------------------------------------------------------------------ what a copy is

def kind_of(rev: Revision) -> str | None:
    """The rendition a revision's download needs; None for the effective revision (the original itself)."""
    if rev.status == RevisionStatus.EFFECTIVE:
        return None
    if rev.status == RevisionStatus.SUPERSEDED:
        return SUPERSEDED
    if rev.status == RevisionStatus.OBSOLETE:
        return OBSOLETE
    return DRAFT  # draft, in review, approved but not yet effective, withdrawn: never in force


def stamp_for(uow, doc: Document, rev: Revision, original_sha256: str, copy: Distribution | None = None) -> Stamp:
    """The stamp of a revision's rendition, in the document's language."""
    locale = normalize(doc.language)
    if copy is not None:
        return Stamp(DISTRIBUTED, t("documents.rendition.headline.distributed_copy", locale, copy_no=copy.copy_no),
                     t("documents.rendition.detail.distributed_copy", locale, copy_no=copy.copy_no,
                       recipient=_recipient(uow, copy, locale), revision=rev.label,
                       date=rev.effective_date.isoformat() if rev.effective_date else "—", sha256=original_sha256))
    kind = kind_of(rev)
    if kind == SUPERSEDED:
        successor = next((r for r in revisions(uow, doc) if r.label == rev.superseded_by), None)
        day = successor.effective_date.isoformat() if successor and successor.effective_date else \
            output.local_date(rev.ended_at, uow)
        detail = t("documents.rendition.detail.superseded", locale, revision=rev.label, superseded_by=rev.superseded_by or "—",
                   date=day, sha256=original_sha256)
    elif kind == OBSOLETE:
        detail = t("documents.rendition.detail.obsolete", locale, revision=rev.label, date=output.local_date(rev.ended_at, uow),
                   reason=rev.end_reason or "—", sha256=original_sha256)
    else:
        detail = t("documents.rendition.detail.draft", locale, revision=rev.label, state=t(f"documents.state.{rev.status}", locale),
                   sha256=original_sha256)
    return Stamp(kind, t(f"documents.rendition.headline.{kind}", locale), detail)


def _recipient(uow, copy: Distribution, locale: str) -> str:
    position = output.position_name(copy.position, locale)
    site = output.site_name(uow, copy.site, locale) if copy.site != "*" else t("documents.rendition.every_site", locale)
    return t("documents.rendition.recipient", locale, position=position, site=site)


# ------------------------------------------------------------------ the stamped bytes

def stamped(original: bytes, stamp: Stamp, name: str = "") -> bytes:
    """A copy of a .docx with the stamp at the top of the body and of every header; the original's bytes are
    not touched. The same original and stamp give the same bytes (zip entries dated as the original's)."""
    try:
        document = open_docx(io.BytesIO(original))
        with zipfile.ZipFile(io.BytesIO(original)) as package:
            dated = datetime(*package.infolist()[0].date_time)
    except Exception:  # python-docx / lxml / zipfile raise many types for a file that is not Word's
        raise Conflict("documents.rendition.not_word", file=name) from None
    body = document.element.body
    body.insert(0, _paragraph(document.add_paragraph(), stamp, Pt(16), Pt(9)))
    for header in _headers(document):
        header._element.insert(0, _paragraph(header.add_paragraph(), stamp, Pt(10), Pt(7)))
    document.core_properties.content_status = stamp.headline
    return _save(document, dated)


def _headers(document) -> list:
    """The header of every section a reader sees: a section whose header follows the previous one's shows
    that one's stamp (giving it its own would drop the text it inherits)."""
    out = []
    even = document.settings.odd_and_even_pages_header_footer
    for index, section in enumerate(document.sections):
        for header, used in ((section.header, True), (section.first_page_header, section.different_first_page_header_footer),
                             (section.even_page_header, even)):
            if used and (index == 0 or not header.is_linked_to_previous):
                out.append(header)
    return out


def _paragraph(paragraph, stamp: Stamp, headline_size, detail_size):
    """The stamp as one boxed, centred paragraph: headline bold and large, then the sentence."""
    colour = _COLOUR[stamp.kind]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.keep_together = True
    for text, size, bold in ((stamp.headline, headline_size, True), (stamp.detail, detail_size, False)):
        run = paragraph.add_run(text)
        run.bold, run.font.size, run.font.color.rgb = bold, size, RGBColor.from_string(colour)
        if text is stamp.headline:
            run.add_break()
    borders = "".join(f'<w:{side} w:val="single" w:sz="12" w:space="2" w:color="{colour}"/>'
                      for side in ("top", "left", "bottom", "right"))
    paragraph._p.get_or_add_pPr().append(parse_xml(f"<w:pBdr {nsdecls('w')}>{borders}</w:pBdr>"))
    return paragraph._p


def _save(document, when: datetime) -> bytes:
    package = document.part.package
    for part in package.parts:
        part.before_marshal()
    out = io.BytesIO()
    writer = rendering.DatedZipWriter(out, when)
    PackageWriter._write_content_types_stream(writer, package.parts)
    PackageWriter._write_pkg_rels(writer, package.rels)
    PackageWriter._write_parts(writer, package.parts)
    writer.close()
    return out.getvalue()


# ------------------------------------------------------------------ handing out

def _revision(uow, doc: Document, label: str | None) -> Revision:
    revs = revisions(uow, doc)
    if label is None:
        return effective_revision(uow, doc) or revs[-1]
    rev = next((r for r in revs if r.label == label or r.label == label.upper()), None)
    if rev is None:
        raise NotFound("documents.unknown_revision", number=doc.number, revision=label)
    return rev


def _original(uow, doc: Document, rev: Revision) -> bytes:
    """The hashed original (the register's file); a revision never approved has its preview instead."""
    if rev.file_sha256 is not None:
        return output.stored_file(uow, doc, rev)
    if rev.source != "rendered":
        raise NotFound("documents.no_file", number=doc.number, revision=rev.label)
    return output.preview(uow, doc, rev)


def hand_out(uow, actor, number: str, label: str | None = None, *, copy_no: int | None = None) -> Handout:
    """What a download, print or export of a revision gives (R-7.5): the effective revision's original, whose
    hash is the register's; any other revision, or a distributed copy (`copy_no`), as a recorded rendition.
    Without a label: the effective revision, else the newest. Run in a unit of work."""
    doc = get_document(uow, number)
    require_read(uow, str(actor), doc)
    rev = _revision(uow, doc, label)
    if copy_no is None and kind_of(rev) is None:
        data = output.stored_file(uow, doc, rev)
        return Handout(rev, data, rev.file_sha256)
    return issue_rendition(uow, actor, number, rev.label, copy_no=copy_no)


def _target(uow, number: str, label: str, *, copy_no: int | None = None) -> Resource:
    """The revision and, for a distributed copy, the distribution it is (numbered first if it is not yet)."""
    doc = get_document(uow, number, lock=copy_no is not None)
    rev = _revision(uow, doc, label)
    copy, numbered = None, {}
    if copy_no is not None:
        if rev.status != RevisionStatus.EFFECTIVE:
            raise ValidationFailed("documents.rendition.copy_of_effective_only", number=number, revision=rev.label,
                                   state=t(f"documents.state.{rev.status}"))
        numbered = distribution.assign_copy_numbers(uow, doc, rev)
        copy = distribution.distributed_copy(uow, doc, rev, copy_no)
    return resource_of(doc, subject=(doc, rev, copy, numbered))


def _authorize(control, uow, actor, action: str, resource: Resource) -> Grant:
    """A marked copy of a revision: whoever may read the document. A distributed copy: the holders it reached,
    or whoever distributes the document (document control prints the copies it hands out)."""
    doc, _rev, copy, _numbered = resource.subject
    if copy is None or distribution.reaches(uow, copy, str(actor)):
        return require_read(uow, str(actor), doc)
    return control.decide(uow, actor, "distribute", resource_of(doc))


@command("documents.rendition.create", action="read", resource=_target, authorize=_authorize,
         audit_object="doc_document")
def issue_rendition(cmd: Command, number: str, label: str, *, copy_no: int | None = None) -> Handout:
    """Make a revision's marked copy and record it (its hash, the original's, kind, who, when) with its event."""
    uow = cmd.uow
    doc, rev, copy, numbered = cmd.subject
    original = _original(uow, doc, rev)
    original_sha = rev.file_sha256 or sha256_bytes(original)
    stamp = stamp_for(uow, doc, rev, original_sha, copy)
    data = stamped(original, stamp, f"{doc.number} {rev.label}")
    row = Rendition(revision_id=rev.id, kind=stamp.kind, sha256=sha256_bytes(data), size=len(data),
                    original_sha256=original_sha, locale=normalize(doc.language),
                    distribution_id=copy.id if copy else None, copy_no=copy.copy_no if copy else None,
                    issued_by=str(cmd.actor))
    uow.add(row)
    uow.flush()
    record_on(cmd, doc, rev, {"rendition_id": row.id, "kind": row.kind, "sha256": row.sha256,
                              "original_sha256": original_sha, "copy_no": row.copy_no,
                              "to": f"{copy.position}@{copy.site}" if copy else None,
                              "copy_numbers_given": numbered or None})
    return Handout(rev, data, row.sha256, row)


def reproduce(uow, rendition: Rendition) -> bytes:
    """A recorded rendition made again from its original (its hash is the recorded one while the revision's
    state and the stamp's texts are as they were)."""
    rev = uow.get(Revision, rendition.revision_id)
    doc = uow.get(Document, rev.document_id)
    copy = uow.get(Distribution, rendition.distribution_id) if rendition.distribution_id else None
    return stamped(_original(uow, doc, rev), stamp_for(uow, doc, rev, rendition.original_sha256, copy))


def renditions_of(uow, username: str, number: str) -> list[tuple[Revision, Rendition]]:
    """The renditions handed out of a document's revisions, oldest first."""
    doc = get_document(uow, number)
    require_read(uow, username, doc)
    rows = uow.exec(select(Revision, Rendition).join(Rendition, Rendition.revision_id == Revision.id)
                    .where(Revision.document_id == doc.id).order_by(Rendition.id))
    return list(rows)

